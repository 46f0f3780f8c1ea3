"""DINOv2 input preprocessing for the two published conventions (numpy + Pillow, no torch).

Both give the (3, 224, 224) float32 input of models/dinov2/graph.py: RGB in [0, 1] after
``(x - mean) / std`` with the ImageNet mean and std, the aspect ratio squashed (no crop).

* ``dgm-eval`` (layer6ai-labs/dgm-eval, the FD_DINOv2 of Stein et al. 2023): PIL
  ``Image.convert("RGB")``, torchvision ``Resize((224, 224), BICUBIC)`` (on a PIL image that
  is ``img.resize((224, 224), Image.BICUBIC)``: Pillow's antialiased bicubic, a = -0.5,
  uint8 out, no reducing_gap), ``ToTensor`` (float32 ``/ 255``), ``Normalize``
  (``sub_(mean).div_(std)`` in float32). Pillow is called itself, so this is bit-exact.
* ``edm2`` (EDM2's ``DINOv2Detector``, ``resize_mode='torch'``):
  ``F.interpolate(x.float(), size=(224, 224), mode='bicubic', antialias=True)`` on the 0–255
  uint8 values, not rounded, then ``/ 255`` and the same normalisation. That resize is ATen's
  separable antialiased kernel (UpSampleKernel.cpp ``_compute_indices_min_size_weights_aa``,
  ``HelperInterpCubic::aa_filter``): Keys cubic with a = -0.5, support 2 * max(scale, 1) taps,
  weights normalised to sum 1, taps clipped at the borders; width pass first, then height,
  each accumulated tap by tap in float32. We compute the taps with the same float32/float64
  mix as the C++ and accumulate in the same order.
"""

from __future__ import annotations

import math

import numpy as np

IMAGE_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CONVENTIONS = ("dgm-eval", "edm2")

_f = np.float32
_MEAN = np.array(IMAGENET_MEAN, np.float32).reshape(3, 1, 1)
_STD = np.array(IMAGENET_STD, np.float32).reshape(3, 1, 1)


def normalise(x01: np.ndarray) -> np.ndarray:
    """(3, H, W) float32 in [0, 1] -> torchvision Normalize: (x - mean) / std in float32."""
    return ((np.asarray(x01, np.float32) - _MEAN) / _STD).astype(np.float32, copy=False)


# ---------------------------------------------------------------- dgm-eval

def preprocess_dgm_eval(image) -> np.ndarray:
    """A PIL image (any mode) -> (3, 224, 224) float32, as dgm-eval's DINOv2 transform."""
    from PIL import Image
    rgb = image.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC)
    chw = np.asarray(rgb, np.uint8).transpose(2, 0, 1)
    return normalise(chw.astype(np.float32) / _f(255))  # ToTensor: .float().div(255)


# ---------------------------------------------------------------- edm2 (torch's AA bicubic)

def _fma(a, b, c) -> np.float32:
    """float32 a * b + c rounded once, as the FMA the compiler makes of ATen's float code
    (GCC contracts a * b + c by default where the CPU has FMA; torch's kernels are built
    so). The float64 product of two float32 is exact; the float64 sum is rounded, so the
    result could differ from a true FMA only on an exact float32 tie after that rounding."""
    return _f(np.float64(a) * np.float64(b) + np.float64(c))


def _aa_cubic(x: np.float32) -> np.float32:
    """ATen HelperInterpCubic::aa_filter<float>: Keys cubic, a = -0.5 (as Pillow), with the
    polynomial evaluated as the compiler fuses it (Horner steps as FMAs)."""
    a = _f(-0.5)
    x = abs(_f(x))
    if x < 1.0:  # ((A + 2) * x - (A + 3)) * x * x + 1
        return _fma(_fma(a + _f(2), x, -(a + _f(3))) * x, x, _f(1))
    if x < 2.0:  # ((A * x - 5A) * x + 8A) * x - 4A
        return _fma(_fma(_fma(a, x, -(_f(5) * a)), x, _f(8) * a), x, -(_f(4) * a))
    return _f(0)


