"""Inception Score from the unbiased logits of the FID Inception's classifier head.

The standard convention (improved-gan, TTUR, torch-fidelity ``logits_unbiased``, the ADM
evaluator): logits = pool3 · Wᵀ **without** fc.bias; softmax over all 1008 outputs in
float64; per split exp(mean over images of KL(p(y|x) || p(y))), p(y) the split's mean;
the score is the mean over splits and the spread their std with ddof=0 (np.std), exactly
as torch-fidelity 0.4.0's ``isc_features_to_metric``.

Split conventions (``Options.is_splits``):
* ``ttur`` (default): 10 equal splits in file order, split k = rows [k·n//10, (k+1)·n//10)
  (TTUR; torch-fidelity with ``samples_shuffle=False``, ``isc_splits=10``).
* ``adm``: consecutive splits of 5,000 images, the last one possibly shorter (the
  guided-diffusion evaluator's ``compute_inception_score(split_size=5000)``; it reports
  the mean only, the std here is over the same splits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPLIT_CONVENTIONS = ("ttur", "adm")
TTUR_SPLITS = 10
ADM_SPLIT_SIZE = 5000

UNAVAILABLE_REASON = (
    "Inception Score needs the 1008-class classifier head, which the FID weights the model "
    "is built from do not include. Enable it once: `python main.py model add-is-head "
    "--download` (pytorch-fid's official weights, about 91 MB, hash-checked), or "
    "`--weights pt_inception-2015-12-05-6726825d.pth`, or \"Enable Inception Score…\" in the app")


@dataclass(frozen=True)
class IsValue:
    mean: float
    std: float
    splits: int
    convention: str
    split_sizes: tuple


def split_bounds(n: int, convention: str = "ttur") -> list[tuple[int, int]]:
    """[(start, stop)] of each split of n images in file order."""
    if convention == "ttur":
        if n < TTUR_SPLITS:
            raise ValueError(f"Inception Score with {TTUR_SPLITS} splits needs at least "
                             f"{TTUR_SPLITS} images, got {n}")
        return [(k * n // TTUR_SPLITS, (k + 1) * n // TTUR_SPLITS) for k in range(TTUR_SPLITS)]
    if convention == "adm":
        if n < 1:
            raise ValueError("Inception Score needs at least one image")
        return [(i, min(i + ADM_SPLIT_SIZE, n)) for i in range(0, n, ADM_SPLIT_SIZE)]
    raise ValueError(f"unknown IS split convention {convention!r}; valid: {', '.join(SPLIT_CONVENTIONS)}")


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def compute(logits, convention: str = "ttur") -> IsValue:
    """IS of ``logits_unbiased`` rows (N, 1008) in file order."""
    bounds = split_bounds(len(logits), convention)
    scores = []
    for start, stop in bounds:
        log_p = _log_softmax(np.asarray(logits[start:stop], np.float64))
        p = np.exp(log_p)
        log_q = np.log(p.mean(axis=0, keepdims=True))
        kl = (p * (log_p - log_q)).sum(axis=1).mean()
        scores.append(np.exp(kl))
    scores = np.asarray(scores)
    return IsValue(float(scores.mean()), float(scores.std()), len(bounds), convention,
                   tuple(stop - start for start, stop in bounds))
