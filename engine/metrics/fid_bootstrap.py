"""A seeded bootstrap interval for FID: how much FID would move with another draw of the
same number of generated images.

Each resample draws N of the N generated images with replacement (seeded); it is the
weighted set "image i counted c_i times" (fid_resample), so no features are copied. The
reference statistics are held fixed. Resampling repeats images, which by itself raises FID
(the same 1/N bias FID∞ removes), so the resampled FIDs sit above the full-set FID; their
2.5 and 97.5 percentiles are therefore taken relative to their mean and placed around the
full-set FID (a bias-corrected percentile interval for the expected FID at this N).

Cost per resample: N·d² flops for the weighted covariance (d = 2048) plus one FID
(2·d³ + a d x d eigendecomposition); with fewer than d distinct images a k x k
eigenproblem replaces both. Times are recorded in the result.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fid import GaussianStats
from .fid_resample import WeightedFid

LEVEL = 0.95


@dataclass(frozen=True)
class FidInterval:
    low: float
    high: float
    fid: float              # the full-set FID the interval is placed around
    resampled_mean: float   # mean of the resampled FIDs (before recentring)
    resampled_std: float
    resamples: int


def compute(ref: GaussianStats, feats, fid: float, resamples: int = 50, seed: int = 0,
            cancel=None) -> FidInterval:
    n = len(feats)
    if n < 2:
        raise ValueError("a bootstrap interval needs at least 2 generated images")
    if resamples < 2:
        raise ValueError(f"option fid_ci_resamples must be at least 2, got {resamples}")
    rng = np.random.default_rng(seed)
    fid_of = WeightedFid(ref, feats)
    values = []
    for _ in range(resamples):
        if cancel is not None:
            cancel.check()
        counts = np.bincount(rng.integers(0, n, n), minlength=n)
        values.append(fid_of(counts))
    values = np.asarray(values)
    tail = (1.0 - LEVEL) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    mean = float(values.mean())
    return FidInterval(float(fid + lo - mean), float(fid + hi - mean), float(fid), mean,
                       float(values.std(ddof=1)), resamples)
