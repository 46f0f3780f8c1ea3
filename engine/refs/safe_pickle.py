"""Read a pickle of plain data and numpy arrays (EDM2's dataset references) without running code.

A pickle names the callables that rebuild its objects; ``pickle.load`` imports and calls them,
so a pickle can run anything. This unpickler answers only the few callables numpy's own array
pickling uses (numpy 1.x ``numpy.core`` and 2.x ``numpy._core`` names), each a data
constructor, and refuses every other name — before importing it — with an error that names it.
Dicts, lists, tuples, strings and numbers need no callable at all.
"""
from __future__ import annotations

import codecs
import io
import pickle

import numpy as np

from ..errors import InputError


def _allowed() -> dict:
    try:
        from numpy._core import multiarray, numeric
    except ImportError:                        # numpy 1.x
        from numpy.core import multiarray, numeric
    frombuffer = getattr(numeric, "_frombuffer", None)
    out = {}
    for core in ("numpy.core", "numpy._core"):
        out[(f"{core}.multiarray", "_reconstruct")] = multiarray._reconstruct
        out[(f"{core}.multiarray", "scalar")] = multiarray.scalar
        if frombuffer is not None:
            out[(f"{core}.numeric", "_frombuffer")] = frombuffer
    out[("numpy", "ndarray")] = np.ndarray
    out[("numpy", "dtype")] = np.dtype
    out[("_codecs", "encode")] = codecs.encode      # protocol 2: an array's bytes as latin-1 text
    return out


class _ArraysOnly(pickle.Unpickler):
    def __init__(self, fh, where: str):
        super().__init__(fh)
        self._where = where
        self._ok = _allowed()

    def find_class(self, module, name):
        try:
            return self._ok[(module, name)]
        except KeyError:
            raise InputError(f"{self._where} asks the unpickler for '{module}.{name}', which a file of "
                             "statistics has no reason to contain: refused (nothing from it was run)") from None

    def persistent_load(self, pid):
        raise InputError(f"{self._where} refers to external storage ({pid!r}): not a file of statistics")


def load(path, where: str):
    """The object pickled in ``path``, rebuilt from plain data and numpy arrays only."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        return _ArraysOnly(io.BytesIO(data), where).load()
    except InputError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, MemoryError) as exc:
        raise InputError(f"cannot read {where} (truncated or not a pickle?): "
                         f"{str(exc) or type(exc).__name__}") from None
