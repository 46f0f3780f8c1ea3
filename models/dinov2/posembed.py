"""DINOv2's position-embedding resize, reproduced in numpy at build time.

``DinoVisionTransformer.interpolate_pos_encoding`` (dinov2 0.0.1.dev2) resizes the 37 x 37
patch embedding for a 224 px input (16 x 16 patches) with

    w0, h0 = 224 // 14 + 0.1, 224 // 14 + 0.1
    F.interpolate(grid, scale_factor=(w0 / 37, h0 / 37), mode="bicubic")

i.e. torch's plain bicubic (Keys A = -0.75, align_corners=False, no antialias) driven by the
*scale factor*, not by the size: the output is floor(37 * 16.1 / 37) = 16 pixels, but the
source coordinate of output pixel i is (i + 0.5) * (37 / 16.1) - 0.5, not (i + 0.5) * 37/16
- 0.5. Taps outside the grid are clamped to the edge (replicate).

ATen's CPU kernel (UpSampleKernel.cpp, ``HelperInterpCubic::compute_indices_weights`` and
``Interpolate::eval``) works in float32 for a float32 tensor: the scale is
``float(1.0 / scale_factor)``, the weights come from ``get_cubic_upsample_coefficients`` in
float32, and each output is sum_j wy_j * (sum_k wx_k * x[y_j, x_k]) accumulated in that
order. We do the same, with the FMAs the compiler makes of it where we could pin them
down: the weights are bit-equal to torch's, the embedding within 1 ulp (measured by
tests/reference/make_dinov2_reference.py, recorded in tests/fixtures/dinov2/reference.json).
"""

from __future__ import annotations

import math

import numpy as np

CUBIC_A = -0.75  # torch's upsample_bicubic2d (not the -0.5 of its antialiased variant)
POS_OFFSET = 0.1  # "we add a small number to avoid floating point error in the interpolation"

_f = np.float32


def _fma(a, b, c) -> np.float32:
    """float32 a * b + c with one rounding (the float64 product of two float32 is exact)."""
    return _f(np.float64(a) * np.float64(b) + np.float64(c))


def _cubic_coefficients(t: np.float32) -> list[np.float32]:
    """ATen get_cubic_upsample_coefficients<float>(t): weights of taps -1, 0, 1, 2.

    The C++ is ``((A + 2) * x - (A + 3)) * x * x + 1`` and ``((A * x - 5A) * x + 8A) * x - 4A``;
    the x86-64 build of torch 2.13 fuses exactly one step of the second into an FMA. Done
    the same way, every weight of the 37 -> 16 resize is bit-equal to torch's (measured by
    tests/reference/make_dinov2_reference.py)."""
    a = _f(CUBIC_A)

    def conv1(x):
        return ((a + _f(2)) * x - (a + _f(3))) * x * x + _f(1)

    def conv2(x):
        return _fma(a * x - _f(5) * a, x, _f(8) * a) * x - _f(4) * a

    x1 = t
    x2 = _f(1) - t
    return [conv2(x1 + _f(1)), conv1(x1), conv1(x2), conv2(x2 + _f(1))]


def bicubic_taps(in_size: int, scale_factor: float) -> tuple[int, np.ndarray, np.ndarray]:
    """Output size, (out, 4) tap indices and (out, 4) float32 weights of torch's bicubic
    upsample along one axis with the given scale_factor (align_corners=False)."""
    out_size = int(in_size * scale_factor)  # ATen compute_output_size: truncation of a double
    scale = _f(1.0 / scale_factor)  # compute_scales_value<float>
    idx = np.zeros((out_size, 4), np.int64)
    wts = np.zeros((out_size, 4), np.float32)
    for i in range(out_size):
        # area_pixel_compute_source_index: scale * (i + 0.5) - 0.5, fused by the compiler
        real = _fma(scale, _f(i) + _f(0.5), -_f(0.5))
        base = min(int(math.floor(real)), in_size - 1)  # guard_index_and_lambda
        lam = min(max(real - _f(base), _f(0)), _f(1))
        wts[i] = _cubic_coefficients(_f(lam))
        idx[i] = [min(max(base + j - 1, 0), in_size - 1) for j in range(4)]
    return out_size, idx, wts


def _accumulate(terms) -> np.ndarray:
    """sum of (value, weight) pairs in order: the first product rounded on its own, the
    second added unfused, the last two fused (the closest to torch's vectorised loop of the
    orderings tried: equal on ~91% of the values, 1 ulp off on the rest)."""
    (v0, w0), (v1, w1), (v2, w2), (v3, w3) = terms
    acc = v0 * w0
    acc = acc + v1 * w1
    acc = (v2.astype(np.float64) * np.float64(w2) + acc).astype(np.float32)
    return (v3.astype(np.float64) * np.float64(w3) + acc).astype(np.float32)


def resize_grid(grid: np.ndarray, scale_factor: float) -> np.ndarray:
    """(H, W, C) float32 grid -> torch's F.interpolate(..., scale_factor, mode='bicubic'):
    sum_j wy_j * (sum_k wx_k * x[y_j, x_k]), height outside, as ATen's
    InterpolateNonSeparable nests them."""
    grid = np.asarray(grid, np.float32)
    h, w, _ = grid.shape
    oh, iy, wy = bicubic_taps(h, scale_factor)
    ow, ix, wx = bicubic_taps(w, scale_factor)
    out = np.empty((oh, ow, grid.shape[2]), np.float32)
    for y in range(oh):
        rows = []
        for j in range(4):
            src = grid[iy[y, j]]  # (W, C)
            rows.append(_accumulate([(src[ix[:, k]], wx[:, k:k + 1]) for k in range(4)]))
        out[y] = _accumulate([(rows[j], wy[y, j]) for j in range(4)])
    return out


def dinov2_scale_factor(image_size: int, patch: int, train_grid: int) -> float:
    """The scale_factor interpolate_pos_encoding passes: (image // patch + 0.1) / sqrt(N)."""
    return (image_size // patch + POS_OFFSET) / math.sqrt(train_grid * train_grid)


def resized_pos_embed(pos_embed: np.ndarray, image_size: int, patch: int) -> np.ndarray:
    """(1, 1 + G*G, C) trained embedding -> (1, 1 + g*g, C) for image_size, g = size // patch,
    exactly as interpolate_pos_encoding computes it (class row unchanged)."""
    n = pos_embed.shape[1] - 1
    grid = int(math.sqrt(n))
    if grid * grid != n:
        raise ValueError(f"pos_embed has {n} patch rows, not a square grid")
    g = image_size // patch
    if g == grid:  # interpolate_pos_encoding returns the embedding as it is
        return np.asarray(pos_embed, np.float32)
    dim = pos_embed.shape[2]
    patch_rows = np.asarray(pos_embed[0, 1:], np.float32).reshape(grid, grid, dim)
    resized = resize_grid(patch_rows, dinov2_scale_factor(image_size, patch, grid))
    if resized.shape[:2] != (g, g):  # the reference asserts the same
        raise ValueError(f"resized grid is {resized.shape[:2]}, expected {(g, g)}")
    return np.concatenate([pos_embed[:, :1].astype(np.float32),
                           resized.reshape(1, g * g, dim)], axis=1)
