"""SHA-256 of each image's stored bytes, and the identity of a source's listing.

``stats`` records both so that ``stats --merge`` can tell disjoint sets from overlapping ones
by content, whatever the files are called: the digest of a folder image is that of its file,
of a zip image that of its (decompressed) member, of an array image that of its pixels.
"""
from __future__ import annotations

import hashlib
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..errors import InputError
from .sources import display_name

DIGEST_BYTES = 32
_CHUNK = 1 << 20


def listing_digest(names) -> str:
    """SHA-256 of a sorted name list: which listing a shard was cut from."""
    return hashlib.sha256("\n".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def full_listing(src) -> list:
    """Every name a shard of ``src`` is cut from (refused names included), as shards.py sorts them."""
    return sorted(set(src.files) | {name for name, _ in src.refused})


def _file_digest(path: Path) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(_CHUNK)
            if not block:
                return h.digest()
            h.update(block)


def _digests(src, names, workers: int) -> list:
    if src.kind == "folder":
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:   # hashlib lets go of the GIL
            return list(pool.map(lambda n: _file_digest(src.path / n), names))
    if src.kind == "zip":
        with zipfile.ZipFile(src.path) as zf:
            infos = zf.infolist()
            out = []
            for name in names:
                k = src.members.get(name)
                out.append(hashlib.sha256(zf.read(infos[k] if k is not None else name)).digest())
            return out
    if src.kind == "array":
        from .arrays import ArrayReader, index_of
        reader = ArrayReader(src.array)
        try:
            return [hashlib.sha256(reader.image(index_of(n)).tobytes()).digest() for n in names]
        finally:
            reader.close()
    raise InputError(f"{src.label}: a {src.kind} source has no images to hash")


def content_digests(src, names, workers: int = 4) -> np.ndarray:
    """(len(names), 32) uint8: the SHA-256 of each image's bytes, rows sorted (a set, compactly)."""
    try:
        rows = _digests(src, list(names), workers)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as exc:
        raise InputError(f"cannot read the images of {src.label} again to record their content "
                         f"hashes: {display_name(str(exc))}") from None
    if not rows:
        return np.zeros((0, DIGEST_BYTES), np.uint8)
    return np.array(sorted(rows), dtype=f"S{DIGEST_BYTES}").view(np.uint8).reshape(-1, DIGEST_BYTES)
