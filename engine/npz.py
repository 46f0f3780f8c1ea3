"""``np.savez``'s file layout, written so that other threads keep running.

``np.savez`` copies each array into the zip member in one piece while holding the GIL (a
2048x2048 float64 covariance: 33 MB, ~150 ms on a small CPU, during which the window's thread
cannot run). Here each array goes in as a header plus 1 MiB slices of its own memory: the CRC
and the file write of every slice release the GIL, and nothing is copied. The result is what
``np.savez`` makes (one stored ``NAME.npy`` member per array, zip64 entries), read back by
``np.load``.
"""
from __future__ import annotations

import zipfile

import numpy as np

CHUNK = 1 << 20


def write_npz(file, arrays: dict) -> None:
    """Write ``arrays`` (name -> array-like) to ``file`` (a path or a binary file object)."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, value in arrays.items():
            arr = np.asanyarray(value)
            if not (arr.flags.c_contiguous or arr.flags.f_contiguous):
                arr = arr.copy(order="C")
            if arr.dtype.hasobject:
                raise ValueError(f"{name}: object arrays are not written (they would need pickle)")
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, np.lib.format.header_data_from_array_1_0(arr))
                # a Fortran-ordered array is stored as such (the header says so), as np.savez does
                flat = arr.T.reshape(-1) if not arr.flags.c_contiguous else arr.reshape(-1)
                data = memoryview(flat.view(np.uint8)) if arr.size else memoryview(b"")
                for start in range(0, len(data), CHUNK):
                    member.write(data[start:start + CHUNK])
