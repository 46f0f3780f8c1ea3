"""CMMD (Jayasumana et al., CVPR 2024): the MMD between two sets of CLIP embeddings, exactly.

As google-research ``cmmd/distance.py``: the embeddings L2-normalised, the Gaussian RBF kernel
k(x, y) = exp(-γ‖x − y‖²) with σ = 10, γ = 1/(2σ²), ‖x − y‖² = ‖x‖² + ‖y‖² − 2x·y, and the
biased (minimum-variance) estimator over all pairs, diagonal included, scaled by 1000:

    CMMD = 1000 · (mean k(x, x') + mean k(y, y') − 2 · mean k(x, y)).

The reference computes it in float32, where the ×1000 scale of kernel means near 1 leaves
~1e-4 relative error; here everything is float64, so the value is the exact one. The kernel
matrices are never held whole: blocks of ``block`` × ``block`` rows are summed one at a time
(the two within-set means over the upper triangle of blocks, the off-diagonal blocks counted
twice), so 50,000 × 50,000 needs a few block-sized float64 arrays, and the value does not
depend on the block size beyond float64 rounding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SIGMA = 10.0
GAMMA = 1.0 / (2.0 * SIGMA ** 2)
SCALE = 1000.0
BLOCK = 2048


@dataclass(frozen=True)
class CmmdValue:
    cmmd: float
    n_x: int
    n_y: int


def _inverse_norms(x, block: int) -> np.ndarray:
    """1/‖row‖ in float64; refuses zero or non-finite rows (no direction to normalise)."""
    out = np.empty(len(x), np.float64)
    for i in range(0, len(x), block):
        rows = np.asarray(x[i:i + block], np.float64)
        out[i:i + block] = np.sqrt(np.einsum("ij,ij->i", rows, rows))
    bad = ~np.isfinite(out) | (out == 0.0)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} embedding(s) are zero or not finite (non-finite features?)")
    return 1.0 / out


def _unit(x, inv, lo: int, hi: int):
    """Rows lo:hi, L2-normalised in float64, and their squared norms (≈ 1)."""
    rows = np.asarray(x[lo:hi], np.float64) * inv[lo:hi, None]
    return rows, np.einsum("ij,ij->i", rows, rows)


def _kernel_sum(x, inv_x, y, inv_y, block: int, same: bool, cancel=None) -> float:
    """Σ k(x_i, y_j) over all pairs, block by block (``same``: y is x, the upper triangle of
    blocks is computed and the off-diagonal ones counted twice)."""
    total = 0.0
    for i in range(0, len(x), block):
        if cancel is not None:
            cancel.check()
        a, sa = _unit(x, inv_x, i, i + block)
        for j in range(i if same else 0, len(y), block):
            b, sb = (a, sa) if same and j == i else _unit(y, inv_y, j, j + block)
            g = a @ b.T                      # -γ‖a - b‖² = γ(2a·b - ‖a‖² - ‖b‖²), in place
            g *= 2.0
            g -= sa[:, None]
            g -= sb[None, :]
            g *= GAMMA
            s = float(np.exp(g, out=g).sum())
            total += 2.0 * s if same and j != i else s
    return total


def compute(x, y, *, block: int = BLOCK, cancel=None) -> CmmdValue:
    """CMMD between embeddings ``x`` (n, d) and ``y`` (m, d), any float dtype (memory-mapped
    arrays are read block by block). Raises ValueError on empty, mismatched or degenerate sets."""
    if not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"embeddings do not match: {tuple(x.shape)} vs {tuple(y.shape)}")
    if len(x) < 1 or len(y) < 1:
        raise ValueError("CMMD needs at least one embedding on each side")
    inv_x, inv_y = _inverse_norms(x, block), _inverse_norms(y, block)
    n, m = len(x), len(y)
    k_xx = _kernel_sum(x, inv_x, x, inv_x, block, True, cancel) / (n * n)
    k_yy = _kernel_sum(y, inv_y, y, inv_y, block, True, cancel) / (m * m)
    k_xy = _kernel_sum(x, inv_x, y, inv_y, block, False, cancel) / (n * m)
    value = SCALE * (k_xx + k_yy - 2.0 * k_xy)
    return CmmdValue(value if math.isfinite(value) else float("nan"), n, m)
