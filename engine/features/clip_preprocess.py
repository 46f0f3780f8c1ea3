"""CLIP input preprocessing for the published conventions (numpy + Pillow, no torch).

Each gives the (3, S, S) float32 input of models/clip/graph.py: RGB in [0, 1] after
``(x - mean) / std`` with CLIP's mean and std, in float32. Pillow is called itself for every
resize, so all are bit-exact (tests/fixtures/clip/reference.json and
tests/fixtures/clipscore/reference.json record the differences measured against the
reference code: 0).

* ``clean-fid`` (clean-fid 0.1.35, ``compute_fid(..., mode="clean",
  model_name="clip_vit_b_32")``, 224 x 224): that call passes
  ``custom_fn_resize=img_preprocess_clip``, which replaces the dataset's own "clean" resize
  to 299 (``ResizeDataset.fn_resize``): no resize happens before it. So: the file read as
  ``Image.open(f).convert("RGB")`` as an array; ``img_preprocess_clip`` makes it a PIL image
  again, torchvision ``Resize(224, BICUBIC)`` (the shorter side to 224, the longer to
  ``int(224 * long / short)``; on a PIL image that is Pillow's antialiased bicubic),
  ``CenterCrop(224)`` (top/left = ``int(round((size - 224) / 2.0))``: Python's round, half to
  even), back to uint8; then ``ToTensor() * 255`` (``x / 255 * 255`` in float32: not always
  the integer again), ``CLIP_fx``'s ``/ 255.0`` and ``Normalize``.
* ``cmmd`` (google-research ``cmmd/io_util.py`` + ``embedding.py``, 336 x 336): centre crop
  to a square of side ``l = min(w, h)``, ``top = (h - l) // 2``, ``left = (w - l) // 2``,
  Pillow ``resize((336, 336), BICUBIC)``, float32 ``/ 255``; ``embedding.py`` then resizes
  to the model's 336 x 336 again (``jax.image.resize`` bicubic to the same size: weights 1
  and 0, the identity) and applies scenic's ``normalize_image`` (the same mean/std, float32).
  cmmd tiles a one-channel image to three; Pillow resizes each channel alike, so a gray
  image given here as RGB with equal channels gives the same numbers.
* ``torchmetrics`` (CLIPScore of torchmetrics 1.9 with ``openai/clip-vit-large-patch14``, 224):
  torchmetrics hands each image as a (3, H, W) tensor (uint8, as a user passes decoded images)
  to transformers' ``CLIPImageProcessor`` (the slow one: ``use_fast`` unset), with that
  checkpoint's values (shortest edge 224, crop 224 x 224, resample 3 = bicubic, rescale 1/255,
  CLIP mean/std: the class defaults): ``resize`` makes a PIL image of the uint8 array (no
  rescaling) and Pillow resizes it, bicubic, to the shorter side 224, the longer
  ``int(224 * long / short)`` (get_resize_output_image_size); ``center_crop`` takes
  ``top = (h - 224) // 2``, ``left = (w - 224) // 2`` (floor, not torchvision's round);
  ``rescale`` is ``float64(x) * (1/255)`` cast to float32 (not ``x / 255`` in float32);
  ``normalize`` ``(x - mean) / std`` in float32.
* ``hessel`` (jmhessel/clipscore ``CLIPImageDataset._transform_test(224)``): torchvision
  ``Resize(224, BICUBIC)`` of the PIL image as opened (its own mode; Pillow), ``CenterCrop(224)``
  (round, as clean-fid's), ``convert("RGB")``, ``ToTensor()`` (``x / 255`` in float32),
  ``Normalize``.
"""
from __future__ import annotations

import numpy as np

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CONVENTIONS = ("clean-fid", "cmmd", "torchmetrics", "hessel")
IMAGE_SIZE = {"clean-fid": 224, "cmmd": 336, "torchmetrics": 224, "hessel": 224}

_f = np.float32
_MEAN = np.array(CLIP_MEAN, np.float32).reshape(3, 1, 1)
_STD = np.array(CLIP_STD, np.float32).reshape(3, 1, 1)


def normalise(x01: np.ndarray) -> np.ndarray:
    """(3, H, W) float32 in [0, 1] -> (x - mean) / std in float32 (torchvision Normalize)."""
    return ((np.asarray(x01, np.float32) - _MEAN) / _STD).astype(np.float32, copy=False)


