"""Paired full-resolution metrics: SSIM, MSE, PSNR between two uint8 RGB images.

SSIM follows Wang et al. 2004 as scikit-image's ``structural_similarity(gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1)`` computes it:
Gaussian window (truncate 3.5 → 11x11), reflect padding, borders of 5 pixels cropped before
averaging, per channel then averaged.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

SIGMA = 1.5
TRUNCATE = 3.5
WIN = 2 * int(TRUNCATE * SIGMA + 0.5) + 1
C1 = (0.01 * 255.0) ** 2
C2 = (0.03 * 255.0) ** 2


def _filt(x):
    return ndimage.gaussian_filter(x, sigma=SIGMA, truncate=TRUNCATE, mode="reflect")


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise ValueError(f"sizes differ: {a.shape[1]}x{a.shape[0]} vs {b.shape[1]}x{b.shape[0]}")
    if min(a.shape[0], a.shape[1]) < WIN:
        raise ValueError(f"image smaller than the {WIN}x{WIN} SSIM window")
    pad = (WIN - 1) // 2
    vals = []
    for c in range(a.shape[2]):
        x = a[:, :, c].astype(np.float64)
        y = b[:, :, c].astype(np.float64)
        ux, uy = _filt(x), _filt(y)
        vx = _filt(x * x) - ux * ux
        vy = _filt(y * y) - uy * uy
        vxy = _filt(x * y) - ux * uy
        s = ((2 * ux * uy + C1) * (2 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2))
        vals.append(s[pad:-pad, pad:-pad].mean(dtype=np.float64))
    return float(np.mean(vals))


def mse(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        raise ValueError("sizes differ")
    d = a.astype(np.float64) - b.astype(np.float64)
    return float(np.mean(d * d))


def psnr_from_mse(m: float) -> float:
    return math.inf if m == 0 else 10.0 * math.log10(255.0 ** 2 / m)
