"""Kernel Inception Distance: unbiased MMD² with the cubic polynomial kernel.

k(x, y) = (x·y / d + 1)^3; ``subsets`` random subsets of ``subset_size`` rows from each
set (fewer when a set is smaller), drawn with an explicit seed; mean and std (ddof=0) of
the per-subset MMD² values. The mean equals clean-fid's ``kernel_distance`` and
torch-fidelity's ``kid_subset_mean`` for the same subsets.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KidValue:
    mean: float
    std: float
    subset_size: int
    subsets: int
    seed: int

    def warnings(self, requested_size: int) -> list:
        if self.subset_size < requested_size:
            return [f"KID subsets shrunk to {self.subset_size} images (requested {requested_size}): "
                    "a set has fewer images"]
        return []


def _mmd2(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    m = x.shape[0]
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    a = kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)
    return float((a / (m - 1) - 2.0 * kxy.sum() / m) / m)


def compute(ref_feats, gen_feats, subsets: int = 100, subset_size: int = 1000, seed: int = 0) -> KidValue:
    n1, n2 = len(ref_feats), len(gen_feats)
    m = min(n1, n2, subset_size)
    if m < 2:
        raise ValueError("KID needs at least 2 images in each set")
    rng = np.random.default_rng(seed)
    values = np.empty(subsets)
    for i in range(subsets):
        # sorted indices: contiguous-ish reads from the memory-mapped feature files
        gi = np.sort(rng.choice(n2, m, replace=False))
        ri = np.sort(rng.choice(n1, m, replace=False))
        values[i] = _mmd2(np.asarray(gen_feats[gi], np.float64), np.asarray(ref_feats[ri], np.float64))
    return KidValue(float(values.mean()), float(values.std()), m, subsets, seed)
