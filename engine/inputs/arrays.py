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

An .npz member carries zlib's CRC-32 over all its bytes, so a damage cannot be pinned to one
image: a member whose inflation or CRC check fails is refused whole (``DamagedArray``), and
``finish`` checks the part a run did not read (a shard, a stored member read in place) before
the run's numbers are used. Images above the image decoder's pixel limit are refused one by
one, unread, as oversized image files are.
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
from .decoded import MAX_PIXELS, Decoded


class DamagedArray(InputError):
    """An .npz member failed its inflation or CRC check: none of its images can be trusted."""

IMAGE_MEMBER = "arr_0"
# ADM reference batches carry these next to arr_0: pool3 (mu, sigma) and spatial (mu_s, sigma_s)
STATS_MEMBERS = ("mu", "sigma", "mu_s", "sigma_s")
MAX_HEADER_BYTES = 1 << 16
# deflate cannot expand data more than ~1032:1; a member that claims more is damaged or hostile
MAX_DEFLATE_RATIO = 1100
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
    crc: int | None = None      # the zip directory's CRC-32 of the member (None: a .npy file)
    member_offset: int = 0      # stored members: byte offset of the member's first byte

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

    def too_large(self) -> str | None:
        """The per-image reason when the images exceed the decoder's pixel limit, else None."""
        h, w = self.size_hw
        if h * w > MAX_PIXELS:
            return f"image too large: {w}x{h} pixels (limit {MAX_PIXELS:,})"
        return None

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


def channels_first_of(shape, found: str, channels=(3,)) -> bool:
    """The layout rule shared by array files and in-memory batches (the Python API): True
    for N×C×H×W, False for N×H×W×C, with C in ``channels``; InputError when the shape is not
    4-D, has no channel axis, or could be read either way (never guessed)."""
    what = "3" if channels == (3,) else " or ".join(map(str, channels))
    if len(shape) != 4:
        raise InputError(f"{found}; images must be N×H×W×3 or N×3×H×W")
    last, second = shape[3] in channels, shape[1] in channels
    if last and second:
        raise InputError(f"{found}: ambiguous — both axis 1 and axis 3 have {what} entries, so it could "
                         "be N×H×W×3 or N×3×H×W; transpose it to N×H×W×3 with a height other than 3")
    if not (last or second):
        raise InputError(f"{found}; expected 3 colour channels: neither axis 1 nor axis 3 has "
                         f"{what} entries, and images must be N×H×W×3 or N×3×H×W")
    return second


UINT8_ADVICE = ("images must be uint8 (0-255). Convert with np.clip(x, 0, 255).astype(np.uint8) "
                "after scaling to 0-255")


