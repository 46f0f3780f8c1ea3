"""Hashes, atomic writes and provenance files: how every built model reaches the disk.

A model is written whole or not at all (a temporary file in the same folder, fsynced, then
renamed), and beside it ``<model>.json`` records where every byte came from.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..errors import HashMismatchError


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_sha256(path: Path, expected: str, what: str) -> str:
    """Return the file's SHA-256; raise HashMismatchError unless it starts with expected.

    ``expected`` may be a full digest or (pytorch-fid style) a prefix of one.
    """
    assert len(expected) >= 8, "a hash prefix this short proves nothing"
    actual = sha256_file(path)
    if not actual.startswith(expected.lower()):
        raise HashMismatchError(
            f"{what} ({path}) has SHA-256 {actual}, expected {expected}: the file is "
            "damaged or not the genuine one. Refusing to use it.")
    return actual


def atomic_write(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a model is not a secret
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def provenance_path(model_path: Path) -> Path:
    """``fid_inception.onnx`` -> ``fid_inception.onnx.json``."""
    return Path(str(model_path) + ".json")


def read_provenance(model_path: Path) -> dict:
    """The model's provenance, or {} when it has none or it is unreadable."""
    prov_file = provenance_path(model_path)
    try:
        return json.loads(prov_file.read_text()) if prov_file.is_file() else {}
    except ValueError:
        return {}


def write_provenance(model_path: Path, prov: dict) -> None:
    atomic_write(provenance_path(model_path), (json.dumps(prov, indent=2) + "\n").encode())


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
