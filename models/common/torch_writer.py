"""Write a state dict as ``torch.save`` does, without torch (numpy + zipfile).

The zip-format file (torch >= 1.6) that ``torch.load(weights_only=True)`` reads: a protocol-2
pickle of ``OrderedDict{key: tensor}`` and one stored (uncompressed) entry per tensor,
streamed one tensor at a time (a full-size stand-in is gigabytes). The stand-in weights of
the parity tests are written with it.
"""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

_STORAGES = {np.dtype(np.float32): "FloatStorage", np.dtype(np.float64): "DoubleStorage",
             np.dtype(np.float16): "HalfStorage", np.dtype(np.int64): "LongStorage"}


def _pickle(arrays: list[tuple[str, np.ndarray]]) -> bytes:
    """Protocol-2 pickle of OrderedDict{key: tensor} as torch.save writes it: GLOBAL
    opcodes for OrderedDict / _rebuild_tensor_v2 / <dtype>Storage, one storage per tensor
    named '0', '1', … as a persistent id."""
    out = bytearray(b"\x80\x02")

    def text(s: str) -> None:
        b = s.encode()
        out.extend(b"X" + struct.pack("<I", len(b)) + b)

    def integer(n: int) -> None:
        out.extend(b"J" + struct.pack("<i", n))

    def glob(module: str, name: str) -> None:
        out.extend(b"c" + f"{module}\n{name}\n".encode())

    def ints(values) -> None:
        out.extend(b"(")
        for v in values:
            integer(int(v))
        out.extend(b"t")

    glob("collections", "OrderedDict")
    out.extend(b")R(")
    for idx, (key, arr) in enumerate(arrays):
        text(key)
        glob("torch._utils", "_rebuild_tensor_v2")
        out.extend(b"((")
        text("storage")
        glob("torch", _STORAGES[arr.dtype])
        text(str(idx))
        text("cpu")
        integer(arr.size)
        out.extend(b"tQ")
        integer(0)
        ints(arr.shape)
        ints([int(np.prod(arr.shape[i + 1:])) for i in range(arr.ndim)])
        out.extend(b"\x89")
        glob("collections", "OrderedDict")
        out.extend(b")RtR")
    out.extend(b"u.")
    return bytes(out)


def write_torch_state_dict(path: Path, tensors: dict[str, np.ndarray]) -> Path:
    """Write tensors as a torch.save zip-format state dict (little-endian, stored)."""
    arrays = [(k, np.asarray(v, dtype=v.dtype.newbyteorder("<"))) for k, v in tensors.items()]
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr("archive/data.pkl", _pickle(arrays))
        zf.writestr("archive/byteorder", "little")
        for idx, (_, arr) in enumerate(arrays):
            with zf.open(f"archive/data/{idx}", "w", force_zip64=arr.nbytes > 2**31) as f:
                f.write(np.ascontiguousarray(arr).data)
        zf.writestr("archive/version", "3\n")
    return path


