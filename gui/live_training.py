"""Training runs logged from Python (``fid_studio.Evaluator.log``), live in the window.

The History database is watched (gui/db_watch.py); when another process commits, the
History view's training list is re-read and, if a training run is shown in Results, its
table and checkpoint-sweep plot (x = training step) are redrawn with the new points.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from .db_watch import DatabaseWatcher


def training_title(result) -> str:
    return (f"Training run “{result.options['training_run']}”: {len(result.results)} logged step(s) "
            f"against {Path(result.reference['path']).name} · preset {result.preset}")


class LiveTraining(QObject):
    updated = Signal(str)      # a shown training run was redrawn with new points

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.watch = DatabaseWatcher(window.history.path, self)
        self.watch.changed.connect(self.database_changed)

    def open(self, name: str) -> None:
        """Show a logged training run in Results; it redraws as new points are committed."""
        w = self.w
        try:
            result = w.training.as_result(name)
        except (KeyError, sqlite3.Error) as exc:
            w.statusBar().showMessage(f"Cannot open training run {name!r}: {exc}", 8000)
            return
        w.show_result(result, None)
        w.tabs.setCurrentIndex(1)

    def database_changed(self) -> None:
        w = self.w
        try:
            w.history_view.refresh_training()
            name = w.current_training
            if not name or w.training is None:
                return
            result = w.training.as_result(name)
            if result.to_dict()["results"] == w.current.to_dict()["results"]:
                return
            w.current = result
            w.result_title.setText(training_title(result))
            w.table.show_result(result)
            w.sweep.show_result(result)
            self.updated.emit(name)
        except (KeyError, sqlite3.Error) as exc:   # deleted meanwhile, or busy: the next change retries
            w.statusBar().showMessage(f"History not refreshed: {exc}", 5000)

    def stop(self) -> None:
        self.watch.stop()
