"""Images held in NumPy arrays: a ``.npy`` file or a member of an ``.npz`` archive.

The layout the diffusion-model papers use (the ADM evaluator of guided-diffusion): ``arr_0``
uint8, N×H×W×3, usually 50,000 images — gigabytes, so nothing here loads an array whole:

- a ``.npy`` file, or an ``.npz`` member *stored* without compression (what ``np.savez``
  writes), is read image by image at its byte offset in the file (random access, any thread);
- a compressed member (``np.savez_compressed``) is inflated sequentially by one reader that
  keeps a small window of recent images, as ADM's ``StreamingNpzArrayReader`` reads it.

Only uint8 arrays of shape N×H×W×3 or N×3×H×W are accepted, told apart by which axis has 3
entries; a shape where both could be the channel axis is refused rather than guessed. Arrays
are never unpickled (object arrays are refused). Image i of member ``arr_0`` is named
``arr_0[i]`` in problems and per-image outputs; a ``.npy`` file counts as member ``arr_0``.
"""
from __future__ import annotations

import collections
import os
import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .decoded import Decoded

IMAGE_MEMBER = "arr_0"
# ADM reference batches carry these next to arr_0: pool3 (mu, sigma) and spatial (mu_s, sigma_s)
STATS_MEMBERS = ("mu", "sigma", "mu_s", "sigma_s")
MAX_HEADER_BYTES = 1 << 16
# a compressed member is inflated in chunks of about this size; a window of recent chunks
# serves the decode threads, which ask for images nearly (not exactly) in order
CHUNK_BYTES = 4 << 20
WINDOW_IMAGES = 256


@dataclass(frozen=True)
class ArrayInfo:
    """Where the images of one array are and how they are laid out."""
    path: str
    member: str                 # "arr_0"; the name prefix of every image
    shape: tuple                # as stored
    channels_first: bool        # N×3×H×W
    compressed: bool            # inflate sequentially (no random access)
    zip_member: str | None      # "arr_0.npy" inside an .npz, None for a .npy file
    data_offset: int            # byte offset of image 0 in the file (uncompressed layouts) or
                                # in the member's uncompressed stream (compressed ones)

    @property
    def n(self) -> int:
        return int(self.shape[0])

    @property
    def image_bytes(self) -> int:
        return int(np.prod(self.shape[1:]))

    @property
    def size_hw(self) -> tuple:
        return tuple(self.shape[2:]) if self.channels_first else tuple(self.shape[1:3])

    def name(self, i: int) -> str:
        return f"{self.member}[{i}]"

    def describe(self) -> str:
        h, w = self.size_hw
        order = "N×3×H×W" if self.channels_first else "N×H×W×3"
        how = "compressed, read sequentially" if self.compressed else "read in place"
        return f"{self.n} images of {h}×{w} ({order} uint8, {how})"


def index_of(name: str) -> int:
    return int(name[name.rindex("[") + 1:-1])


def _read_header(fp, where: str):
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            header = np.lib.format.read_array_header_1_0(fp, max_header_size=MAX_HEADER_BYTES)
        elif version == (2, 0):
            header = np.lib.format.read_array_header_2_0(fp, max_header_size=MAX_HEADER_BYTES)
        else:
            raise InputError(f"{where}: .npy format version {version} is not supported (1.0 and 2.0 are)")
    except (ValueError, EOFError, OSError, SyntaxError) as exc:
        raise InputError(f"{where}: not a readable .npy array ({exc})") from None
    return header


def check_layout(shape, fortran: bool, dtype, where: str) -> bool:
    """True for N×3×H×W, False for N×H×W×3; InputError saying what was found otherwise."""
    found = f"{where} holds a {dtype} array of shape {tuple(shape)}"
    if dtype.hasobject:
        raise InputError(f"{found}: object arrays are refused (they would need unpickling)")
    if dtype != np.uint8:
        raise InputError(f"{found}; images must be uint8 (0-255). Convert with "
                         "np.clip(x, 0, 255).astype(np.uint8) after scaling to 0-255")
    if len(shape) != 4:
        raise InputError(f"{found}; images must be N×H×W×3 or N×3×H×W")
    last, second = shape[3] == 3, shape[1] == 3
    if last and second:
        raise InputError(f"{found}: ambiguous — both axis 1 and axis 3 have 3 entries, so it could "
                         "be N×H×W×3 or N×3×H×W; transpose it to N×H×W×3 with a height other than 3")
    if not (last or second):
        raise InputError(f"{found}; neither axis 1 nor axis 3 has 3 entries (RGB): "
                         "images must be N×H×W×3 or N×3×H×W")
    if shape[0] < 1 or min(shape[1:]) < 1:
        raise InputError(f"{found}: it holds no pixels")
    if fortran:
        raise InputError(f"{found} in Fortran order, which cannot be read image by image; "
                         "save np.ascontiguousarray(x) instead")
    return second


def _local_data_offset(fh, info: zipfile.ZipInfo) -> int:
    """Offset of a stored member's first byte (after its local header) in the zip file."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise InputError(f"{info.filename}: damaged zip local header")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_len + extra_len


def inspect_npy(path) -> ArrayInfo:
    where = f"{path}"
    with open(path, "rb") as fh:
        shape, fortran, dtype = _read_header(fh, where)
        offset = fh.tell()
    first = check_layout(shape, fortran, dtype, where)
    return ArrayInfo(str(path), IMAGE_MEMBER, tuple(int(s) for s in shape), first, False, None, offset)


def npz_members(path) -> dict:
    """{array name: ZipInfo} of an .npz archive (nothing is read but the directory)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {i.filename[:-4]: i for i in zf.infolist() if i.filename.endswith(".npy")}
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"cannot read .npz archive {path}: {exc}") from None


