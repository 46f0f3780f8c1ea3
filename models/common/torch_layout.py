"""Shapes and stored dtypes of the tensors in a PyTorch file, from its pickle alone.

No tensor data is read (cheap for a file of any size, and it works on a file whose data is
damaged), so a verifier can name the architecture a file holds before reading gigabytes.
The pickle is read by torch_reader's restricted unpickler: no pickled code runs.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import WeightsFormatError
from .torch_reader import (TorchScriptObject, _open_zip, _TensorRef, _unpickle, is_torchscript,
                           torchscript_root)


def _layout(obj) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    return {k: (tuple(int(n) for n in v.size), v.storage.dtype) for k, v in obj.items()}


def _flatten_refs(root: TorchScriptObject, prefix: str = "") -> dict[str, _TensorRef]:
    """flatten_module before any data is read: 'sub.name' -> the tensor's reference."""
    out: dict[str, _TensorRef] = {}
    for key, value in root.state.items():
        if isinstance(value, _TensorRef):
            out[f"{prefix}{key}"] = value
        elif isinstance(value, TorchScriptObject):
            out.update(_flatten_refs(value, f"{prefix}{key}."))
    return out


def state_dict_layout(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Key -> (shape, stored dtype) of a ``torch.save`` zip-format state dict, read from its
    pickle alone: no tensor data is read, so it is cheap for a file of any size (and works on
    a file whose data is damaged). WeightsFormatError for anything else."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise WeightsFormatError(f"{path.name} is not a torch.save zip file")
    zf, prefix = _open_zip(path)
    with zf:
        obj = _unpickle(zf.read(prefix + "data.pkl"), torchscript=False,
                        where=f"{path.name}:data.pkl")
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(
            isinstance(k, str) and isinstance(v, _TensorRef) for k, v in obj.items()):
        raise WeightsFormatError(f"{path.name} does not hold a plain state dict of tensors")
    return _layout(obj)


def archive_layout(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """state_dict_layout for a state dict or a TorchScript archive (keys as flatten_module
    names them): shapes and stored dtypes from the pickle alone."""
    path = Path(path)
    if not is_torchscript(path):
        return state_dict_layout(path)
    zf, prefix = _open_zip(path)
    with zf:
        root = torchscript_root(zf, prefix, path)
    return _layout(_flatten_refs(root))


def key_mismatch(missing: list[str], extra: list[str]) -> str:
    """'N expected tensor(s) missing, e.g. …; M unexpected tensor(s), e.g. …' ('' if none):
    how a verifier names a state dict whose keys are not the layout's."""
    parts = []
    if missing:
        parts.append(f"{len(missing)} expected tensor(s) missing, e.g. '{missing[0]}'")
    if extra:
        parts.append(f"{len(extra)} unexpected tensor(s), e.g. '{extra[0]}'")
    return "; ".join(parts)


def peek_layout(path: Path, reader=archive_layout) -> dict | None:
    """``reader(path)`` (archive_layout, state_dict_layout), or None for a file that cannot be
    read that far (the full checks then say truncated or corrupted): for the cheap
    architecture check before them."""
    try:
        return reader(path)
    except (WeightsFormatError, zipfile.BadZipFile, EOFError, OSError):
        return None
