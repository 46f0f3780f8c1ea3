"""The "watch folder" timer: polls engine.inputs.checkpoints.FolderWatch and reports new
checkpoint subfolders once they have stopped changing. (Polling rather than
QFileSystemWatcher: it sees nested writes and network folders alike, and the stability
rule needs a clock anyway.)"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from engine.inputs.checkpoints import FolderWatch

POLL_MS = 1000
SETTLE_S = 10.0


class WatchController(QObject):
    ready = Signal(list)           # [Path] new stable subfolders, natural order
    status = Signal(str)

    def __init__(self, parent=None, poll_ms: int = POLL_MS, settle_s: float = SETTLE_S):
        super().__init__(parent)
        self.settle_s = settle_s
        self.watch: FolderWatch | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(poll_ms)
        self.timer.timeout.connect(self.poll)
        self._last_status = ""

    @property
    def active(self) -> bool:
        return self.watch is not None

    def start(self, parent: Path, known) -> None:
        self.watch = FolderWatch(parent, settle_s=self.settle_s, known=known)
        self.timer.start()
        self._say(f"Watching {parent.name} for new checkpoints")

    def stop(self) -> None:
        self.timer.stop()
        if self.watch is not None:
            self._say("")
        self.watch = None

    def poll(self) -> None:
        if self.watch is None:
            return
        ready = self.watch.poll()
        pending = self.watch.pending()
        if pending:
            self._say(f"New checkpoint {pending[0].name} is being written; it is scored once it "
                      f"has not changed for {self.settle_s:g} s")
        elif not ready:
            self._say(f"Watching {self.watch.parent.name} for new checkpoints")
        if ready:
            self.ready.emit(ready)

    def _say(self, text: str) -> None:
        if text != self._last_status:
            self._last_status = text
            self.status.emit(text)
