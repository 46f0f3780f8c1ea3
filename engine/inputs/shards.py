"""``--shard i/n``: a deterministic partition of a source's sorted file list.

Shard i of n (1-based, as SLURM array indices usually are) holds the contiguous slice
``[(i-1)·N/n, i·N/n)`` of the sorted list of image names (refused zip members included, so
every name belongs to exactly one shard). The same folder gives the same shards on any
machine; the shards' statistics merge with ``stats --merge`` into those of the whole set.
"""
from __future__ import annotations

import dataclasses

from ..errors import OptionError


def parse_shard(text) -> tuple[int, int] | None:
    """"i/n" -> (i, n); "" or None -> None; anything else is an OptionError naming --shard."""
    if text in (None, ""):
        return None
    try:
        i_text, n_text = str(text).split("/")
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise OptionError(f"--shard must look like i/n (e.g. 3/8), got {text!r}") from None
    if n < 1 or not 1 <= i <= n:
        raise OptionError(f"--shard {text}: need 1 <= i <= n (shards are numbered from 1)")
    return i, n


def shard_bounds(total: int, i: int, n: int) -> tuple[int, int]:
    return (i - 1) * total // n, i * total // n


def apply_shard(source, shard):
    """A copy of ``source`` holding only shard (i, n) of its images; stats sources unchanged."""
    if shard is None or source.kind == "stats":
        return source
    i, n = shard
    refused = dict(source.refused)
    names = sorted(set(source.files) | set(refused))
    lo, hi = shard_bounds(len(names), i, n)
    mine = set(names[lo:hi])
    return dataclasses.replace(source, files=[f for f in source.files if f in mine],
                               refused=[(f, r) for f, r in source.refused if f in mine])
