"""Preset table: each reference convention maps to a resizer and an input normaliser.

Users pick the convention of the tool whose numbers they must match, not a filter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import OptionError
from .resize import resize_chw

INPUT_SIZE = 299


def _clean(image: np.ndarray) -> np.ndarray:
    # clean-fid: PIL bicubic on float32 ('F' mode) per channel, clip to [0, 255]
    x = resize_chw(image, "pil_bicubic", INPUT_SIZE)
    np.clip(x, 0.0, 255.0, out=x)
    x -= 128.0
    x /= 128.0
    return x


def _pytorch_fid(image: np.ndarray) -> np.ndarray:
    # pytorch-fid: ToTensor (x/255), bilinear resize in the network, then 2x-1
    x = resize_chw(image.astype(np.float32) / np.float32(255.0), "torch_bilinear", INPUT_SIZE)
    x *= 2.0
    x -= 1.0
    return x


def _tensorflow(image: np.ndarray) -> np.ndarray:
    # TTUR / StyleGAN: TF1 bilinear on 0-255 values, then (x-128)/128 inside the graph
    x = resize_chw(image, "tf1_bilinear", INPUT_SIZE)
    x -= 128.0
    x /= 128.0
    return x


@dataclass(frozen=True)
class Preset:
    name: str
    equals: str          # the published tool whose numbers this preset reproduces
    resize: str          # human description of the resize
    prepare: Callable[[np.ndarray], np.ndarray]  # HxWx3 uint8 -> 3x299x299 float32, normalised


PRESETS: dict[str, Preset] = {
    p.name: p for p in (
        Preset("clean", "clean-fid 0.1.35 mode=\"clean\"",
               "PIL bicubic on float32 per channel, clipped to [0, 255]", _clean),
        Preset("pytorch-fid", "pytorch-fid 0.3.0",
               "bilinear like torch F.interpolate(align_corners=False), no antialias", _pytorch_fid),
        Preset("tensorflow", "TTUR / clean-fid legacy_tensorflow / StyleGAN3",
               "TF1 bilinear (align_corners=False, no half-pixel centres)", _tensorflow),
    )
}
DEFAULT_PRESET = "clean"


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise OptionError(f"unknown preset {name!r}; valid: {', '.join(PRESETS)}") from None


def reference_resize(image: np.ndarray, preset: str) -> np.ndarray:
    """The resized image in 0-255 units, HxWx3, before normalisation (for parity checks)."""
    x = get_preset(preset).prepare(image)
    x = (x + 1.0) * 127.5 if preset == "pytorch-fid" else x * 128.0 + 128.0
    return x.transpose(1, 2, 0)
