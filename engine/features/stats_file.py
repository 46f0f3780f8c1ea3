"""Stats files (.npz): pytorch-fid's ``mu``/``sigma`` plus what makes them mergeable.

Written by ``stats``: ``mu``, ``sigma``, ``n`` (readable by pytorch-fid and clean-fid, which
ignore the other arrays), the raw float64 moments ``sum`` (Σx) and ``sum_outer`` (Σxxᵀ), and
provenance: ``preset``, ``model_sha256``, ``precision``, ``files_sha256`` (digest of the image
names used), ``shard``, and what ``--merge`` compares (merge_checks.py): ``content_sha256``
((n, 32) uint8, the sorted SHA-256 of every scored image's bytes), ``source_sha256`` and
``source_count`` (the sorted name list the shard was cut from) and ``slices`` ((k, 2) int64,
the [start, stop) ranges of that list this file covers). sFID's moments, when present, are
``n_s``, ``sum_s``, ``sum_outer_s`` with ``mu_s``/``sigma_s``. ``merge`` sums the moments of
disjoint sets: the mean and covariance equal one run over all the files to float64 rounding.
A file written with ``stats --cmmd`` also holds CMMD's embeddings (embeddings_file.py); merged
files concatenate them.
"""
from __future__ import annotations

import os
import zipfile

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from ..inputs.content_hash import listing_digest
from ..inputs.sources import display_name
from ..npz import write_npz
from . import embeddings_file, merge_checks
from .stats import merge_moments, moments_to_stats
from .stats_check import check_gaussian

# (count, Σx, Σxxᵀ, mean, covariance) key names per feature set
MOMENT_SETS = (("n", "sum", "sum_outer", "mu", "sigma"),
               ("n_s", "sum_s", "sum_outer_s", "mu_s", "sigma_s"))


def files_digest(names) -> str:
    return listing_digest(names)


def npz_path(path):
    """``path`` with ``.npz`` added when it lacks it, as ``np.savez`` does (the readers go by it)."""
    text = os.fspath(path)
    if text == "-" or text.lower().endswith(".npz"):      # "-" is refused as an output on its own
        return path
    return type(path)(text + ".npz")


def stats_arrays(moments, stats, *, preset: str, model_sha256: str, files, shard: str = "",
                 precision: str = "fp32", content=None, listing=None, bounds=None) -> dict:
    """The arrays of one stats file from an extraction's moments (n, Σx, Σxxᵀ) and stats.

    content: the (n, 32) uint8 digests of the images scored; listing: the sorted names the
    shard was cut from; bounds: the [start, stop) of that listing this file covers."""
    n, total, outer = moments
    out = {"mu": stats.mu, "sigma": stats.sigma, "n": np.int64(n), "sum": total, "sum_outer": outer,
           "preset": np.str_(preset), "model_sha256": np.str_(model_sha256), "precision": np.str_(precision),
           "files_sha256": np.str_(files_digest(files)), "shard": np.str_(shard or "")}
    if content is not None:
        out["content_sha256"] = np.asarray(content, np.uint8).reshape(-1, 32)
    if listing is not None:
        lo, hi = bounds if bounds is not None else (0, len(listing))
        out.update(source_sha256=np.str_(listing_digest(listing)), source_count=np.int64(len(listing)),
                   slices=np.array([[lo, hi]], np.int64))
    return out


def write(path, arrays: dict) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            write_npz(fh, arrays)


def _read(path) -> dict:
    label = display_name(str(path))
    try:
        with np.load(path, allow_pickle=False) as z:
            if not hasattr(z, "files"):
                raise InputError(f"{label} is not a stats file: it holds a single array")
            return {k: z[k] for k in z.files}
    except InputError:
        raise
    except (OSError, ValueError, EOFError, TypeError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        msg = str(exc) or type(exc).__name__
        raise InputError(f"cannot read stats file {label} (truncated or not an .npz?): {msg}") from None


def _text(d, key) -> str:
    if key == "precision" and key not in d:
        return "fp32"
    return str(d[key]) if key in d else ""


def merge(paths) -> dict:
    """Arrays of the stats file for the union of ``paths`` (disjoint sets, one model/preset)."""
    if len(paths) < 1:
        raise InputError("--merge needs at least one stats file")
    files = [(p, _read(p)) for p in paths]
    for p, d in files:
        missing = [k for k in ("n", "sum", "sum_outer") if k not in d]
        if missing:
            raise InputError(f"{display_name(str(p))} has no moments ({', '.join(missing)}): it was made by "
                             "another tool or an older version, and mean/covariance alone cannot be merged "
                             "exactly; recompute it with `stats`")
        merge_checks.check_input(p, d, MOMENT_SETS)
    first_path, first = files[0]
    for key, what in (("preset", "preset"), ("model_sha256", "model"), ("precision", "precision")):
        for p, d in files[1:]:
            if _text(d, key) != _text(first, key):
                raise InputError(f"cannot merge statistics made with another {what}: {first_path} has "
                                 f"{_text(first, key) or 'none recorded'}, {p} has {_text(d, key) or 'none recorded'}")
    merge_checks.check_disjoint(files)
    out = {"preset": np.str_(_text(first, "preset")), "model_sha256": np.str_(_text(first, "model_sha256")),
           "precision": np.str_(_text(first, "precision")),
           "merged_from": np.int64(len(files)), "shard": np.str_(""), **merge_checks.merged_provenance(files)}
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
        check_gaussian(stats.mu, stats.sigma, f"merged from {', '.join(map(str, paths))}", (mu_key, sigma_key))
        out.update({n_key: np.int64(n), s_key: total, o_key: outer, mu_key: stats.mu, sigma_key: stats.sigma})
    out.update(embeddings_file.merge(files))     # CMMD's reference embeddings, when written
    return out
