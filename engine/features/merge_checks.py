"""What ``stats --merge`` checks before it adds moments: each file's numbers, and that the
files hold disjoint sets of images.

Overlap is judged by content, not by name: every stats file records the SHA-256 of each scored
image (``content_sha256``), so two shards of one folder that overlap (1/2 with 1/3, a shard
with the whole set) are refused, while files from different folders that share file names
merge. One exception keeps honest duplicates: two files cut from the same listing
(``source_sha256``) whose ranges of it (``slices``) do not overlap are disjoint by
construction, so an image stored twice in that source (two files, same bytes) is counted
twice, as one run over the whole source counts it. Shard specs alone never refuse a merge:
two folders with the same file names have the same listing, and their parts may well overlap
by position while holding different images.

Files without content hashes (written before they were recorded) are refused: their names
digest cannot tell overlapping shards of different sizes apart, nor a folder from its copy,
and a merge that may count images twice gives a wrong number with no sign of it.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..inputs.sources import display_name
from .stats_check import SYMMETRY_RTOL, check_gaussian, count_problem

MU_RTOL = 1e-6    # the stored mean against Σx / n: both come from the same float64 sums


def _label(p) -> str:
    return display_name(str(p))


def check_input(p, d: dict, sets) -> None:
    """One merge input's numbers: whole counts >= 2, finite moments of matching sizes, a
    symmetric Σxxᵀ, a mean that is Σx / n, and a stored mean/covariance that pass stats_check."""
    label = _label(p)
    for n_key, s_key, o_key, mu_key, sigma_key in sets:
        if n_key not in d:
            continue
        why = count_problem(d[n_key])
        if why:
            raise InputError(f"stats file {label}: {why.replace(repr('n'), repr(n_key))}")
        if s_key not in d or o_key not in d:
            continue
        n, total, outer = int(d[n_key]), np.asarray(d[s_key]), np.asarray(d[o_key])
        if total.ndim != 1 or outer.shape != (total.size, total.size):
            raise InputError(f"stats file {label}: {s_key} {total.shape} and {o_key} {outer.shape} "
                             "do not fit together")
        for key, a in ((s_key, total), (o_key, outer)):
            if not np.issubdtype(a.dtype, np.floating) or not np.isfinite(a).all():
                raise InputError(f"stats file {label}: '{key}' must hold finite real numbers")
        scale = float(np.abs(outer).max()) if outer.size else 0.0
        if scale and float(np.abs(outer - outer.T).max()) > SYMMETRY_RTOL * scale:
            raise InputError(f"stats file {label}: '{o_key}' is not symmetric: not a sum of outer products")
        if mu_key in d and sigma_key in d:
            check_gaussian(d[mu_key], d[sigma_key], label, names=(mu_key, sigma_key))
            mu = np.asarray(d[mu_key], np.float64)
            if mu.shape != total.shape or np.abs(total / n - mu).max() > MU_RTOL * max(1e-12, np.abs(mu).max()):
                raise InputError(f"stats file {label}: {mu_key} is not {s_key} / {n_key}: its counts and "
                                 "moments do not belong together")


def _content(d):
    c = d.get("content_sha256")
    if c is None:
        return None
    c = np.asarray(c)
    if c.dtype != np.uint8 or c.ndim != 2 or c.shape[1] != 32:
        return False
    return c


def _slices(d):
    s = np.asarray(d.get("slices", np.zeros((0, 2), np.int64)))
    if s.ndim != 2 or s.shape[1] != 2 or not np.issubdtype(s.dtype, np.integer):
        return np.zeros((0, 2), np.int64)
    return s


def _ranges_overlap(a, b) -> bool:
    return any(max(lo1, lo2) < min(hi1, hi2) for lo1, hi1 in a for lo2, hi2 in b)


def check_disjoint(files) -> None:
    """Refuse files whose image sets overlap (see the module docstring)."""
    digests = []
    for p, d in files:
        c = _content(d)
        if c is None:
            raise InputError(f"{_label(p)} records no per-image content hashes (made by an older version): "
                             "whether it overlaps the other files cannot be told, and overlapping images "
                             "would be counted twice; recompute it with `stats`")
        if c is False or len(c) != int(d["n"]):
            raise InputError(f"stats file {_label(p)}: 'content_sha256' does not list one SHA-256 per "
                             "image ('n' of them)")
        digests.append({bytes(row) for row in c})
    for i in range(len(files)):
        for j in range(i + 1, len(files)):
            (p, dp), (q, dq) = files[i], files[j]
            common = len(digests[i] & digests[j])
            if not common:
                continue     # disjoint by content, whatever the names or shard specs say
            same_listing = "source_sha256" in dp and str(dp["source_sha256"]) == str(dq.get("source_sha256", ""))
            sp, sq = _slices(dp), _slices(dq)
            if same_listing and len(sp) and len(sq):
                if not _ranges_overlap(sp, sq):
                    continue  # disjoint parts of one listing: the shared bytes are copies in the source
                raise InputError(f"{_label(q)} and {_label(p)} are overlapping parts of the same source "
                                 f"(shards {_text(dp, 'shard')} and {_text(dq, 'shard')}, or a file that "
                                 f"holds them): they hold {common} of the same images, which merging would count twice")
            raise InputError(f"{_label(q)} and {_label(p)} hold {common} of the same images (same "
                             "content, whatever the names): merging would count them twice")


def _text(d, key) -> str:
    return (str(d[key]) or "whole set") if key in d else "none recorded"


def merged_provenance(files) -> dict:
    """content_sha256 of the union; the listing and its ranges when all files share one."""
    content = np.concatenate([np.asarray(d["content_sha256"], np.uint8) for _, d in files])
    order = np.lexsort(content.T[::-1])
    out = {"content_sha256": content[order]}
    listings = {str(d.get("source_sha256", "")) for _, d in files}
    if len(listings) == 1 and "" not in listings:
        _, first = files[0]
        slices = np.concatenate([_slices(d) for _, d in files])
        out.update(source_sha256=np.str_(listings.pop()), source_count=np.int64(first["source_count"]),
                   slices=slices[np.argsort(slices[:, 0], kind="stable")])
    return out
