"""Images handed over in memory: uint8 batches (N×H×W×3 or N×3×H×W), an iterable of them,
or an .npz of samples, turned into a source the ordinary pipeline reads.

The pipeline then decodes nothing: each image goes through the same preset preprocessing,
batching and model as a file would, so the numbers equal those of the same pixels on disk.
Tensors of other frameworks work through ``numpy()`` (or ``np.asarray``); nothing here
imports them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..inputs.arrays import UINT8_ADVICE, channels_first_of
from ..inputs.sources import Source

ARRAY_KIND = "arrays"


class BatchError(InputError, ValueError):
    """An in-memory batch that cannot be scored (a ValueError too, as it always was)."""


def _one_batch(batch, where: str) -> np.ndarray:
    """A batch as C-contiguous N×H×W×3 uint8, or a BatchError that says how to fix it. The
    layout rule is the one array files follow (``inputs.arrays``): an ambiguous shape is
    refused, never guessed; 1-channel (grayscale) batches are replicated to RGB."""
    if hasattr(batch, "detach") and hasattr(batch, "cpu"):   # a torch tensor on any device
        batch = batch.detach().cpu()
    arr = np.asarray(batch)
    found = f"{where} holds a {arr.dtype} array of shape {tuple(arr.shape)}"
    if arr.dtype != np.uint8:
        raise BatchError(f"{found}; {UINT8_ADVICE} (from [-1, 1]: ((x + 1) * 127.5).round())")
    if arr.ndim == 3 and (arr.shape[-1] in (1, 3) or arr.shape[0] in (1, 3)):
        raise BatchError(f"{where}: got one image of shape {arr.shape}; pass a batch (add a first "
                         "axis: x[None])")
    try:
        first = channels_first_of(arr.shape, found, channels=(1, 3))
    except InputError as exc:
        raise BatchError(str(exc)) from None
    nhwc = arr.transpose(0, 2, 3, 1) if first else arr
    if nhwc.shape[-1] == 1:          # grayscale: replicated, as PIL's convert("RGB") does
        nhwc = np.repeat(nhwc, 3, axis=-1)
    if nhwc.shape[1] < 1 or nhwc.shape[2] < 1:
        raise BatchError(f"{where}: images have no pixels (shape {arr.shape})")
    return nhwc


def is_single_batch(images) -> bool:
    return isinstance(images, np.ndarray) or hasattr(images, "__array__") or hasattr(images, "numpy")


class ImageStream:
    """Iterates (label, H×W×3 uint8) over one batch or an iterable of batches, lazily.

    ``len`` is the number of images when known up front (a single batch), else 0: it only
    feeds the progress estimate.
    """

    def __init__(self, images):
        if isinstance(images, (str, bytes, Path)):
            raise TypeError("a path is not an image batch")
        self._single = is_single_batch(images)
        if self._single:
            if hasattr(images, "numpy") and not isinstance(images, np.ndarray) \
                    and not hasattr(images, "__array__"):
                images = images.numpy()
            self._batches = [images]
            self._len = len(_one_batch(images, "images"))
        else:
            try:
                self._batches = iter(images)
            except TypeError:
                raise TypeError("images must be a uint8 array (N×H×W×3 or N×3×H×W), an iterable of "
                                f"such batches, or a folder / .zip / .npz path; got {type(images).__name__}") from None
            self._len = 0
        self._used = False

    def __len__(self) -> int:
        return self._len

    def __iter__(self):
        if self._used:
            raise RuntimeError("an iterable of batches can be read only once")
        self._used = True
        index = 0
        for b, batch in enumerate(self._batches):
            arr = _one_batch(batch, "images" if self._single else f"batch {b}")
            for image in arr:
                yield f"#{index}", np.ascontiguousarray(image)
                index += 1


def array_source(images, label: str = "in-memory images") -> Source:
    """A Source whose "files" are in-memory images (the pipeline's reader passes them through)."""
    return Source(path=Path(label), kind=ARRAY_KIND, files=ImageStream(images))