def aa_bicubic_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices (out, K), float32 weights (out, K) and tap counts (out,) of torch's
    antialiased bicubic resize along one axis (align_corners=False, size given). Unused taps
    have weight 0 and repeat the last used index."""
    scale = _f(_f(in_size) / _f(out_size))  # area_pixel_compute_scale<float>, no scale_factor
    # (interp_size * 0.5) * scale with interp_size 4, in double, stored as float
    support = _f((4 * 0.5) * float(scale)) if scale >= 1.0 else _f(4 * 0.5)
    invscale = _f(1.0 / float(scale)) if scale >= 1.0 else _f(1.0)
    k_max = int(math.ceil(support)) * 2 + 1
    idx = np.zeros((out_size, k_max), np.int64)
    wts = np.zeros((out_size, k_max), np.float32)
    counts = np.zeros(out_size, np.int64)
    for i in range(out_size):
        center = _f(float(scale) * (i + 0.5))  # float scale * double (i + 0.5), stored as float
        xmin = max(int(float(center - support) + 0.5), 0)  # C++ cast truncates toward zero
        xsize = min(int(float(center + support) + 0.5), in_size) - xmin
        xsize = min(max(xsize, 0), k_max)
        w = [_aa_cubic(_f((float(_f(j + xmin) - center) + 0.5) * float(invscale)))
             for j in range(xsize)]
        total = _f(0)
        for v in w:
            total = total + v
        if total != 0:
            w = [v / total for v in w]
        idx[i, :xsize] = np.arange(xmin, xmin + xsize)
        idx[i, xsize:] = xmin + max(xsize - 1, 0)
        wts[i, :xsize] = w
        counts[i] = xsize
    return idx, wts, counts


def _resample_axis(x: np.ndarray, axis: int, out_size: int) -> np.ndarray:
    """Resample float32 x along axis as ATen's interpolate_separable_1d loop does:
    ``out = t0 * w0; for j in 1..n-1: out += tj * wj``, each output on its own.

    How the compiler built that loop shows in the roundings (measured on the x86-64 AVX2
    kernel of torch 2.13, bit for bit on every tap count 1–9): of the n - 1 accumulation
    steps, the first 4 * ((n - 1) // 4) add separately rounded products (the products are
    vectorised four at a time, then added in order) and the remaining ones are fused
    multiply-adds. Other builds may differ from this in the last bit, no more."""
    if x.shape[axis] == out_size:  # ATen skips a dimension whose size does not change
        return x
    idx, wts, counts = aa_bicubic_taps(x.shape[axis], out_size)
    shape = [1] * x.ndim
    shape[axis] = out_size
    unfused_steps = (4 * ((counts - 1) // 4)).reshape(shape)
    acc = np.take(x, idx[:, 0], axis=axis) * wts[:, 0].reshape(shape)
    for k in range(1, idx.shape[1]):  # taps past a row's count have weight 0: exact no-ops
        tap = np.take(x, idx[:, k], axis=axis)
        w = wts[:, k].reshape(shape)
        plain = acc + tap * w
        fused = (tap.astype(np.float64) * w.astype(np.float64) + acc).astype(np.float32)
        acc = np.where(k <= unfused_steps, plain, fused)
    return acc


def resize_torch_aa_bicubic(chw: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """(C, H, W) values (e.g. uint8 0–255) -> (C, size, size) float32, as
    ``F.interpolate(x.float(), size=(size, size), mode='bicubic', antialias=True)``."""
    x = np.asarray(chw).astype(np.float32)
    x = _resample_axis(x, 2, size)  # horizontal (the contiguous dimension) first
    return _resample_axis(x, 1, size)


def preprocess_edm2(image) -> np.ndarray:
    """A PIL image or an (H, W, 3) uint8 RGB array -> (3, 224, 224) float32, as EDM2's
    DINOv2Detector with resize_mode='torch'."""
    if not isinstance(image, np.ndarray):
        image = np.asarray(image.convert("RGB"), np.uint8)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} "
                         f"{image.dtype}")
    x = resize_torch_aa_bicubic(image.transpose(2, 0, 1))
    return normalise(x / _f(255))


def preprocess(image, convention: str) -> np.ndarray:
    """(3, 224, 224) float32 model input for convention 'dgm-eval' or 'edm2'."""
    if convention == "dgm-eval":
        if isinstance(image, np.ndarray):
            from PIL import Image
            image = Image.fromarray(image)
        return preprocess_dgm_eval(image)
    if convention == "edm2":
        return preprocess_edm2(image)
    raise ValueError(f"unknown DINOv2 convention {convention!r}; expected one of "
                     f"{', '.join(CONVENTIONS)}")
