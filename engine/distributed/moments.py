"""Per-shard float64 moments (n, Σx, Σxxᵀ), and their merge into mean / covariance.

Shards are summed, never averaged per shard: the merged moments equal one pass over all
features to rounding, whatever the shard boundaries.
"""
from __future__ import annotations

import numpy as np

try:  # the shared merge, where the stats module provides it
    from ..features.stats import merge_moments, moments_to_stats
except ImportError:  # pragma: no cover - same contract, float64 sums
    from ..metrics.fid import GaussianStats

    def merge_moments(parts):
        parts = list(parts)
        if not parts:
            raise ValueError("nothing to merge")
        n = sum(int(p[0]) for p in parts)
        total = np.sum([np.asarray(p[1], np.float64) for p in parts], axis=0)
        outer = np.zeros_like(np.asarray(parts[0][2], np.float64))
        for p in parts:
            outer += np.asarray(p[2], np.float64)
        return n, total, outer

    def moments_to_stats(n, total, outer):
        n = int(n)
        if n < 2:
            raise ValueError("statistics need at least 2 images")
        mu = np.asarray(total, np.float64) / n
        cov = (np.asarray(outer, np.float64) - n * np.outer(mu, mu)) / (n - 1)
        return GaussianStats(mu=mu, sigma=(cov + cov.T) * 0.5, n=n)


def shard_moments(features: np.ndarray):
    """(n, Σx, Σxxᵀ) of one shard's feature rows, in float64."""
    x = np.asarray(features, np.float64)
    return len(x), x.sum(axis=0), x.T @ x


class RunningMoments:
    """Merged moments so far; ``stats()`` as a MomentAccumulator gives them (running FID)."""

    def __init__(self, dim: int):
        self.n = 0
        self.total = np.zeros(dim, np.float64)
        self.outer = np.zeros((dim, dim), np.float64)

    def add(self, n, total, outer) -> None:
        self.n, self.total, self.outer = merge_moments([(self.n, self.total, self.outer),
                                                        (n, total, outer)])

    def stats(self):
        return moments_to_stats(self.n, self.total, self.outer)