def check_layout(shape, fortran: bool, dtype, where: str) -> bool:
    """True for N×3×H×W, False for N×H×W×3; InputError saying what was found otherwise."""
    found = f"{where} holds a {dtype} array of shape {tuple(shape)}"
    if dtype.hasobject:
        raise InputError(f"{found}: object arrays are refused (they would need unpickling)")
    if dtype != np.uint8:
        raise InputError(f"{found}; {UINT8_ADVICE}")
    second = channels_first_of(shape, found)
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
    if compressed and info.file_size > MAX_DEFLATE_RATIO * max(1, info.compress_size) + (1 << 16):
        raise InputError(f"{where}: the archive says {info.compress_size} compressed bytes hold "
                         f"{info.file_size}, more than deflate can produce (damaged or hostile archive)")
    return ArrayInfo(str(path), member, shape, first, compressed, info.filename, offset,
                     crc=info.CRC, member_offset=0 if compressed else start)


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
    """How many whole images the file really holds (a .npy can be cut short by a copy, and
    an archive's directory can claim more than the file has); never more than the header's."""
    if info.compressed:
        return info.n   # sizes checked against the directory; the CRC check covers the rest
    size = os.path.getsize(info.path)
    return max(0, min(info.n, (size - info.data_offset) // max(1, info.image_bytes)))


class ArrayReader:
    """``reader(name) -> Decoded`` for the images of one array, safe to call from threads."""

    def __init__(self, info: ArrayInfo, previews: bool = False):
        self.info = info
        # previews (thumbnails): a damaged member gives per-image problems instead of an error
        self.previews = previews
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stream = None
        self._next = 0                       # index of the next image the stream yields
        per_chunk = max(1, CHUNK_BYTES // max(1, info.image_bytes))
        self._per_chunk = per_chunk
        self._window = collections.OrderedDict()   # first index -> (k, ...) uint8
        self._max_chunks = max(2, -(-WINDOW_IMAGES // per_chunk))
        self.rewinds = 0
        self._verified = False               # the member passed its CRC check
        self._damage = None                  # the first inflation / CRC failure
        self._too_large = info.too_large()

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
        self._open_stream()
        size = self.info.image_bytes
        while True:
            k = min(self._per_chunk, self.info.n - self._next)
            if k <= 0:
                raise EOFError("the array ends before this image")
            data = _read_exactly(self._stream, k * size)
            first = self._next
            chunk = [data[j * size:(j + 1) * size] for j in range(k)]
            self._next += k
            if self._next == self.info.n:
                self._check_end()
            self._window[first] = chunk
            while len(self._window) > self._max_chunks:
                self._window.popitem(last=False)
            if first <= i < first + k:
                return chunk[i - first]
            if first > i:
                raise AssertionError("stream passed the requested image")

    def _open_stream(self):
        if self._stream is None:
            self._zip = zipfile.ZipFile(self.info.path)
            self._stream = self._zip.open(self.info.zip_member)
            _read_exactly(self._stream, self.info.data_offset)   # the .npy header
            self._next = 0

    def _check_end(self):
        # zipfile compares the CRC once the member's end has been read: ask for one more byte
        if self._stream.read(1):
            raise zipfile.BadZipFile("the member holds more bytes than its header promises")
        self._verified = True

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

    def _damaged(self, exc) -> DamagedArray:
        self._damage = self._damage or str(exc) or type(exc).__name__
        return DamagedArray(f"{self.info.path}: array {self.info.member!r} is damaged ({self._damage}); "
                            "zlib's CRC covers the whole member, so none of its images is scored "
                            "(re-create or re-download the file)")

    def __call__(self, name: str):
        try:
            return self._decode(name)
        except DamagedArray:
            if not self.previews:
                raise
            return Decoded(name, problem=f"cannot read image from the array: {self._damage}")

    def _decode(self, name: str):
        import zlib
        if self._too_large:   # refused unread, as image files above the limit are
            return Decoded(name, problem=self._too_large)
        if self._damage:
            raise self._damaged(None)
        try:
            return Decoded(name, array=self.image(index_of(name)))
        except (zipfile.BadZipFile, zlib.error) as exc:
            raise self._damaged(exc) from None
        except (OSError, EOFError) as exc:
            if self.info.compressed:     # a compressed member that ends early is damaged whole
                raise self._damaged(exc) from None
            return Decoded(name, problem=f"cannot read image from the array: {exc}")
        except MemoryError:
            return Decoded(name, problem="not enough memory to read this image")

    def finish(self) -> None:
        """Check the CRC of a zip member over the bytes not yet checked; raises DamagedArray.
        Called once a run has read the images it needed, before its numbers are used."""
        import zlib
        if self.info.zip_member is None or self._verified or self._too_large:
            return
        try:
            with self._lock:
                if self.info.compressed:
                    self._open_stream()
                    while self._next < self.info.n:   # inflate the rest; the window is not kept
                        k = min(self._per_chunk, self.info.n - self._next)
                        _read_exactly(self._stream, k * self.info.image_bytes)
                        self._next += k
                    self._check_end()
                else:
                    crc, left = 0, self.info.data_offset - self.info.member_offset + \
                        self.info.n * self.info.image_bytes
                    with open(self.info.path, "rb") as fh:
                        fh.seek(self.info.member_offset)
                        while left:
                            part = fh.read(min(left, CHUNK_BYTES))
                            if not part:
                                raise EOFError("the archive ends inside the member")
                            crc = zlib.crc32(part, crc)
                            left -= len(part)
                    if crc != self.info.crc:
                        raise zipfile.BadZipFile(f"Bad CRC-32 for file {self.info.zip_member!r}")
                    self._verified = True
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise self._damaged(exc) from None

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
