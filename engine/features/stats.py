"""Streaming float64 mean/covariance and the on-disk feature store.

Rows are accumulated in fixed blocks, in file order, after subtracting a fixed shift (the
first block's mean): the sums are then independent of the batch size and worker count, and
the covariance equals ``np.cov`` on all features to rounding (no catastrophic cancellation).
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
        self._pending.append(np.asarray(rows, np.float32))
        self._pending_rows += len(rows)
        while self._pending_rows >= self.block:
            allrows = np.concatenate(self._pending)
            self._accumulate(allrows[:self.block])
            rest = allrows[self.block:]
            self._pending = [rest] if len(rest) else []
            self._pending_rows = len(rest)

    def _accumulate(self, rows: np.ndarray, into=None):
        x = rows.astype(np.float64)
        if self.shift is None:
            self.shift = x.mean(axis=0)
        x -= self.shift
        s1, s2 = (self.s1, self.s2) if into is None else into
        s1 += x.sum(axis=0)
        s2 += x.T @ x
        if into is None:
            self.n += len(rows)

    def stats(self) -> GaussianStats:
        """Mean and covariance (N-1) of everything added so far, pending rows included."""
        n, s1, s2 = self.n, self.s1, self.s2
        if self._pending_rows:
            s1, s2 = s1.copy(), s2.copy()
            self._accumulate(np.concatenate(self._pending), into=(s1, s2))
            n += self._pending_rows
        if n < 2:
            raise ValueError("statistics need at least 2 images")
        mean_c = s1 / n
        cov = (s2 - n * np.outer(mean_c, mean_c)) / (n - 1)
        return GaussianStats(mu=self.shift + mean_c, sigma=(cov + cov.T) * 0.5, n=n)


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
