"""Stats files (.npz): pytorch-fid's ``mu``/``sigma`` plus what makes them mergeable.

Written by ``stats``: ``mu``, ``sigma``, ``n`` (readable by pytorch-fid and clean-fid), the raw
float64 moments ``sum`` (Σx) and ``sum_outer`` (Σxxᵀ), and provenance: ``preset``,
``model_sha256``, ``precision``, ``files_sha256`` (digest of the image names used, so the same shard given
twice is refused) and ``shard``. sFID's moments, when present, are ``n_s``, ``sum_s``,
``sum_outer_s`` with ``mu_s``/``sigma_s``. ``merge`` sums the moments of disjoint shards: the
mean and covariance equal one run over all the files to float64 rounding.
"""
from __future__ import annotations

import hashlib

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from ..npz import write_npz
from .stats import merge_moments, moments_to_stats

# (count, Σx, Σxxᵀ, mean, covariance) key names per feature set
MOMENT_SETS = (("n", "sum", "sum_outer", "mu", "sigma"),
               ("n_s", "sum_s", "sum_outer_s", "mu_s", "sigma_s"))


def files_digest(names) -> str:
    return hashlib.sha256("\n".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def stats_arrays(moments, stats, *, preset: str, model_sha256: str, files, shard: str = "",
                 precision: str = "fp32") -> dict:
    """The arrays of one stats file from an extraction's moments (n, Σx, Σxxᵀ) and stats."""
    n, total, outer = moments
    return {"mu": stats.mu, "sigma": stats.sigma, "n": np.int64(n), "sum": total, "sum_outer": outer,
            "preset": np.str_(preset), "model_sha256": np.str_(model_sha256), "precision": np.str_(precision),
            "files_sha256": np.str_(files_digest(files)), "shard": np.str_(shard or "")}


def write(path, arrays: dict) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            write_npz(fh, arrays)


def _read(path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read stats file {path}: {exc}") from None


def _text(d, key) -> str:
    if key == "precision" and key not in d:
        return "fp32"
    return str(d[key]) if key in d else ""


def merge(paths) -> dict:
    """Arrays of the stats file for the union of ``paths`` (disjoint shards of one model/preset)."""
    if len(paths) < 1:
        raise InputError("--merge needs at least one stats file")
    files = [(p, _read(p)) for p in paths]
    for p, d in files:
        missing = [k for k in ("n", "sum", "sum_outer") if k not in d]
        if missing:
            raise InputError(f"{p} has no moments ({', '.join(missing)}): it was made by another tool or an "
                             "older version, and mean/covariance alone cannot be merged exactly; "
                             "recompute it with `stats`")
    first_path, first = files[0]
    for key, what in (("preset", "preset"), ("model_sha256", "model"), ("precision", "precision")):
        for p, d in files[1:]:
            if _text(d, key) != _text(first, key):
                raise InputError(f"cannot merge statistics made with another {what}: {first_path} has "
                                 f"{_text(first, key) or 'none recorded'}, {p} has {_text(d, key) or 'none recorded'}")
    seen = {}
    for p, d in files:
        digest = _text(d, "files_sha256")
        if digest and digest in seen:
            raise InputError(f"{p} holds the same images as {seen[digest]}: merging it twice would count "
                             "them twice")
        seen[digest] = p
    out = {"preset": np.str_(_text(first, "preset")), "model_sha256": np.str_(_text(first, "model_sha256")),
           "precision": np.str_(_text(first, "precision")),
           "merged_from": np.int64(len(files)), "shard": np.str_("")}
    for n_key, s_key, o_key, mu_key, sigma_key in MOMENT_SETS:
        have = [n_key in d and s_key in d and o_key in d for _, d in files]
        if not any(have):
            continue
        if not all(have):
            lacking = next(p for (p, _), h in zip(files, have) if not h)
            raise InputError(f"{lacking} has no {s_key}/{o_key} while other files have them: "
                             "they were not made the same way")
        try:
            n, total, outer = merge_moments([(d[n_key], d[s_key], d[o_key]) for _, d in files])
            stats = moments_to_stats(n, total, outer)
        except ValueError as exc:
            raise InputError(f"cannot merge {', '.join(map(str, paths))}: {exc}") from None
        out.update({n_key: np.int64(n), s_key: total, o_key: outer, mu_key: stats.mu, sigma_key: stats.sigma})
    return out
