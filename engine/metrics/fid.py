"""Fréchet Inception Distance in float64.

tr(sqrt(S1 S2)) is computed in the symmetric form tr(sqrt(R S2 R)) with R = sqrt(S1): the
matrix is symmetric positive semi-definite, so ``eigvalsh`` gives real eigenvalues; tiny
negative ones (rounding, rank-deficient covariances) are clipped to zero and their size is
reported as the residue. R for a reference set is computed once and reused for every
generated set and for the live running FID.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _rank_tol(eigenvalues: np.ndarray) -> float:
    return float(eigenvalues.max(initial=0.0)) * len(eigenvalues) * np.finfo(np.float64).eps


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(sigma)
    w = np.sqrt(np.where(w > _rank_tol(w), w, 0.0))
    return (v * w) @ v.T


@dataclass
class GaussianStats:
    mu: np.ndarray
    sigma: np.ndarray
    n: int | None = None
    _sqrt: np.ndarray | None = field(default=None, repr=False)

    def sqrt_sigma(self) -> np.ndarray:
        if self._sqrt is None:
            self._sqrt = _psd_sqrt(np.asarray(self.sigma, dtype=np.float64))
        return self._sqrt


@dataclass(frozen=True)
class FidValue:
    fid: float
    residue: float   # largest |negative eigenvalue| clipped, relative to the largest eigenvalue

    def warnings(self) -> list:
        out = []
        if not math.isfinite(self.fid):
            out.append("FID is not finite: the statistics contain NaN or infinity")
        elif self.residue > 1e-6:
            out.append(f"FID numerics: negative eigenvalue residue {self.residue:.2e} (relative) "
                       "was clipped; covariance is ill-conditioned")
        return out


def compute(ref: GaussianStats, gen: GaussianStats) -> FidValue:
    mu1, mu2 = np.asarray(ref.mu, np.float64), np.asarray(gen.mu, np.float64)
    s1, s2 = np.asarray(ref.sigma, np.float64), np.asarray(gen.sigma, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape:
        raise ValueError(f"statistics do not match: mu {mu1.shape} vs {mu2.shape}")
    if not (np.all(np.isfinite(s1)) and np.all(np.isfinite(s2))
            and np.all(np.isfinite(mu1)) and np.all(np.isfinite(mu2))):
        return FidValue(float("nan"), float("nan"))
    r = ref.sqrt_sigma()
    m = r @ s2 @ r
    m = (m + m.T) * 0.5
    eig = np.linalg.eigvalsh(m)
    tol = _rank_tol(eig)
    top = max(float(eig[-1]), 1e-300)
    residue = max(0.0, -float(eig[0]) - tol) / top
    tr_covmean = float(np.sqrt(eig[eig > tol]).sum())
    diff = mu1 - mu2
    fid = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    return FidValue(fid, residue)
