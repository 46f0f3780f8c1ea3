"""Thumbnails for the Samples view, made off the GUI thread and cached.

``request(root, name)`` answers at once: the cached QPixmap, or None after queueing the
file. Queued files are decoded in small batches by Tasks (gui.workers, the one place where
threads meet Qt) on a pool of their own, newest requests first: the view asks only for the
items it paints, so after a fast scroll the files that scrolled away are dropped from the
queue instead of being decoded. ``ready`` fires (coalesced) when new thumbnails arrived; while the view scrolls
(``hold``) nothing new is started.
"""
from __future__ import annotations

import collections
import os

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtCore import Qt

from .sample_strip import to_pixmap
from .workers import start_task

THUMB = 96
BATCH = 8
MAX_TASKS = 2
MAX_QUEUED = 128          # requests beyond this many (the oldest) are dropped: ~2 screens
MAX_CACHED = 4000         # pixmaps kept (about 110 MB at 96x96)
HOLD_MS = 60              # decoding starts this long after the last scroll step


def reader_for_path(root: str):
    """A reader for a folder or a .zip, without scanning it (the names are known); an image
    array (.npz / .npy) is opened to learn its layout (its names are ``arr_0[i]``, no paths)."""
    from engine.inputs.decode import FolderReader, ZipReader, reader_for
    if os.path.isfile(root) and root.lower().endswith((".npz", ".npy")):
        from engine.errors import InputError
        from engine.inputs.sources import open_source
        try:
            src = open_source(root)
        except InputError as exc:
            return lambda name, _why=str(exc): _unreadable(name, _why)
        if src.kind == "array":
            return reader_for(src, previews=True)
    return ZipReader(root) if os.path.isfile(root) and root.lower().endswith(".zip") else FolderReader(root)


def _unreadable(name: str, why: str):
    from engine.inputs.decode import Decoded
    return Decoded(name, problem=why)


_readers: dict = {}


def make_thumbnails(items, size: int = THUMB) -> list:
    """[(root, name)] -> [((root, name), HxWx3 uint8 | None, problem | None)] (worker thread)."""
    out = []
    for root, name in items:
        read = _readers.get(root)
        if read is None:
            read = _readers[root] = reader_for_path(root)
        d = read(name)
        if d.array is None:
            out.append(((root, name), None, d.problem))
            continue
        im = Image.fromarray(d.array)
        im.thumbnail((size, size), Image.Resampling.BILINEAR)
        out.append(((root, name), np.ascontiguousarray(np.asarray(im)), None))
    return out


def broken_pixmap(size: int = THUMB) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(QColor("#f3e3e3"))
    p = QPainter(pm)
    p.setPen(QColor("#a33"))
    p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, "cannot\ndecode")
    p.end()
    return pm


class ThumbnailCache(QObject):
    ready = Signal()

    def __init__(self, size: int = THUMB, parent=None):
        super().__init__(parent)
        self.size = size
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(MAX_TASKS)
        self._tasks: set = set()
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self._problems: dict = {}
        self._queued: collections.OrderedDict = collections.OrderedDict()
        self._pending: set = set()
        self._in_flight = 0
        self._broken = None
        self._notify = QTimer(self)
        self._notify.setSingleShot(True)
        self._notify.setInterval(30)
        self._notify.timeout.connect(self.ready.emit)
        self._hold = QTimer(self)   # while the view scrolls, decoding waits (see hold())
        self._hold.setSingleShot(True)
        self._hold.setInterval(HOLD_MS)
        self._hold.timeout.connect(self._pump)
        self.made = 0               # thumbnails made so far (for tests and the bench)

    def request(self, root: str, name: str):
        key = (root, name)
        pm = self._cache.get(key)
        if pm is not None:
            self._cache.move_to_end(key)
            return pm
        if key in self._problems:
            return self._broken_pm()
        if key not in self._pending:
            self._queued.pop(key, None)
            self._queued[key] = True            # newest last
            while len(self._queued) > MAX_QUEUED:
                self._queued.popitem(last=False)
            self._pump()
        return None

    def problem(self, root: str, name: str):
        return self._problems.get((root, name))

    def _broken_pm(self) -> QPixmap:
        if self._broken is None:
            self._broken = broken_pixmap(self.size)
        return self._broken

    def hold(self) -> None:
        """The view is scrolling: start no decoding until it has been still for HOLD_MS.
        Decoding the items that only fly past would cost CPU and GIL time the scrolling
        needs (measured: event-loop stalls of 50-90 ms on a loaded 2-core machine)."""
        self._hold.start()

    def _pump(self) -> None:
        if self._hold.isActive():
            return
        while self._in_flight < MAX_TASKS and self._queued:
            batch = []
            while self._queued and len(batch) < BATCH:
                key, _ = self._queued.popitem(last=True)    # newest first
                batch.append(key)
            self._pending.update(batch)
            self._in_flight += 1
            start_task(self.pool, self._tasks, make_thumbnails, batch, self.size,
                       on_done=self._done, on_failed=lambda msg, b=batch: self._failed(b, msg))

    def _done(self, results) -> None:
        for key, arr, problem in results:
            self._pending.discard(key)
            if arr is None:
                self._problems[key] = problem
            else:
                self._cache[key] = to_pixmap(arr)
                self.made += 1
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        self._in_flight -= 1
        if not self._notify.isActive():
            self._notify.start()
        self._pump()

    def _failed(self, batch, message: str) -> None:
        for key in batch:
            self._pending.discard(key)
            self._problems[key] = message
        self._in_flight -= 1
        if not self._notify.isActive():
            self._notify.start()
        self._pump()

    def clear_queue(self) -> None:
        self._queued.clear()

    def wait(self, ms: int = 10000) -> None:
        self._queued.clear()
        self.pool.waitForDone(ms)
