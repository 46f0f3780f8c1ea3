"""Inception Score from the 1008 logits of the FID Inception's classifier head.

Softmax over all 1008 outputs (as the original TF code), ``splits`` consecutive splits in
file order (no shuffling, so it is deterministic), exp of the mean KL(p(y|x) || p(y)) per
split; mean and std (ddof=0) over splits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNAVAILABLE_REASON = (
    "Inception Score needs the 1008-class classifier head, which the bundled FID weights do not "
    "include. Enable it by building the model from the official pytorch-fid weights: "
    "`python main.py model build --weights pt_inception-2015-12-05-6726825d.pth`")


@dataclass(frozen=True)
class IsValue:
    mean: float
    std: float
    splits: int


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def compute(logits, splits: int = 10) -> IsValue:
    n = len(logits)
    if n < splits:
        raise ValueError(f"Inception Score with {splits} splits needs at least {splits} images, got {n}")
    scores = []
    for k in range(splits):
        part = _softmax(np.asarray(logits[k * n // splits:(k + 1) * n // splits], np.float64))
        py = part.mean(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(py)), 0.0)
        scores.append(np.exp(kl.sum(axis=1).mean()))
    scores = np.asarray(scores)
    return IsValue(float(scores.mean()), float(scores.std()), splits)
