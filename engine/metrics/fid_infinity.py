"""FID∞ (Chong & Forsyth 2020, "Effectively Unbiased FID and Inception Score and where to
find them"): FID is biased upward by roughly k/N for N generated images, so FID is computed
on ``points`` random subsets of the generated features whose sizes run evenly from N/10 to N
(the paper's 5,000 … 50,000 for N = 50,000), a straight line is fitted to FID against 1/N by
least squares, and its value at 1/N = 0 is FID∞. Each subset is drawn without replacement by
a seeded generator, independently of the others (as the authors' code reshuffles each time).

Only the generated side is extrapolated; the reference statistics are taken as they are.
Cost: ``points`` FIDs on subsets, from the cached features (no pass over images).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fid import GaussianStats
from .fid_resample import WeightedFid

MIN_IMAGES = 20          # below this the subsets are too small to fit anything
PAPER_MIN_IMAGES = 5000  # the paper's smallest subset


@dataclass(frozen=True)
class FidInfValue:
    fid_inf: float
    slope: float            # FID ≈ fid_inf + slope / N
    sizes: tuple            # subset sizes
    fids: tuple             # FID at each size

    def warnings(self, n: int) -> list:
        if n < 10 * PAPER_MIN_IMAGES:
            return [f"FID∞ extrapolated from subsets of {self.sizes[0]}…{self.sizes[-1]} images "
                    f"(the paper uses 5,000…50,000): with fewer images it is noisier"]
        return []


def subset_sizes(n: int, points: int) -> np.ndarray:
    sizes = np.unique(np.linspace(max(2, -(-n // 10)), n, points).astype(np.int64))
    return sizes


def compute(ref: GaussianStats, feats, points: int = 15, seed: int = 0, cancel=None) -> FidInfValue:
    n = len(feats)
    if n < MIN_IMAGES:
        raise ValueError(f"FID∞ needs at least {MIN_IMAGES} generated images, got {n}")
    sizes = subset_sizes(n, points)
    if len(sizes) < 3:
        raise ValueError(f"FID∞ needs at least 3 distinct subset sizes, got {len(sizes)}")
    rng = np.random.default_rng(seed)
    fid_of = WeightedFid(ref, feats)
    fids = []
    for size in sizes:
        if cancel is not None:
            cancel.check()
        w = np.zeros(n, np.float64)
        w[rng.permutation(n)[:size]] = 1.0
        fids.append(fid_of(w))
    x = 1.0 / sizes.astype(np.float64)
    slope, intercept = np.polyfit(x, np.asarray(fids), 1)
    return FidInfValue(float(intercept), float(slope), tuple(int(s) for s in sizes),
                       tuple(float(f) for f in fids))
