"""FID of a re-weighted generated set: the shared engine of FID∞ and the bootstrap interval.

A subset (weights 0/1) or a bootstrap resample (weights = how often each image was drawn)
is a weighted set, so neither copies features: the weighted mean and covariance are summed
over the memory-mapped features in blocks, in float64 (float32 sums would move small
eigenvalues, and tr sqrt sums 2,048 square roots of them).

Two exact routes to tr sqrt(S_ref^1/2 S S_ref^1/2), chosen by cost:
* k distinct images with k < d: S = B^T B with B (k x d) the weighted, centred rows, so the
  non-zero eigenvalues are those of B S_ref B^T (k x k): k d^2 + k^2 d flops, no d x d eig.
* otherwise: the weighted d x d covariance (N d^2 flops), then fid.compute (2 d^3 + eig).
"""
from __future__ import annotations

import numpy as np

from . import fid as fid_metric

BLOCK = 4096


def full_mean(feats) -> np.ndarray:
    s = np.zeros(feats.shape[1], np.float64)
    for i in range(0, len(feats), BLOCK):
        s += np.asarray(feats[i:i + BLOCK], np.float64).sum(axis=0)
    return s / len(feats)


class WeightedFid:
    """``WeightedFid(ref, feats)(weights)``: FID between ``ref`` and the generated features
    weighted by ``weights`` (non-negative integers: a subset or a resample; covariance with
    N-1, N = the sum of the weights)."""

    def __init__(self, ref: fid_metric.GaussianStats, feats):
        self.ref, self.feats = ref, feats
        self.dim = feats.shape[1]
        self._shift = None  # the full set's mean: centring keeps the float64 sums exact

    def __call__(self, weights) -> float:
        w = np.asarray(weights, np.float64)
        if len(w) != len(self.feats):
            raise ValueError(f"{len(w)} weights for {len(self.feats)} features")
        n = float(w.sum())
        if n < 2:
            raise ValueError("a weighted set needs a total weight of at least 2")
        idx = np.flatnonzero(w)
        if len(idx) < self.dim:
            return self._gram(np.asarray(self.feats[idx], np.float64), w[idx], n)
        return self._cov(w, n)

    def _gram(self, rows: np.ndarray, w: np.ndarray, n: float) -> float:
        mu = (w @ rows) / n
        b = (rows - mu) * np.sqrt(w / (n - 1.0))[:, None]
        s1 = np.asarray(self.ref.sigma, np.float64)
        g = b @ s1 @ b.T
        eig = np.linalg.eigvalsh((g + g.T) * 0.5)
        tol = fid_metric._rank_tol(eig)
        tr_covmean = float(np.sqrt(eig[eig > tol]).sum())
        diff = np.asarray(self.ref.mu, np.float64) - mu
        return float(diff @ diff + np.trace(s1) + np.einsum("ij,ij->", b, b) - 2.0 * tr_covmean)

    def _cov(self, w: np.ndarray, n: float) -> float:
        if self._shift is None:
            self._shift = full_mean(self.feats)
        d = self.dim
        s1 = np.zeros(d, np.float64)
        s2 = np.zeros((d, d), np.float64)
        for i in range(0, len(self.feats), BLOCK):
            wb = w[i:i + BLOCK]
            keep = np.flatnonzero(wb)
            if not len(keep):
                continue
            x = np.asarray(self.feats[i:i + BLOCK][keep], np.float64) - self._shift
            s1 += wb[keep] @ x
            xs = x * np.sqrt(wb[keep])[:, None]
            s2 += xs.T @ xs
        mean_c = s1 / n
        cov = (s2 - n * np.outer(mean_c, mean_c)) / (n - 1.0)
        gen = fid_metric.GaussianStats(self._shift + mean_c, (cov + cov.T) * 0.5, int(n))
        return fid_metric.compute(self.ref, gen).fid
