"""ADM reference batches: which reference numbers come from precomputed statistics, which
from images.

A reference batch in the layout of guided-diffusion's evaluator holds images (``arr_0``) and
precomputed ``mu``/``sigma`` (pool3) and ``mu_s``/``sigma_s`` (spatial, for sFID). As ADM does,
FID and sFID use the precomputed statistics and the metrics that need per-image features
(KID, precision/recall, GAN-train/test) use the images; the result says which came from where.
"""
from __future__ import annotations

from ..inputs.sources import display_name
from ..metrics import fid as fid_metric


def file_stats(s: dict):
    """(pool3 stats, spatial stats or None) from a stats file's or ADM batch's arrays."""
    spatial = (fid_metric.GaussianStats(s["mu_s"], s["sigma_s"], s.get("n"))
               if "mu_s" in s and "sigma_s" in s else None)
    return fid_metric.GaussianStats(s["mu"], s["sigma"], s.get("n")), spatial


REF_IMAGE_METRICS = ("kid", "pr", "gan-train", "gan-test", "fd_dinov2", "clip_fid", "cmmd")


def adm_reference(opts, ref_src, images, stats_only):
    """An ADM reference batch as the reference, for the CLI and the Python API alike: FID and
    sFID from its precomputed mu/sigma (mu_s/sigma_s); its images, ``images()``, extracted
    only when a metric needs them (else ``stats_only(ref_src)``)."""
    ref = images() if any(m in opts.metrics for m in REF_IMAGE_METRICS) else stats_only(ref_src)
    ref.stats, spatial = file_stats(ref_src.stats)
    if spatial is not None or not hasattr(ref, "spatial_stats"):
        ref.spatial_stats = spatial   # without mu_s/sigma_s, sFID uses the images
    return ref


def provenance_of(opts, ref_src, ref) -> tuple[dict, list]:
    """Which reference numbers came from precomputed arrays and which from images."""
    name = display_name(ref_src.path.name)
    pre = ref_src.kind == "stats" or (ref_src.kind == "array" and ref_src.stats is not None)
    images = f"{ref.n} images" if getattr(ref, "features", None) is not None else None
    out, notes = {}, []
    for metric, arrays in (("fid", "mu, sigma"), ("sfid", "mu_s, sigma_s")):
        if metric not in opts.metrics:
            continue
        if pre and (metric == "fid" or "mu_s" in ref_src.stats):
            out[metric] = f"precomputed {arrays} in {name}"
        elif images:
            out[metric] = f"computed from {images}"
    for metric in REF_IMAGE_METRICS:
        if metric in opts.metrics and images:
            out[metric] = f"computed from {images}"
    if ref_src.kind == "array" and ref_src.stats is not None:
        used = [m for m, v in out.items() if v.startswith("precomputed")]
        imgs = [m for m, v in out.items() if not v.startswith("precomputed")]
        notes.append(f"reference {name}: {'/'.join(used) or 'nothing'} from its precomputed statistics"
                     + (f", {'/'.join(imgs)} from its {images}" if imgs and images else ""))
        if opts.preset != "tensorflow":
            notes.append(f"reference statistics in {name} are precomputed (ADM batches use the TF Inception "
                         f"graph, our 'tensorflow' preset); with preset {opts.preset!r} the generated "
                         "features follow another convention and FID/sFID are not comparable")
    return out, notes
