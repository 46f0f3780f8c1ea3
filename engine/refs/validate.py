"""Check a reference file before it is used: the members its kind needs, shapes, finite
numbers, a symmetric positive semi-definite covariance (features/stats_check.py's rules).

Each refusal is one InputError naming the entry (or file) and what is wrong. ``check`` returns
a summary (what the file holds) for the cache's provenance and the picker.
"""
from __future__ import annotations

import zipfile

import numpy as np

from ..errors import InputError
from ..features.stats_check import check_count, gaussian_problem
from ..inputs.sources import STATS_DIM
from . import safe_pickle
from .catalogue import ADM_BATCH, CLEANFID_KID, EDM2_PICKLE, MOMENTS

SPATIAL_DIM = 2023      # sFID's spatial features (mixed_6/conv, 7 channels x 17 x 17)
DINOV2_DIM = 1024


def _npz(path, label: str, need: tuple) -> dict:
    """The arrays ``need`` of the npz at ``path`` (other members are not read)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise InputError(f"{label}: a single array, not an .npz archive")
            missing = [k for k in need if k not in z.files]
            if missing:
                raise InputError(f"{label} lacks {', '.join(missing)} (holds: {', '.join(z.files) or 'nothing'})")
            return {k: np.asarray(z[k]) for k in need}
    except InputError:
        raise
    except (OSError, ValueError, EOFError, TypeError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise InputError(f"cannot read {label} (truncated or not an .npz?): {str(exc) or type(exc).__name__}") from None


def _gaussian(mu, sigma, label: str, names=("mu", "sigma"), dim: int = STATS_DIM) -> None:
    why = gaussian_problem(mu, sigma, names)
    if why:
        raise InputError(f"{label}: {why}")
    if np.asarray(mu).shape != (dim,):
        raise InputError(f"{label}: '{names[0]}' has {np.asarray(mu).size} values, expected {dim}")


def _batch_images(path, label: str) -> int:
    """How many images an ADM batch's arr_0 holds, from its header (no image is read)."""
    from ..inputs import arrays
    try:
        member = arrays.npz_members(path).get("arr_0")
        if member is None:
            raise InputError("missing: an ADM reference batch holds its images in arr_0")
        info = arrays.inspect_member(path, member)
    except InputError as exc:
        raise InputError(f"{label}: its images (arr_0): {exc}") from None
    if info.shape[0] < 2:
        raise InputError(f"{label}: its images (arr_0) number {info.shape[0]}; at least 2 are needed")
    return int(info.shape[0])


def check(path, kind: str, label: str) -> dict:
    """Validate the reference file at ``path`` as ``kind``; a summary of what it holds."""
    if kind == MOMENTS:
        d = _npz(path, label, ("mu", "sigma"))
        _gaussian(d["mu"], d["sigma"], label)
        return {"holds": ["mu", "sigma"], "dim": STATS_DIM}
    if kind == ADM_BATCH:
        d = _npz(path, label, ("mu", "sigma", "mu_s", "sigma_s"))
        _gaussian(d["mu"], d["sigma"], label)
        _gaussian(d["mu_s"], d["sigma_s"], label, ("mu_s", "sigma_s"), SPATIAL_DIM)
        return {"holds": ["arr_0", "mu", "sigma", "mu_s", "sigma_s"], "dim": STATS_DIM,
                "batch_images": _batch_images(path, label)}
    if kind == CLEANFID_KID:
        feats = _npz(path, label, ("feats",))["feats"]
        if feats.ndim != 2 or feats.shape[1] != STATS_DIM or len(feats) < 2 or feats.dtype.kind != "f":
            raise InputError(f"{label}: 'feats' has shape {feats.shape} ({feats.dtype}); expected (n, "
                             f"{STATS_DIM}) floats, n >= 2")
        if not np.isfinite(feats).all():
            raise InputError(f"{label}: 'feats' holds non-finite values (NaN or infinity)")
        return {"holds": ["feats"], "dim": STATS_DIM, "feature_rows": int(len(feats))}
    if kind == EDM2_PICKLE:
        return edm2_summary(edm2_load(path, label))
    raise InputError(f"{label}: unknown reference kind {kind!r}")


EDM2_METRICS = {"fid": STATS_DIM, "fd_dinov2": DINOV2_DIM}


def edm2_load(path, label: str) -> dict:
    """EDM2's ``dict(num_images, fid=dict(mu, sigma), fd_dinov2=dict(mu, sigma))``, validated."""
    obj = safe_pickle.load(path, label)
    if not isinstance(obj, dict) or "fid" not in obj:
        raise InputError(f"{label}: not EDM2's statistics (a dict with 'fid' and 'fd_dinov2' of mu/sigma); "
                         f"got {type(obj).__name__}{' with ' + ', '.join(map(str, obj)) if isinstance(obj, dict) else ''}")
    for metric, dim in EDM2_METRICS.items():
        if metric not in obj:
            continue
        part = obj[metric]
        if not isinstance(part, dict) or "mu" not in part or "sigma" not in part:
            raise InputError(f"{label}: '{metric}' must hold 'mu' and 'sigma'")
        _gaussian(part["mu"], part["sigma"], label, (f"{metric}.mu", f"{metric}.sigma"), dim)
    if "num_images" in obj:
        check_count(obj["num_images"], label)
    return obj


def edm2_summary(obj: dict) -> dict:
    return {"holds": [m for m in EDM2_METRICS if m in obj], "dim": STATS_DIM,
            "n_images": int(obj["num_images"]) if "num_images" in obj else None}


def edm2_fid_arrays(obj: dict) -> dict:
    """The stats-file arrays of an EDM2 reference's FID statistics (what `compute` reads)."""
    out = {"mu": np.asarray(obj["fid"]["mu"], np.float64), "sigma": np.asarray(obj["fid"]["sigma"], np.float64)}
    if "num_images" in obj:
        out["n"] = np.int64(int(obj["num_images"]))
    return out
