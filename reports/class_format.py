"""GAN-train / GAN-test as the window and the PDF report show them: the per-class rows, the
diversity sweep's curves and the notes (method, validation split, memorisation), all read
from a RunResult so that the two cannot disagree. No widgets here.

The engine gives accuracies as fractions in [0, 1]; they are shown as percentages.
"""
from __future__ import annotations

from dataclasses import dataclass

from .result_format import chosen_metrics, percent, short_name

CLASS_METRICS = ("gan-train", "gan-test")
# (key in per_class, header, option metric it belongs to; None: shown with either)
PER_CLASS_COLUMNS = (("gan_train", "GAN-train", "gan-train"), ("gan_test", "GAN-test", "gan-test"),
                     ("real_baseline", "Real baseline", None))
MEMORISATION_NOTE = ("GAN-test is well above the real baseline: the generated images are easier to "
                     "classify than real ones, typical of memorised training images (or of easy, "
                     "low-diversity ones)")


@dataclass(frozen=True)
class SweepCurve:
    source: int            # index in result.results (its colour)
    name: str              # the source's short name
    kind: str              # "gan_train" (fit on generated) | "real" (fit on real training images)
    xs: list               # images per class
    ys: list               # accuracy on real validation images, fraction


def wants_classes(result) -> bool:
    return bool(set(chosen_metrics(result)) & set(CLASS_METRICS))


def has_class_results(result) -> bool:
    """The run asked for GAN-train / GAN-test and at least one source has them."""
    return (result is not None and wants_classes(result)
            and any(r.metrics.get("per_class") for r in result.results))


def per_class_columns(result) -> list[tuple[str, str]]:
    """(key, header) of the accuracies the run asked for, plus the real baseline."""
    chosen = set(chosen_metrics(result))
    return [(key, header) for key, header, metric in PER_CLASS_COLUMNS if metric is None or metric in chosen]


def per_class_rows(result) -> list[tuple[int, str, dict]]:
    """(source index, class name, {key: accuracy}) for every source that has per-class values."""
    rows = []
    for i, r in enumerate(result.results):
        for name, values in (r.metrics.get("per_class") or {}).items():
            rows.append((i, name, dict(values)))
    return rows


def sweep_curves(result) -> list[SweepCurve]:
    """Per source, the GAN-train curve and the real-training-images curve; sizes where a
    curve could not be measured (None) are left out."""
    out = []
    for i, r in enumerate(result.results):
        sweep = r.metrics.get("sweep") or {}
        sizes = sweep.get("sizes") or []
        for kind in ("gan_train", "real"):
            pts = [(s, v) for s, v in zip(sizes, sweep.get(kind) or []) if v is not None]
            out.append(SweepCurve(i, short_name(r.path), kind, [s for s, _ in pts], [v for _, v in pts]))
    return [c for c in out if c.xs]


def curve_label(curve: SweepCurve) -> str:
    what = "GAN-train (fit on generated)" if curve.kind == "gan_train" else "real training images"
    return f"{curve.name}: {what}"


def method_line(result) -> str:
    """The engine's statement of the method (a linear probe, not the paper's CNN)."""
    for r in result.results:
        if r.extras.get("gan_method"):
            return str(r.extras["gan_method"])
    return ""


def split_line(result) -> str:
    """Where the real validation images came from, with the counts."""
    for r in result.results:
        split = r.extras.get("gan_split")
        if not split:
            continue
        counts = (f"{split.get('n_real_train', 0):,} real training / {split.get('n_real_val', 0):,} "
                  "real validation images")
        if split.get("val_fraction") is None:
            return f"Real validation: a separate folder ({counts})."
        frac = float(split["val_fraction"])
        return (f"Real validation: a seeded stratified {round(100 * (1 - frac))}/{round(100 * frac)} "
                f"split of the reference (seed {split.get('seed', 0)}; {counts}).")
    return ""


def chance_line(result) -> str:
    for r in result.results:
        chance = r.extras.get("gan_chance")
        if chance:
            return f"Chance level: {percent(chance)} ({round(1 / chance)} classes)."
    return ""


def memorisation_lines(result) -> list[str]:
    """One line per source whose GAN-test is flagged as well above the real baseline."""
    out = []
    for r in result.results:
        if r.extras.get("gan_memorisation_flag"):
            m = r.metrics
            out.append(f"{short_name(r.path)}: GAN-test {percent(m.get('gan_test'))} vs real baseline "
                       f"{percent(m.get('real_baseline'))}. {MEMORISATION_NOTE}.")
    return out


def not_computed_lines(result) -> list[str]:
    """Sources that asked for GAN-train / GAN-test but got none, with the engine's reason."""
    out = []
    for r in result.results:
        if r.metrics.get("per_class"):
            continue
        ours = [w for w in r.warnings if w.lower().startswith("gan-train/test")]
        why = next((w for w in ours if "not computed" in w or " need " in w), ours[0] if ours else
                   "GAN-train/test not computed")
        out.append(f"{short_name(r.path)}: {why}")
    return out
