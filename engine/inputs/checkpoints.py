"""Checkpoint folders: natural order of a parent's subfolders, and when a new one is "done".

A checkpoint parent holds one subfolder of samples per training checkpoint (``step_1000``,
``step_20000``...). Natural order sorts the digits as numbers, so step_2000 comes before
step_10000. ``FolderWatch`` is the logic behind the GUI's "watch folder": it is polled on a
timer and reports a new subfolder only once its contents stopped changing for ``settle_s``
seconds, so a folder that a training job is still writing is not scored half-full.

Pure Python, no Qt: the clock and the scanner are injectable, so tests need no sleeps.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .sources import IMAGE_EXTENSIONS

_DIGITS = re.compile(r"(\d+)")
# Names that say "still being written" (download/copy temp files): a folder holding one is
# never considered stable.
_PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".download")


def natural_key(name: str) -> tuple:
    """Sort key: digit runs compare as numbers, the rest case-insensitively.

    ``re.split`` with a capturing group alternates text, number, text..., so position i
    always holds the same type and the tuples compare without type errors. The name itself
    breaks ties, so that 'a01' and 'a1' still have a fixed order.
    """
    parts = _DIGITS.split(name)
    return tuple(int(p) if i % 2 else p.casefold() for i, p in enumerate(parts)), name


def natural_sorted(paths) -> list:
    return sorted(paths, key=lambda p: natural_key(Path(p).name))


def checkpoint_step(name: str) -> int | None:
    """The last number in a folder name (``step_020000`` -> 20000), or None."""
    found = _DIGITS.findall(name)
    return int(found[-1]) if found else None


def sweep_axis(names) -> tuple[list, str]:
    """X positions for a checkpoint sweep plot, and the axis title.

    Training steps when every name carries a distinct number in increasing order, else the
    position in the list (1, 2, 3...).
    """
    steps = [checkpoint_step(Path(n).name) for n in names]
    if steps and None not in steps and all(a < b for a, b in zip(steps, steps[1:])):
        return steps, "checkpoint (number in folder name)"
    return list(range(1, len(steps) + 1)), "checkpoint (order)"


def _has_image(folder: Path, limit: int = 10000) -> bool:
    seen = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in files:
            if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS and not f.startswith("."):
                return True
            seen += 1
            if seen > limit:
                return False
    return False


def subfolders(parent) -> list[Path]:
    """Direct, non-hidden subfolders of ``parent`` in natural order (unreadable: empty list)."""
    try:
        entries = [Path(e.path) for e in os.scandir(parent) if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return []
    return natural_sorted(entries)


def list_checkpoints(parent) -> list[Path]:
    """Subfolders of ``parent`` that contain at least one image, in natural order."""
    return [p for p in subfolders(parent) if _has_image(p)]


@dataclass(frozen=True)
class FolderSignature:
    n_images: int
    n_files: int
    total_bytes: int
    newest_mtime_ns: int
    partial: bool        # a temp/partial file is present: the folder is still being written


def folder_signature(folder) -> FolderSignature | None:
    """What changes while a folder is written to; None when it cannot be read (or vanished)."""
    n_images = n_files = total = newest = 0
    partial = False
    try:
        for root, dirs, files in os.walk(folder, onerror=_raise):
            for f in files:
                try:
                    st = os.stat(os.path.join(root, f))
                except FileNotFoundError:   # removed between listing and stat: still changing
                    partial = True
                    continue
                n_files += 1
                total += st.st_size
                newest = max(newest, st.st_mtime_ns)
                lower = f.lower()
                if lower.endswith(_PARTIAL_SUFFIXES):
                    partial = True
                elif os.path.splitext(lower)[1] in IMAGE_EXTENSIONS and not f.startswith("."):
                    n_images += 1
    except OSError:
        return None
    return FolderSignature(n_images, n_files, total, newest, partial)


def _raise(exc):
    raise exc


class FolderWatch:
    """Reports each new subfolder of ``parent`` once it has images and stopped changing.

    ``poll()`` is cheap enough for a timer of about a second on folders of a few thousand
    files. Subfolders present when the watch starts (or listed in ``known``) are not
    reported; each folder is reported at most once.
    """

    def __init__(self, parent, settle_s: float = 10.0, known=None, *, clock=time.monotonic,
                 scan=folder_signature):
        self.parent = Path(parent)
        self.settle_s = settle_s
        self._clock = clock
        self._scan = scan
        start = subfolders(self.parent) if known is None else known
        self.known: set[Path] = {Path(p).resolve() for p in start}
        self._pending: dict[Path, tuple[FolderSignature, float]] = {}

    def pending(self) -> list[Path]:
        """New folders seen but not stable yet (for a status line)."""
        return natural_sorted(self._pending)

    def poll(self) -> list[Path]:
        """New subfolders that became stable since the last poll, in natural order."""
        now = self._clock()
        ready = []
        present = set()
        for folder in subfolders(self.parent):
            key = folder.resolve()
            present.add(key)
            if key in self.known:
                continue
            sig = self._scan(folder)
            if sig is None:
                self._pending.pop(key, None)
                continue
            previous = self._pending.get(key)
            if previous is None or previous[0] != sig or sig.partial or sig.n_images == 0:
                # First sighting or still changing: (re)start its quiet period.
                since = previous[1] if previous is not None and previous[0] == sig else now
                self._pending[key] = (sig, since)
                continue
            if now - previous[1] >= self.settle_s:
                ready.append(folder)
                self.known.add(key)
                del self._pending[key]
        for gone in set(self._pending) - present:
            del self._pending[gone]
        return natural_sorted(ready)