def inspect_member(path, info: zipfile.ZipInfo) -> ArrayInfo:
    member = info.filename[:-4]
    where = f"{path}: array {member!r}"
    if info.flag_bits & 0x1:
        raise InputError(f"{where} is encrypted")
    compressed = info.compress_type != zipfile.ZIP_STORED
    try:
        with open(path, "rb") as fh:
            if compressed:
                with zipfile.ZipFile(fh) as zf, zf.open(info) as stream:
                    shape, fortran, dtype = _read_header(stream, where)
                    offset = stream.tell()
            else:
                start = _local_data_offset(fh, info)
                fh.seek(start)
                shape, fortran, dtype = _read_header(fh, where)
                offset = fh.tell()
    except (zipfile.BadZipFile, NotImplementedError, OSError) as exc:
        raise InputError(f"{where}: cannot read it ({exc})") from None
    first = check_layout(shape, fortran, dtype, where)
    shape = tuple(int(s) for s in shape)
    expected = (offset - (0 if compressed else start)) + int(np.prod(shape))
    if info.file_size != expected:
        raise InputError(f"{where}: its header promises {expected} bytes but the member holds "
                         f"{info.file_size} (damaged or truncated archive)")
    return ArrayInfo(str(path), member, shape, first, compressed, info.filename, offset)


def load_small(path, names) -> dict:
    """Small arrays of an .npz (e.g. mu, sigma) as float64, read without unpickling."""
    out = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for name in names:
                out[name] = np.asarray(data[name], dtype=np.float64)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read arrays {', '.join(names)} of {path}: {exc}") from None
    return out


def available_images(info: ArrayInfo) -> int:
    """How many whole images the file really holds (a .npy can be cut short by a copy)."""
    if info.compressed or info.zip_member is not None:
        return info.n   # the archive's directory vouched for the member's size
    size = os.path.getsize(info.path)
    return max(0, min(info.n, (size - info.data_offset) // max(1, info.image_bytes)))


class ArrayReader:
    """``reader(name) -> Decoded`` for the images of one array, safe to call from threads."""

    def __init__(self, info: ArrayInfo):
        self.info = info
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stream = None
        self._next = 0                       # index of the next image the stream yields
        per_chunk = max(1, CHUNK_BYTES // max(1, info.image_bytes))
        self._per_chunk = per_chunk
        self._window = collections.OrderedDict()   # first index -> (k, ...) uint8
        self._max_chunks = max(2, -(-WINDOW_IMAGES // per_chunk))
        self.rewinds = 0

    def _raw(self, i: int) -> bytes:
        if not self.info.compressed:
            fh = getattr(self._local, "fh", None)
            if fh is None:
                fh = self._local.fh = open(self.info.path, "rb")
            fh.seek(self.info.data_offset + i * self.info.image_bytes)
            data = fh.read(self.info.image_bytes)
            if len(data) != self.info.image_bytes:
                raise EOFError("the file ends before this image (truncated copy?)")
            return data
        with self._lock:
            return self._from_stream(i)

    def _from_stream(self, i: int) -> bytes:
        for first, chunk in self._window.items():
            if first <= i < first + len(chunk):
                return chunk[i - first]
        if i < self._next:   # behind the window: start the member again (rare)
            self._close_stream()
            self.rewinds += 1
        if self._stream is None:
            self._zip = zipfile.ZipFile(self.info.path)
            self._stream = self._zip.open(self.info.zip_member)
            _read_exactly(self._stream, self.info.data_offset)   # the .npy header
            self._next = 0
        size = self.info.image_bytes
        while True:
            k = min(self._per_chunk, self.info.n - self._next)
            if k <= 0:
                raise EOFError("the array ends before this image")
            data = _read_exactly(self._stream, k * size)
            first = self._next
            chunk = [data[j * size:(j + 1) * size] for j in range(k)]
            self._next += k
            self._window[first] = chunk
            while len(self._window) > self._max_chunks:
                self._window.popitem(last=False)
            if first <= i < first + k:
                return chunk[i - first]
            if first > i:
                raise AssertionError("stream passed the requested image")

    def _close_stream(self):
        if self._stream is not None:
            self._stream.close()
            self._zip.close()
        self._stream = None
        self._window.clear()

    def image(self, i: int) -> np.ndarray:
        """Image i as H×W×3 uint8 (raises OSError, EOFError, zipfile/zlib errors)."""
        a = np.frombuffer(self._raw(i), dtype=np.uint8).reshape(self.info.shape[1:])
        if self.info.channels_first:
            return np.ascontiguousarray(a.transpose(1, 2, 0))
        return a.copy()

    def __call__(self, name: str):
        try:
            return Decoded(name, array=self.image(index_of(name)))
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            return Decoded(name, problem=f"cannot read image from the array: {exc}")

    def close(self):
        with self._lock:
            self._close_stream()


def _read_exactly(stream, size: int) -> bytes:
    parts, got = [], 0
    while got < size:
        part = stream.read(size - got)
        if not part:
            raise EOFError(f"the array data ends early ({got} of {size} bytes left to read)")
        parts.append(part)
        got += len(part)
    return b"".join(parts)
