"""Decoding one image to RGB uint8 the way the reference tools do, or a per-file problem.

Choices (documented in the README):
- Pillow's ``convert("RGB")``, as pytorch-fid and clean-fid do: grayscale is replicated,
  alpha is dropped (not composited), palette is expanded, CMYK uses Pillow's conversion.
- EXIF orientation is NOT applied: the reference tools ignore it, and so must we to match.
- 16-bit images are scaled to 8 bits (value / 257, rounded). The reference tools clip them
  to 255 (a nearly white image); we scale and say so in the run's warnings.
- GIF/multi-frame files: the first frame.
- Truncated files are errors (no silent grey padding), as are images above MAX_PIXELS.
"""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np
from PIL import Image, UnidentifiedImageError

from .arrays import ArrayReader
from .decoded import MAX_PIXELS, Decoded

Image.MAX_IMAGE_PIXELS = None  # we enforce our own limit before decoding, with a clear message


def _to_rgb(im: Image.Image) -> tuple[np.ndarray, str | None]:
    note = None
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N") or (im.mode == "I" and im.format in ("PNG", "TIFF")):
        a = np.asarray(im, dtype=np.float64)
        hi = 65535.0 if im.mode.startswith("I;16") or a.max() > 255 else 255.0
        a8 = np.clip(np.rint(a * (255.0 / hi)), 0, 255).astype(np.uint8)
        note = "16-bit image scaled to 8 bits (reference tools would clip it)" if hi > 255 else None
        return np.repeat(a8[:, :, None], 3, axis=2), note
    if im.mode != "RGB":
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.uint8), note


def _exif_orientation(im):
    try:
        return im.getexif().get(0x0112)
    except Exception:  # malformed EXIF must not make a readable image unusable
        return None


def decode_bytes_or_path(name: str, opener) -> Decoded:
    try:
        with opener() as fh:
            with Image.open(fh) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    return Decoded(name, problem=f"image too large: {w}x{h} pixels (limit {MAX_PIXELS:,})")
                if w < 1 or h < 1:
                    return Decoded(name, problem=f"image has no pixels ({w}x{h})")
                im.seek(0)
                im.load()
                arr, note = _to_rgb(im)
                if note is None and _exif_orientation(im) not in (None, 1):
                    note = "EXIF orientation ignored, as the reference tools do"
    except UnidentifiedImageError:
        return Decoded(name, problem="not a readable image (unknown or corrupt format)")
    except RuntimeError as exc:       # zipfile: "File ... is encrypted, password required"
        if "encrypted" in str(exc) or "password" in str(exc):
            return Decoded(name, problem="encrypted (password required)")
        return Decoded(name, problem=f"cannot read archive member: {exc}")
    except NotImplementedError as exc:   # zipfile: a compression method it cannot read
        return Decoded(name, problem=f"cannot read archive member: {exc}")
    except PermissionError:
        return Decoded(name, problem="cannot read file: permission denied")
    except FileNotFoundError:
        return Decoded(name, problem="cannot read file: it vanished or is a broken link")
    except (OSError, SyntaxError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        msg = str(exc) or type(exc).__name__
        if "truncated" in msg.lower():
            msg = "file is truncated (incomplete download or copy?)"
        return Decoded(name, problem=f"cannot decode image: {msg}")
    except MemoryError:
        return Decoded(name, problem="not enough memory to decode this image")
    if arr.ndim != 3 or arr.shape[2] != 3:
        return Decoded(name, problem=f"unexpected decoded shape {arr.shape}")
    return Decoded(name, array=arr, note=note)


class FolderReader:
    def __init__(self, root):
        self.root = root

    def __call__(self, name: str) -> Decoded:
        return decode_bytes_or_path(name, lambda: open(os.path.join(self.root, name), "rb"))


class ZipReader:
    """Reads members in place; one ZipFile handle per thread (ZipFile is not thread-safe)."""

    def __init__(self, path, members=None):
        import threading
        self.path = path
        self.members = members or {}    # listed name -> index in infolist() (duplicate names)
        self._local = threading.local()

    def _zip(self) -> zipfile.ZipFile:
        zf = getattr(self._local, "zf", None)
        if zf is None:
            zf = self._local.zf = zipfile.ZipFile(self.path)
        return zf

    def __call__(self, name: str) -> Decoded:
        def opener():
            zf = self._zip()
            k = self.members.get(name)
            # by its own entry: ZipFile.read(name) would give the last copy of a duplicated name
            return io.BytesIO(zf.read(zf.infolist()[k] if k is not None else name))
        return decode_bytes_or_path(name, opener)


def _pass_through(item) -> Decoded:
    """In-memory images (engine.api.images) arrive as (label, HxWx3 uint8): nothing to decode."""
    name, array = item
    return Decoded(name, array=array)


def reader_spec(source) -> tuple:
    """What a worker process or a Ray task needs to read ``source`` the way this process
    does (picklable): an array's layout, a zip's member index (duplicate names), a folder."""
    if source.kind == "array":
        return ("array", source.array)
    if source.kind == "zip":
        return ("zip", str(source.path), dict(getattr(source, "members", None) or {}))
    if source.kind == "folder":
        return ("folder", str(source.path))
    raise ValueError(f"a {source.kind!r} source is read in the calling process only")


def reader_from_spec(spec, previews: bool = False):
    kind = spec[0]
    if kind == "array":
        return ArrayReader(spec[1], previews=previews)
    if kind == "zip":
        return ZipReader(spec[1], spec[2])
    return FolderReader(spec[1])


def reader_for(source, previews: bool = False):
    """``read(name) -> Decoded`` for a source. ``previews``: for thumbnails, where a damaged
    array member gives per-image problems instead of refusing the member."""
    if source.kind == "arrays":
        return _pass_through
    return reader_from_spec(reader_spec(source), previews=previews)


def reader_for_path(root: str):
    """A reader for a folder, a .zip or an image array by its path, without scanning a folder
    (the names are known: the window's thumbnails and the report's sample pages read the files
    a result lists). An array (.npz / .npy) is opened to learn its layout (names ``arr_0[i]``)."""
    if os.path.isfile(root) and root.lower().endswith((".npz", ".npy")):
        from ..errors import InputError
        from .sources import open_source
        try:
            src = open_source(root)
        except InputError as exc:
            return lambda name, _why=str(exc): Decoded(name, problem=_why)
        if src.kind == "array":
            return reader_for(src, previews=True)
    return ZipReader(root) if os.path.isfile(root) and root.lower().endswith(".zip") else FolderReader(root)