def _pil_rgb(image):
    from PIL import Image
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {image.shape} "
                             f"{image.dtype}")
        return Image.fromarray(image, "RGB")
    return image.convert("RGB")


def resized_shorter_side(width: int, height: int, size: int) -> tuple[int, int]:
    """torchvision's ``_compute_resized_output_size`` for ``Resize(size)`` (one int): the
    shorter side to size, the longer to ``int(size * long / short)``; (new_w, new_h)."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if width <= height else (new_long, new_short)


def center_crop_box(width: int, height: int, size: int) -> tuple[int, int, int, int]:
    """torchvision ``F.center_crop`` (image at least size x size): the PIL crop box."""
    top = int(round((height - size) / 2.0))
    left = int(round((width - size) / 2.0))
    return left, top, left + size, top + size


def preprocess_clean_fid(image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array or a PIL image -> (3, 224, 224) float32, as clean-fid
    0.1.35's CLIP path (img_preprocess_clip, ToTensor()*255, CLIP_fx)."""
    from PIL import Image
    size = IMAGE_SIZE["clean-fid"]
    im = _pil_rgb(image)
    new = resized_shorter_side(im.width, im.height, size)
    if new != im.size:  # torchvision returns the image itself when the size is right
        im = im.resize(new, Image.BICUBIC)
    im = im.crop(center_crop_box(im.width, im.height, size))
    hwc = np.asarray(im, np.uint8)
    x = hwc.transpose(2, 0, 1).astype(np.float32) / _f(255) * _f(255)  # ToTensor() * 255
    return normalise(x / _f(255.0))


def preprocess_cmmd(image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array or a PIL image -> (3, 336, 336) float32, as cmmd's
    io_util (centre square crop, Pillow bicubic to 336) and embedding (CLIP normalisation)."""
    from PIL import Image
    size = IMAGE_SIZE["cmmd"]
    im = _pil_rgb(image)
    w, h = im.size
    side = min(w, h)
    top, left = (h - side) // 2, (w - side) // 2
    im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)
    hwc = np.asarray(im).astype(np.float32)
    return normalise(hwc.transpose(2, 0, 1) / _f(255.0))


def preprocess_torchmetrics(image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array or a PIL image -> (3, 224, 224) float32, as
    CLIPImageProcessor (openai/clip-vit-large-patch14) does to torchmetrics' uint8 tensors."""
    from PIL import Image
    size = IMAGE_SIZE["torchmetrics"]
    im = _pil_rgb(image)
    im = im.resize(resized_shorter_side(im.width, im.height, size), Image.BICUBIC)
    hwc = np.asarray(im, np.uint8)
    top, left = (im.height - size) // 2, (im.width - size) // 2
    hwc = hwc[top:top + size, left:left + size]
    x = (hwc.transpose(2, 0, 1).astype(np.float64) * (1 / 255)).astype(np.float32)
    return normalise(x)


def preprocess_hessel(image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array or a PIL image (resized in its own mode, then made RGB,
    as clipscore.py) -> (3, 224, 224) float32."""
    from PIL import Image
    size = IMAGE_SIZE["hessel"]
    im = _pil_rgb(image) if isinstance(image, np.ndarray) else image
    new = resized_shorter_side(im.width, im.height, size)
    if new != im.size:  # torchvision returns the image itself when the size is right
        im = im.resize(new, Image.BICUBIC)
    im = im.crop(center_crop_box(im.width, im.height, size)).convert("RGB")
    x = np.asarray(im, np.uint8).transpose(2, 0, 1).astype(np.float32) / _f(255)
    return normalise(x)


_BY_CONVENTION = {"clean-fid": preprocess_clean_fid, "cmmd": preprocess_cmmd,
                  "torchmetrics": preprocess_torchmetrics, "hessel": preprocess_hessel}


def preprocess(image, convention: str) -> np.ndarray:
    """(3, S, S) float32 model input for convention 'clean-fid' (S = 224, ViT-B/32), 'cmmd'
    (S = 336, ViT-L/14@336px), 'torchmetrics' (224, ViT-L/14) or 'hessel' (224, ViT-B/32)."""
    try:
        fn = _BY_CONVENTION[convention]
    except KeyError:
        raise ValueError(f"unknown CLIP convention {convention!r}; expected one of "
                         f"{', '.join(CONVENTIONS)}") from None
    return fn(image)
