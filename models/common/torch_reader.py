"""Read tensors from PyTorch files without torch and without running pickled code.

Three layouts are understood:

* TorchScript archives (``torch.jit.save``, e.g. ``default_1.pt``): a zip holding
  ``<prefix>/data.pkl`` (the module tree) and ``<prefix>/data/<key>`` (raw storages).
* ``torch.save`` zip files (torch >= 1.6): same zip layout, the pickle is the saved object.
* legacy ``torch.save`` files (torch < 1.6, e.g. the 2019 pytorch-fid weights): four
  pickles in a row (magic number, protocol, sys info, object), a pickled list of storage
  keys, then each storage as int64 element count + raw little-endian bytes.

Pickles are read by an unpickler that answers only the handful of globals these files
use, each mapped to an inert stand-in; any other global (``os.system``, ``builtins.eval``
...) raises UnsafePickleError before anything is imported or called.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import UnsafePickleError, WeightsFormatError

# torch's legacy format starts with this number, pickled (torch/serialization.py).
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001

# Storage class name -> numpy dtype of its raw bytes (always little-endian on disk here).
_STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": np.dtype("<u2"),  # widened to float32 on read
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class TorchScriptObject:
    """Inert stand-in for a ``__torch__.*`` module class: keeps its pickled state only."""

    type_name = "__torch__.?"

    def __setstate__(self, state):
        # BUILD hands us the module's attribute dict (submodules, tensors, ints).
        self.state = dict(state) if isinstance(state, dict) else {"__state__": state}

    def __repr__(self):
        return f"<{self.type_name}>"


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return _STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class _StorageRef:
    """A persistent id resolved to 'which bytes', not yet read."""

    key: str
    dtype: np.dtype
    numel: int
    view_offset: int = 0  # legacy files: a storage may be a view into a root storage
    view_numel: int | None = None


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple
    stride: tuple


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    # Stand-in for torch._utils._rebuild_tensor_v2: records where the data is; the bytes
    # are read afterwards (legacy files store them after the pickle).
    if not isinstance(storage, _StorageRef):
        raise WeightsFormatError("a tensor in the file does not point at a storage")
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _build_intlist(values):
    # Stand-in for torch.jit._pickle.build_intlist: TorchScript wraps int lists in it.
    return [int(v) for v in values]


def _torchscript_class(module: str, name: str) -> type:
    return _TS_CLASSES.setdefault(
        (module, name),
        type(name, (TorchScriptObject,), {"type_name": f"{module}.{name}"}))


_TS_CLASSES: dict = {}


class _RestrictedUnpickler(pickle.Unpickler):
    """Answers only the globals that weight files use; refuses everything else."""

    def __init__(self, file, *, torchscript: bool, where: str):
        super().__init__(file, encoding="latin1")
        self._torchscript = torchscript
        self._where = where

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module in ("torch", "torch.cuda") and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if self._torchscript:
            if (module, name) == ("torch.jit._pickle", "build_intlist"):
                return _build_intlist
            if module == "__torch__" or module.startswith("__torch__."):
                return _torchscript_class(module, name)
        raise UnsafePickleError(
            f"{self._where} refers to '{module}.{name}', which a weights file has no "
            "reason to contain. Refusing to load it (nothing from the file was run). "
            "Use the genuine weights file.")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if not (isinstance(pid, tuple) and len(pid) in (5, 6)):
            raise WeightsFormatError(f"{self._where}: unexpected persistent id {pid!r}")
        kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        if kind != "storage" or not isinstance(pid[1], _StorageType):
            raise WeightsFormatError(f"{self._where}: unsupported persistent id {pid!r}")
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if view is None:
            return _StorageRef(str(key), storage_type.dtype, int(numel))
        _view_key, view_offset, view_numel = view
        return _StorageRef(str(key), storage_type.dtype, int(numel),
                           int(view_offset), int(view_numel))


def _unpickle(data: bytes | io.BufferedIOBase, *, torchscript: bool, where: str) -> Any:
    f = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        return _RestrictedUnpickler(f, torchscript=torchscript, where=where).load()
    except (UnsafePickleError, WeightsFormatError):
        raise
    except Exception as exc:  # truncated or garbled pickle
        raise WeightsFormatError(f"{where} is damaged or not a PyTorch file ({exc})") from exc


# ---------------------------------------------------------------- tensor materialisation

def _materialise(ref: _TensorRef, storage_array: Callable[[_StorageRef], np.ndarray]):
    base = storage_array(ref.storage)
    if ref.storage.view_numel is not None:
        base = base[ref.storage.view_offset:ref.storage.view_offset + ref.storage.view_numel]
    size, stride = ref.size, ref.stride
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise WeightsFormatError(f"tensor with invalid size/stride {size}/{stride}")
    # Bounds check before as_strided: a bad file must not make us read outside the buffer.
    if all(size):
        last = ref.offset + sum((n - 1) * s for n, s in zip(size, stride))
        if ref.offset < 0 or last >= base.size:
            raise WeightsFormatError("a tensor reaches past the end of its storage")
    else:
        return np.zeros(size, dtype=_out_dtype(base.dtype))
    view = np.lib.stride_tricks.as_strided(
        base[ref.offset:], shape=size, strides=[s * base.itemsize for s in stride],
        writeable=False)
    out = np.array(view, dtype=base.dtype, copy=True)
    if ref.storage.dtype == _STORAGE_DTYPES["BFloat16Storage"]:
        return (out.astype(np.uint32) << 16).view(np.float32)
    return out.astype(_out_dtype(out.dtype), copy=False)


def _out_dtype(dtype: np.dtype) -> np.dtype:
    # Callers build float32 graphs: every floating tensor comes back as native float32;
    # integer tensors (e.g. BN num_batches_tracked) keep their integer type.
    return np.dtype(np.float32) if dtype.kind == "f" else dtype.newbyteorder("=")


def _resolve(obj, storage_array):
    """Replace every _TensorRef inside obj (dicts, lists, stand-in modules) by an array."""
    if isinstance(obj, _TensorRef):
        return _materialise(obj, storage_array)
    if isinstance(obj, TorchScriptObject):
        obj.state = {k: _resolve(v, storage_array) for k, v in obj.state.items()}
        return obj
    if isinstance(obj, dict):
        return type(obj)((k, _resolve(v, storage_array)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_resolve(v, storage_array) for v in obj)
    return obj


# ---------------------------------------------------------------- zip archives

def _open_zip(path: Path) -> tuple[zipfile.ZipFile, str]:
    zf = zipfile.ZipFile(path)
    pickles = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        zf.close()
        raise WeightsFormatError(
            f"{path.name} is a zip file but not a PyTorch archive (no single */data.pkl)")
    prefix = pickles[0][: -len("data.pkl")]
    byteorder = prefix + "byteorder"
    if byteorder in zf.namelist() and zf.read(byteorder).strip() != b"little":
        zf.close()
        raise WeightsFormatError(f"{path.name} was saved big-endian; not supported")
    return zf, prefix


def _zip_storage_reader(zf: zipfile.ZipFile, prefix: str, name: str):
    cache: dict = {}

    def storage_array(ref: _StorageRef) -> np.ndarray:
        if ref.key not in cache:
            member = f"{prefix}data/{ref.key}"
            try:
                raw = zf.read(member)
            except KeyError:
                raise WeightsFormatError(f"{name}: storage {member} is missing") from None
            if len(raw) < ref.numel * ref.dtype.itemsize:
                raise WeightsFormatError(f"{name}: storage {member} is truncated")
            cache[ref.key] = np.frombuffer(raw, dtype=ref.dtype, count=ref.numel)
        return cache[ref.key]

    return storage_array


def torchscript_root(zf: zipfile.ZipFile, prefix: str, path: Path) -> TorchScriptObject:
    """The unresolved module tree of an open TorchScript archive (tensors as references)."""
    root = _unpickle(zf.read(prefix + "data.pkl"), torchscript=True, where=f"{path.name}:data.pkl")
    if not isinstance(root, TorchScriptObject):
        raise WeightsFormatError(f"{path.name} does not hold a TorchScript module")
    return root


def load_torchscript(path: Path) -> TorchScriptObject:
    """The module tree of a TorchScript archive: stand-ins with ``.state`` dicts."""
    path = Path(path)
    zf, prefix = _open_zip(path)
    with zf:
        return _resolve(torchscript_root(zf, prefix, path), _zip_storage_reader(zf, prefix, path.name))


def flatten_module(root: TorchScriptObject, prefix: str = "") -> dict[str, np.ndarray]:
    """'sub.sub.name' -> array for every tensor attribute in a TorchScript module tree."""
    out: dict[str, np.ndarray] = {}
    for key, value in root.state.items():
        name = f"{prefix}{key}"
        if isinstance(value, np.ndarray):
            out[name] = value
        elif isinstance(value, TorchScriptObject):
            out.update(flatten_module(value, name + "."))
    return out


# ---------------------------------------------------------------- torch.save files

def _legacy_load(path: Path) -> dict:
    with open(path, "rb") as f:
        where = path.name
        header = [_unpickle(f, torchscript=False, where=where) for _ in range(3)]
        magic, protocol, sys_info = header
        if magic != LEGACY_MAGIC_NUMBER or protocol != LEGACY_PROTOCOL_VERSION:
            raise WeightsFormatError(f"{where} is not a PyTorch weights file")
        if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
            raise WeightsFormatError(f"{where} was saved big-endian; not supported")
        obj = _unpickle(f, torchscript=False, where=where)
        keys = _unpickle(f, torchscript=False, where=where)
        # Which dtype each root storage has: collect from the tensors that use it.
        dtypes = {}
        _collect_storages(obj, dtypes)
        arrays: dict[str, np.ndarray] = {}
        for key in keys:
            key = str(key)
            head = f.read(8)
            if len(head) != 8 or key not in dtypes:
                raise WeightsFormatError(f"{where}: storage table is damaged")
            (numel,) = struct.unpack("<q", head)
            dtype = dtypes[key]
            raw = f.read(numel * dtype.itemsize)
            if numel < 0 or len(raw) != numel * dtype.itemsize:
                raise WeightsFormatError(f"{where} is truncated")
            arrays[key] = np.frombuffer(raw, dtype=dtype)

    def storage_array(ref: _StorageRef) -> np.ndarray:
        if ref.key not in arrays:
            raise WeightsFormatError(f"{where}: storage {ref.key} is missing")
        return arrays[ref.key]

    return _resolve(obj, storage_array)


def _collect_storages(obj, out: dict) -> None:
    if isinstance(obj, _TensorRef):
        out[obj.storage.key] = obj.storage.dtype
    elif isinstance(obj, dict):
        for v in obj.values():
            _collect_storages(v, out)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _collect_storages(v, out)


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a ``torch.save``-d state dict (zip or legacy format), by key."""
    path = Path(path)
    if not path.is_file():
        raise WeightsFormatError(f"weights file not found: {path}")
    if zipfile.is_zipfile(path):
        zf, prefix = _open_zip(path)
        with zf:
            if any(n.startswith(prefix + "code/") for n in zf.namelist()):
                raise WeightsFormatError(
                    f"{path.name} is a TorchScript archive, not a torch.save state dict")
            obj = _unpickle(zf.read(prefix + "data.pkl"), torchscript=False,
                            where=f"{path.name}:data.pkl")
            obj = _resolve(obj, _zip_storage_reader(zf, prefix, path.name))
    else:
        with open(path, "rb") as f:
            if f.read(512)[257:262] == b"ustar":
                raise WeightsFormatError(
                    f"{path.name} uses torch's pre-0.4 tar format, which is not supported")
        obj = _legacy_load(path)
    # Some checkpoints wrap the state dict: {'state_dict': {...}}.
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray) for k, v in obj.items()):
        raise WeightsFormatError(f"{path.name} does not hold a plain state dict of tensors")
    return dict(obj)


def read_tensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a TorchScript archive or a torch.save state dict, by dotted name."""
    path = Path(path)
    if is_torchscript(path):
        return flatten_module(load_torchscript(path))
    return load_state_dict(path)


def is_torchscript(path: Path) -> bool:
    """A zip holding TorchScript code (``<prefix>/code/``): a ``torch.jit.save`` archive."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return any("/code/" in n for n in zf.namelist())
