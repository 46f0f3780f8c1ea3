"""Separable resizes written as interpolation matrices (rows: output pixels, columns: input).

Each builder reproduces one reference implementation's sampling arithmetic exactly, so that
``W_out @ image @ W_in.T`` equals the reference resizer's output; the tests compare against
arrays the real tools produced. Matrices are cached per (input size, output size).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import sparse


def _pil_bicubic(x: float) -> float:
    # Pillow's bicubic kernel (libImaging/Resample.c), a = -0.5
    a = -0.5
    x = abs(x)
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return 0.0


@lru_cache(maxsize=64)
def pil_bicubic_matrix(in_size: int, out_size: int) -> np.ndarray:
    """Pillow's ``precompute_coeffs`` for BICUBIC (support 2, widened when shrinking)."""
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    ss = 1.0 / filterscale
    m = np.zeros((out_size, in_size), dtype=np.float64)
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        w = np.array([_pil_bicubic((x + xmin - center + 0.5) * ss) for x in range(xmax)])
        total = w.sum()
        if total != 0.0:
            w = w / total
        m[xx, xmin:xmin + xmax] = w
    m.setflags(write=False)
    return m


@lru_cache(maxsize=64)
def torch_bilinear_matrix(in_size: int, out_size: int) -> np.ndarray:
    """torch ``F.interpolate(mode="bilinear", align_corners=False)``, no antialias."""
    scale = np.float32(in_size / out_size)
    m = np.zeros((out_size, in_size), dtype=np.float64)
    for dst in range(out_size):
        src = float(np.float32(scale * np.float32(dst + 0.5) - np.float32(0.5)))
        src = max(src, 0.0)
        x0 = int(src)
        x1 = x0 + (1 if x0 < in_size - 1 else 0)
        l1 = src - x0
        m[dst, x0] += 1.0 - l1
        m[dst, x1] += l1
    m.setflags(write=False)
    return m


@lru_cache(maxsize=64)
def tf1_bilinear_matrix(in_size: int, out_size: int) -> np.ndarray:
    """TF1 ``resize_bilinear(align_corners=False, half_pixel_centers=False)``."""
    scale = np.float32(in_size / out_size)
    m = np.zeros((out_size, in_size), dtype=np.float64)
    for dst in range(out_size):
        src = float(np.float32(dst) * scale)
        lo = int(math.floor(src))
        hi = min(lo + 1, in_size - 1)
        lerp = src - lo
        m[dst, lo] += 1.0 - lerp
        m[dst, hi] += lerp
    m.setflags(write=False)
    return m


_BUILDERS = {
    "pil_bicubic": pil_bicubic_matrix,
    "torch_bilinear": torch_bilinear_matrix,
    "tf1_bilinear": tf1_bilinear_matrix,
}


@lru_cache(maxsize=64)
def _sparse(kind: str, in_size: int, out: int) -> sparse.csr_matrix:
    # The matrices are banded (a few taps per row): sparse products are ~50x faster than BLAS.
    return sparse.csr_matrix(_BUILDERS[kind](in_size, out).astype(np.float32))


def resize_chw(image: np.ndarray, kind: str, out: int = 299) -> np.ndarray:
    """Resize an HxWx3 array (any real dtype) to 3 x out x out float32 (channel-first).

    Rows first, then columns; both are exact linear maps, so the order changes only the
    float32 rounding (far below the 1e-3 tolerance the parity tests hold us to).
    """
    h, w, c = image.shape
    x = image.astype(np.float32, copy=False).reshape(h, w * c)
    rows = (_sparse(kind, h, out) @ x).reshape(out, w, c)          # (i, w, c)
    cols = np.ascontiguousarray(rows.transpose(1, 0, 2)).reshape(w, out * c)
    res = (_sparse(kind, w, out) @ cols).reshape(out, out, c)       # (j, i, c)
    return np.ascontiguousarray(res.transpose(2, 1, 0))              # (c, i, j)
