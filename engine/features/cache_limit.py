"""Size limit of the feature cache: least-recently-used entries go first.

An entry's last use is its folder's modification time, set when the entry is published and
again on every cache hit. After each publish the oldest entries are removed until the cache
fits the limit; the entry just written always stays (one entry larger than the limit is
kept until the next one arrives). Removal of an entry another run still has memory-mapped is
harmless on POSIX (the open file lives on); where the OS refuses, the entry stays and is
tried again next time.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LIMIT_GB = 20.0
GB = 1024 ** 3


@dataclass(frozen=True)
class Usage:
    entries: int
    bytes: int

    def describe(self) -> str:
        return f"{self.entries} entr{'y' if self.entries == 1 else 'ies'}, {self.bytes / GB:.2f} GB"


def _entries(root: Path):
    folder = Path(root) / "features"
    if not folder.is_dir():
        return []
    out = []
    for entry in folder.iterdir():
        if not entry.is_dir():
            continue
        size = 0
        try:
            for f in entry.iterdir():
                size += f.stat().st_size
            out.append((entry.stat().st_mtime, entry, size))
        except OSError:  # vanished while we looked (another process evicted it)
            continue
    return out


def usage(root: Path) -> Usage:
    items = _entries(root)
    return Usage(len(items), sum(s for _, _, s in items))


def touch(folder: Path) -> None:
    """Mark an entry as just used."""
    try:
        now = time.time()
        os.utime(folder, (now, now))
    except OSError:
        pass


def evict(root: Path, limit_bytes: float, keep: Path | None = None) -> list:
    """Remove least-recently-used entries until the cache fits; returns the removed folders."""
    items = sorted(_entries(root), key=lambda t: t[0])
    total = sum(s for _, _, s in items)
    removed = []
    keep = Path(keep).resolve() if keep is not None else None
    for _, entry, size in items:
        if total <= limit_bytes:
            break
        if keep is not None and entry.resolve() == keep:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            total -= size
            removed.append(entry)
    return removed


def clear(root: Path) -> Usage:
    """Remove every finished entry (and abandoned temporary folders older than a day);
    returns what is left (entries the OS would not let go of)."""
    for _, entry, _ in _entries(root):
        shutil.rmtree(entry, ignore_errors=True)
    tmp = Path(root) / "tmp"
    if tmp.is_dir():
        for d in tmp.iterdir():
            try:
                old = time.time() - d.stat().st_mtime > 86400
            except OSError:
                continue
            if old:
                shutil.rmtree(d, ignore_errors=True)
    return usage(root)
