"""What extracting one source yields, shared by every executor (local threads, Ray).

The pipeline and the Ray executor both return an ``Extracted`` and draw the live FID curve
with ``RunningFid``; they live here, below both, so neither executor imports the other.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..metrics import fid as fid_metric
from .stats import MomentAccumulator

FEATURE_DIM = 2048
SPATIAL_DIM = 2023  # sFID: 7 channels x 17 x 17 of mixed_6's first branch


@dataclass
class Extracted:
    n: int
    files: list
    skipped: list              # [(file, reason)]
    notes: list                # [(file, note)]
    stats: fid_metric.GaussianStats | None
    features: np.ndarray       # memory-mapped
    logits: np.ndarray | None
    from_cache: bool = False
    cache_note: str | None = None
    run_note: str | None = None    # the cache could not be written (said once per run)
    workdir: object = None     # set when not cached: the job removes it when done
    final_fid: object = None   # FidValue against the reference stats, computed at the end
    moments: tuple | None = None  # raw float64 (n, Σx, Σxxᵀ), for merging shards

    def raw_moments(self) -> tuple:
        """(n, Σx, Σxxᵀ); recomputed from the stored features for cache entries without them
        (same blocks in the same order as the pipeline, so the same sums)."""
        if self.moments is None:
            acc = MomentAccumulator(self.features.shape[1])
            for s in range(0, self.n, 4096):
                acc.add(self.features[s:s + 4096])
            self.moments = acc.moments()
        return self.moments
    spatial_stats: fid_metric.GaussianStats | None = None  # sFID moments, when asked for
    cache_key: str | None = None   # the feature cache entry's key (None when not cached)


class RunningFid:
    """Running FID against reference stats for the live curve, at a bounded cost."""

    def __init__(self, ref_stats, budget: float = 0.1):
        self.ref = ref_stats
        self.budget = budget
        self.last_t = time.perf_counter()
        self.cost = 0.2
        self.value = None
        self.final = None   # the FidValue computed on the complete set (reused by the job)
        self.next_n = 32

    def maybe(self, acc: MomentAccumulator, n: int, final: bool = False):
        if self.ref is None or n < 2:
            return None
        now = time.perf_counter()
        # 32, 64 and 128 images give small sets a curve; beyond that the time rule keeps the
        # cost under ``budget`` of the run (0: only the final value)
        early = self.budget >= 0.05 and n >= self.next_n and self.next_n <= 128
        periodic = self.budget > 0 and now - self.last_t >= max(2.0, self.cost / self.budget)
        due = early or periodic
        if not final and not due:
            return None
        while self.next_n <= n:
            self.next_n *= 2
        t = time.perf_counter()
        value = fid_metric.compute(self.ref, acc.stats())
        self.value = value.fid
        if final:
            self.final = value
        self.cost = time.perf_counter() - t
        self.last_t = time.perf_counter()
        return self.value
