"""Notices when another process commits to the History database (a training script logging
scores), without reading the database on a fast timer.

The trigger is the file system: QFileSystemWatcher (inotify on Linux) reports writes to the
database and to its ``-wal`` file; the folder is watched too so a ``-wal`` file created later
is picked up. A change is confirmed with SQLite's ``PRAGMA data_version`` (which in WAL mode
reads the shared-memory index, not the file), so only real commits by other connections
emit ``changed``, at most once per ``coalesce_ms``. A slow timer repeats the same cheap check
for file systems that deliver no notifications (network mounts).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal


class DatabaseWatcher(QObject):
    changed = Signal()

    def __init__(self, db_path, parent=None, coalesce_ms: int = 150, fallback_ms: int = 3000):
        super().__init__(parent)
        self.path = Path(db_path)
        self._db = None
        self._version = None
        self._fs = QFileSystemWatcher(self)
        self._fs.fileChanged.connect(self._poke)
        self._fs.directoryChanged.connect(self._poke)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(coalesce_ms)
        self._soon.timeout.connect(self.check)
        self._slow = QTimer(self)
        self._slow.setInterval(fallback_ms)
        self._slow.timeout.connect(self.check)
        self._slow.start()
        self._watch_files()
        self.check()

    def _watch_files(self) -> None:
        wanted = [str(p) for p in (self.path, Path(f"{self.path}-wal"), self.path.parent) if p.exists()]
        have = set(self._fs.files()) | set(self._fs.directories())
        missing = [p for p in wanted if p not in have]
        if missing:
            self._fs.addPaths(missing)

    def _poke(self, *_):
        self._watch_files()        # a -wal file may have appeared (or been recreated)
        if not self._soon.isActive():
            self._soon.start()

    def check(self) -> bool:
        """Emit ``changed`` if another connection committed since the last check."""
        try:
            if self._db is None:
                if not self.path.exists():
                    return False
                self._db = sqlite3.connect(self.path, timeout=1.0)
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return False            # busy or briefly unreadable: the next poke tries again
        first = self._version is None
        changed = not first and version != self._version
        self._version = version
        if changed:
            self.changed.emit()
        return changed

    def stop(self) -> None:
        self._slow.stop()
        self._soon.stop()
        if self._db is not None:
            self._db.close()
            self._db = None
