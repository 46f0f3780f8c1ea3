"""Per-shard float64 moments (n, Σx, Σxxᵀ), and their merge into mean / covariance.

Shards are summed, never averaged per shard: the merged moments equal one pass over all
features to rounding, whatever the shard boundaries.
"""
from __future__ import annotations

import numpy as np

from ..features.stats import merge_moments, moments_to_stats  # noqa: F401 (re-exported)


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
