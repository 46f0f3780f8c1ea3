"""Per-image tables for a finished run, from the feature cache: what the Samples view of a
stored run uses. A run records its cache entries' keys (``reference["features_key"]`` and
each source's ``extras["features_key"]``); when an entry is gone (cache cleared, cache off
for that run, sources changed) ``FeaturesGone`` says so, and ``recompute`` extracts the
features again into the cache."""
from __future__ import annotations

from ..errors import CancelToken, FeaturesGone
from ..features import cache as feature_cache
from ..inputs.sources import display_name, open_source
from . import scores as per_image_scores
from .table import PerImageTable

PAIR_METRICS = ("ssim", "mse", "psnr")


def _entry(key, what: str, root):
    if not key:
        raise FeaturesGone(f"the run kept no features of the {what} (feature cache off, or a stats file)")
    hit, _ = feature_cache.lookup(key, root)
    if hit is None:
        raise FeaturesGone(f"the features of the {what} are no longer in the feature cache")
    return hit


def _pair_metrics(result) -> tuple:
    return tuple(m for m in result.options.get("metrics", ()) if m in PAIR_METRICS)


def _add_pairs(table, result, index, cancel) -> None:
    from ..run import pairs
    from ..run.options import Options
    wanted = _pair_metrics(result)
    if not wanted:
        return
    ref_src, gen_src = open_source(result.reference["path"]), open_source(result.results[index].path)
    pr = pairs.compute(ref_src, gen_src, wanted + ("ssim",), Options(metrics=wanted), cancel=cancel)
    table.add_pairs(pr.per_image)


def load_table(result, index: int, cache_root=None, cancel: CancelToken | None = None) -> PerImageTable:
    """The per-image table of generated source ``index`` of ``result`` (a RunResult)."""
    src = result.results[index]
    ref = _entry(result.reference.get("features_key"), "reference " + display_name(result.reference["path"]),
                 cache_root)
    gen = _entry(src.extras.get("features_key"), "generated source " + display_name(src.path), cache_root)
    k = int(result.options.get("pr_k", per_image_scores.K))
    sc = per_image_scores.compute(ref.features, gen.features, k=k, cancel=cancel)
    table = PerImageTable(source=src.path, reference=result.reference["path"], files=list(gen.files),
                          real_files=list(ref.files), scores=sc)
    _add_pairs(table, result, index, cancel)
    table.add_clip_scores(src.clip_scores)     # the run's CLIPScore per image, with the prompts
    return table


def recompute(result, index: int, cache_root=None, model_path=None, cancel: CancelToken | None = None,
              on_event=None) -> PerImageTable:
    """Extract the features of the reference and of source ``index`` again (into the cache,
    with the run's preset) and return the table; records the new cache keys in ``result``."""
    from ..run.job import run
    from ..run.options import Options
    opts = Options(metrics=("fid",) + _pair_metrics(result), preset=result.preset,
                   pr_k=int(result.options.get("pr_k", per_image_scores.K)), per_image=True, use_cache=True,
                   live_fid_budget=0.0)
    fresh = run(result.reference["path"], [result.results[index].path], opts, cancel=cancel,
                cache_root=cache_root, model_path=model_path, on_event=on_event)
    src = fresh.results[0]
    if src.per_image is None:
        raise FeaturesGone("per-image scores could not be computed: " + "; ".join(src.warnings))
    if "features_key" in fresh.reference:
        result.reference["features_key"] = fresh.reference["features_key"]
    if "features_key" in src.extras:
        result.results[index].extras["features_key"] = src.extras["features_key"]
    src.per_image.add_clip_scores(result.results[index].clip_scores)
    return src.per_image
