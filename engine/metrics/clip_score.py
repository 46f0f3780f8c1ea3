"""CLIPScore of image-prompt pairs from their CLIP features, as each convention's tool computes it.

``clip_score(image_features, text_features, convention)`` -> ClipScoreResult: ``value`` (the
score of the set) and ``per_image`` (one number per pair, for the --per-image CSV). Row i of
each array belongs to the same pair. The features are the encoders' raw outputs
(encode_image / encode_text, not normalised), float32 as the tools have them on the CPU.

* ``torchmetrics`` (torchmetrics 1.9 ``CLIPScore``; functional ``_clip_score_update`` then the
  module's ``compute``), in float32: each feature divided by its L2 norm; per pair
  ``100 * sum(img * txt)``; the module adds the pair scores to its float32 state, divides by
  the number of pairs, and only then clamps at 0: ``max(mean, 0)``. per_image: the pair's
  ``100 * cos`` before any clamp (it can be negative).
* ``hessel`` (jmhessel/clipscore ``get_clip_score``, w = 2.5), in float32 numpy: the numpy
  >= 1.21 branch it takes today, ``x / sqrt(sum(x**2, axis=1, keepdims=True))`` (the older
  branch, ``sklearn.preprocessing.normalize``, runs only under numpy < 1.21, which this app
  cannot run); per pair ``2.5 * clip(sum(img * txt, axis=1), 0, None)``; value = their
  ``np.mean``. per_image: that per-pair score (clamped at 0, as the tool's per-instance output).

The paper's numbers came from GPU float16 runs; both tools run float32 on the CPU, as here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CONVENTIONS = ("torchmetrics", "hessel")
# the CLIP network each convention uses (models.clip variant)
CONVENTION_NETWORK = {"torchmetrics": "vitl14", "hessel": "vitb32"}
HESSEL_W = 2.5


@dataclass
class ClipScoreResult:
    value: float
    per_image: np.ndarray   # (N,) float32


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt(np.sum(x ** 2, axis=1, keepdims=True))


def clip_score(image_features: np.ndarray, text_features: np.ndarray,
               convention: str) -> ClipScoreResult:
    """CLIPScore of N pairs ((N, D) and (N, D) features); ValueError for an unknown
    convention, mismatched shapes or no pairs."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown CLIPScore convention {convention!r}; expected one of "
                         f"{', '.join(CONVENTIONS)}")
    img = np.asarray(image_features, np.float32)
    txt = np.asarray(text_features, np.float32)
    if img.ndim != 2 or img.shape != txt.shape:
        raise ValueError(f"image and text features must be (N, D) of one shape, got "
                         f"{img.shape} and {txt.shape}")
    if len(img) == 0:
        raise ValueError("CLIPScore needs at least one image-prompt pair")
    if convention == "hessel":
        per = HESSEL_W * np.clip(np.sum(_unit(img) * _unit(txt), axis=1), 0, None)
        return ClipScoreResult(float(np.mean(per)), per.astype(np.float32))
    per = np.float32(100) * np.sum(_unit(img) * _unit(txt), axis=-1)
    mean = np.float32(np.float32(0) + per.sum(dtype=np.float32)) / np.float32(len(per))
    return ClipScoreResult(float(max(mean, np.float32(0))), per.astype(np.float32))
