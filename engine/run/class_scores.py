"""GAN-train / GAN-test glue: class labels from sub-folder names, over features already extracted.

A source's first path component is its class (``real/cat/1.png`` -> ``cat``). The metric
itself lives in engine/metrics/gan_classes.py; this module only maps files to labels and
collects layout problems into the result's warnings.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from ..metrics import gan_classes


def class_of(name: str) -> str | None:
    return name.split("/", 1)[0] if "/" in name else None


def labels_for(files, class_names):
    """(row indices with a known class, their integer labels)."""
    index = {c: i for i, c in enumerate(class_names)}
    rows, labels = [], []
    for row, name in enumerate(files):
        c = class_of(name)
        if c in index:
            rows.append(row)
            labels.append(index[c])
    return np.asarray(rows, dtype=np.int64), np.asarray(labels, dtype=np.int64)


def has_class_folders(files) -> bool:
    """At least two classes: what a UI checks before offering GAN-train / GAN-test."""
    return len({class_of(f) for f in files} - {None}) >= 2


def compute(ref, gen, opts, val=None, cancel=None) -> tuple[dict, list, dict]:
    """(metrics update, warnings, extras) for GAN-train / GAN-test of ``gen`` against ``ref``."""
    real_counts = Counter(c for c in map(class_of, ref.files) if c)
    gen_counts = Counter(c for c in map(class_of, gen.files) if c)
    val_counts = Counter(c for c in map(class_of, val.files) if c) if val is not None else None
    warnings = []
    loose = sum(1 for f in gen.files if class_of(f) is None) + sum(1 for f in ref.files if class_of(f) is None)
    if loose:
        warnings.append(f"GAN-train/test: {loose} image(s) not inside a class sub-folder were left out")
    warnings += [f"GAN-train/test: {p}" for p in gan_classes.check_classes(
        real_counts, gen_counts, val_counts, val_fraction=opts.gan_val_fraction)]
    class_names = sorted(real_counts)
    r_rows, r_lab = labels_for(ref.files, class_names)
    g_rows, g_lab = labels_for(gen.files, class_names)
    kwargs = {}
    if val is not None:
        v_rows, v_lab = labels_for(val.files, class_names)
        kwargs = {"val_feats": np.asarray(val.features)[v_rows], "val_labels": v_lab}
    res = gan_classes.compute(
        np.asarray(ref.features)[r_rows], r_lab, np.asarray(gen.features)[g_rows], g_lab, class_names,
        val_fraction=opts.gan_val_fraction, seed=opts.seed,
        progress=(lambda f: cancel.check()) if cancel is not None else None, **kwargs)
    d = res.to_dict()
    warnings += list(res.warnings)
    if res.memorisation_flag:
        warnings.append("GAN-test is well above the real baseline: generated images may be memorised "
                        "training images (or easy, low-diversity ones)")
    metrics = {"gan_train": d["gan_train"], "gan_test": d["gan_test"], "real_baseline": d["real_baseline"],
               "per_class": d["per_class"], "sweep": d["sweep"]}
    extras = {"gan_method": d["method"], "gan_split": d["split"], "gan_chance": d["chance"],
              "gan_memorisation_flag": d["memorisation_flag"]}
    return metrics, warnings, extras
