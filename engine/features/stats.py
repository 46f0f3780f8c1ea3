"""Streaming float64 mean/covariance and the on-disk feature store.

Rows are accumulated in fixed blocks, in file order, after subtracting a fixed shift (the
first block's mean): the sums are then independent of the batch size and worker count, and
the covariance equals ``np.cov`` on all features to rounding (no catastrophic cancellation).

For merging across shards (machines, array jobs, Ray workers) the accumulator also hands out
raw float64 moments (n, Σx, Σxxᵀ): moments of disjoint sets add, and mean/covariance of the
union follow from the sums — never average per-shard FIDs or covariances.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..metrics.fid import GaussianStats

BLOCK = 256


class MomentAccumulator:
    def __init__(self, dim: int, block: int = BLOCK):
        self.dim = dim
        self.block = block
        self.n = 0
        self.shift = None
        self.s1 = np.zeros(dim, np.float64)
        self.s2 = np.zeros((dim, dim), np.float64)
        self._pending: list[np.ndarray] = []
        self._pending_rows = 0

    def add(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, np.float32)
        if self._pending_rows + len(rows) < self.block:
            self._pending.append(rows)
            self._pending_rows += len(rows)
            return
        allrows = np.concatenate(self._pending + [rows]) if self._pending else rows
        full = (len(allrows) // self.block) * self.block
        for s in range(0, full, self.block):
            self._accumulate(allrows[s:s + self.block])
        rest = allrows[full:]
        self._pending = [rest.copy()] if len(rest) else []  # do not keep a large input alive
        self._pending_rows = len(rest)

    def _accumulate(self, rows: np.ndarray, into=None):
        x = rows.astype(np.float64)
        shift = self.shift
        if shift is None:
            # the first full block fixes the shift; a peek at pending rows (running FID) must
            # not, or the sums would depend on when the peek happened
            shift = x.mean(axis=0)
            if into is None:
                self.shift = shift
        x -= shift
        s1, s2 = (self.s1, self.s2) if into is None else into
        s1 += x.sum(axis=0)
        s2 += x.T @ x
        if into is None:
            self.n += len(rows)
        return shift

    def _sums(self):
        """(n, shift, Σ(x-shift), Σ(x-shift)(x-shift)ᵀ) with the pending rows included."""
        n, shift, s1, s2 = self.n, self.shift, self.s1, self.s2
        if self._pending_rows:
            s1, s2 = s1.copy(), s2.copy()
            shift = self._accumulate(np.concatenate(self._pending), into=(s1, s2))
            n += self._pending_rows
        return n, shift, s1, s2

    def moments(self) -> tuple[int, np.ndarray, np.ndarray]:
        """Raw float64 (n, Σx, Σxxᵀ) of everything added so far, pending rows included."""
        n, c, s1, s2 = self._sums()
        if n == 0:
            return 0, np.zeros(self.dim, np.float64), np.zeros((self.dim, self.dim), np.float64)
        # x = c + y: Σx = Σy + n c and Σxxᵀ = Σyyᵀ + c Σyᵀ + Σy cᵀ + n c cᵀ
        total = s1 + n * c
        outer = s2 + np.outer(c, s1) + np.outer(s1, c) + n * np.outer(c, c)
        return n, total, (outer + outer.T) * 0.5

    def stats(self) -> GaussianStats:
        """Mean and covariance (N-1) of everything added so far, pending rows included."""
        n, shift, s1, s2 = self._sums()
        if n < 2:
            raise ValueError("statistics need at least 2 images")
        mean_c = s1 / n
        cov = (s2 - n * np.outer(mean_c, mean_c)) / (n - 1)
        return GaussianStats(mu=shift + mean_c, sigma=(cov + cov.T) * 0.5, n=n)


def merge_moments(parts) -> tuple[int, np.ndarray, np.ndarray]:
    """Moments of the union of disjoint sets: [(n, Σx, Σxxᵀ), ...] -> (n, Σx, Σxxᵀ), float64."""
    parts = list(parts)
    if not parts:
        raise ValueError("nothing to merge")
    dims = {np.shape(p[1]) for p in parts} | {np.shape(p[2])[:1] for p in parts}
    if len(dims) != 1 or any(np.shape(p[2]) != np.shape(p[1]) * 2 for p in parts):
        raise ValueError("moments to merge have different feature dimensions")
    n = 0
    total = np.zeros(np.shape(parts[0][1]), np.float64)
    outer = np.zeros(np.shape(parts[0][2]), np.float64)
    for pn, ps, po in parts:
        n += int(pn)
        total += np.asarray(ps, np.float64)
        outer += np.asarray(po, np.float64)
    return n, total, outer


def moments_to_stats(n, total, outer) -> GaussianStats:
    """Mean and covariance (N-1) from raw moments (n, Σx, Σxxᵀ)."""
    n = int(n)
    if n < 2:
        raise ValueError("statistics need at least 2 images")
    mu = np.asarray(total, np.float64) / n
    cov = (np.asarray(outer, np.float64) - n * np.outer(mu, mu)) / (n - 1)
    return GaussianStats(mu=mu, sigma=(cov + cov.T) * 0.5, n=n)


class FeatureStore:
    """Rows of float32 appended to a raw file and read back memory-mapped (bounded RAM).

    With ``path=None`` the rows are kept in memory: the last resort when no folder can be
    written (disk full, read-only cache and temporary folder)."""

    def __init__(self, path: Path | None, dim: int):
        self.path = Path(path) if path is not None else None
        self.dim = dim
        self.n = 0
        self._rows: list[np.ndarray] = []
        self._fh = open(self.path, "wb") if self.path is not None else None

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=np.float32)
        assert rows.ndim == 2 and rows.shape[1] == self.dim
        if self._fh is None:
            self._rows.append(rows.copy())
        else:
            self._fh.write(rows.tobytes())
        self.n += len(rows)

    def close(self) -> None:
        if self._fh is not None and not self._fh.closed:
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            finally:
                self._fh.close()

    def open(self) -> np.ndarray:
        self.close()
        if self._fh is None:
            return np.concatenate(self._rows) if self._rows else np.zeros((0, self.dim), np.float32)
        return open_rows(self.path, self.n, self.dim)


def open_rows(path, n: int, dim: int) -> np.ndarray:
    if n == 0:
        return np.zeros((0, dim), np.float32)
    return np.memmap(path, dtype=np.float32, mode="r", shape=(n, dim))
