"""CLIP input preprocessing for the two published conventions (numpy + Pillow, no torch).

Both give the (3, S, S) float32 input of the CLIP image encoder: RGB in [0, 1] after
``(x - mean) / std`` with CLIP's mean and std.

* ``clean-fid`` (clean-fid 0.1.35, ``model_name="clip_vit_b_32"``): PIL ``convert("RGB")``,
  torchvision ``Resize(224, BICUBIC)`` on the PIL image (shorter side to 224, Pillow's
  antialiased bicubic), ``CenterCrop(224)``, uint8, ``/ 255``, CLIP normalisation.
* ``cmmd`` (google-research ``cmmd/io_util.py``): centre crop to a square of side min(w, h)
  (``top = (h - l) // 2``, ``left = (w - l) // 2``), ``resize((336, 336), BICUBIC)``,
  ``/ 255`` in float32, CLIP normalisation.
"""
from __future__ import annotations

import numpy as np

IMAGE_SIZE = {"clean-fid": 224, "cmmd": 336}
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

_MEAN = np.array(CLIP_MEAN, np.float32).reshape(3, 1, 1)
_STD = np.array(CLIP_STD, np.float32).reshape(3, 1, 1)


def _pil(image):
    from PIL import Image
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} {image.dtype}")
        return Image.fromarray(image, "RGB")
    return image.convert("RGB")


def _normalise(rgb) -> np.ndarray:
    chw = np.asarray(rgb, np.uint8).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    return ((chw - _MEAN) / _STD).astype(np.float32, copy=False)


def _clean_fid(im):
    from PIL import Image
    size = IMAGE_SIZE["clean-fid"]
    w, h = im.size
    # torchvision Resize(int): the shorter side to `size`, the longer one int(size * long / short)
    if w <= h:
        new_w, new_h = size, int(size * h / w)
    else:
        new_w, new_h = int(size * w / h), size
    im = im.resize((new_w, new_h), Image.BICUBIC)
    # torchvision CenterCrop: offsets int(round((dim - size) / 2))
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    return im.crop((left, top, left + size, top + size))


def _cmmd(im):
    from PIL import Image
    size = IMAGE_SIZE["cmmd"]
    w, h = im.size
    side = min(w, h)
    top, left = (h - side) // 2, (w - side) // 2
    return im.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)


def preprocess(image, convention: str) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array or a PIL image -> the (3, S, S) float32 CLIP input."""
    if convention == "clean-fid":
        return _normalise(_clean_fid(_pil(image)))
    if convention == "cmmd":
        return _normalise(_cmmd(_pil(image)))
    raise ValueError(f"unknown CLIP convention {convention!r}; expected one of {', '.join(IMAGE_SIZE)}")
