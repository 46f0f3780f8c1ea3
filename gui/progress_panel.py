"""Per-source progress bars (images/s, ETA) and the problems panel (skipped files)."""
from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHeaderView, QLabel, QProgressBar,
                               QTableWidget, QTableWidgetItem, QWidget)

from .live_state import LiveState


class ProgressPanel(QWidget):
    """One row per source: name, bar, "done / total · rate · ETA"."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setColumnStretch(1, 1)
        self._widgets: list[tuple[QLabel, QProgressBar, QLabel]] = []
        self.placeholder = QLabel("Choose a reference and generated sources, then press Run (Ctrl+R).")
        self.placeholder.setObjectName("hint")
        self._grid.addWidget(self.placeholder, 0, 0, 1, 3)

    def reset(self, state: LiveState | None) -> None:
        for widgets in self._widgets:
            for w in widgets:
                self._grid.removeWidget(w)
                w.deleteLater()
        self._widgets = []
        self.placeholder.setVisible(state is None)
        if state is None:
            return
        for i, row in enumerate(state.rows):
            name = QLabel(row.label)
            name.setToolTip(state.reference if row.role == "reference" else state.generated[row.index])
            bar = QProgressBar()
            bar.setTextVisible(False)
            bar.setMaximumHeight(14)
            detail = QLabel("waiting")
            detail.setMinimumWidth(260)
            for col, w in enumerate((name, bar, detail)):
                self._grid.addWidget(w, i + 1, col)
            self._widgets.append((name, bar, detail))
        self.refresh(state)

    def refresh(self, state: LiveState) -> None:
        if len(state.rows) != len(self._widgets):      # the engine reported an extra source
            self.reset(state)
            return
        for row, (_, bar, detail) in zip(state.rows, self._widgets):
            bar.setMaximum(max(row.total, 1))
            full = row.finished or row.stage in ("cached", "stats")
            bar.setValue(bar.maximum() if full else row.done)
            detail.setText(row.text())

    def bars(self) -> list[QProgressBar]:
        return [b for _, b, _ in self._widgets]

    def details(self) -> list[str]:
        return [d.text() for _, _, d in self._widgets]


class ProblemsPanel(QTableWidget):
    """Files the engine skipped (and why), filled as the events arrive."""

    HEADERS = ("Source", "File", "Reason")

    def __init__(self, parent=None):
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        h = self.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        h.setStretchLastSection(True)
        self.setColumnWidth(1, 220)
        self.setWordWrap(False)

    def reset(self) -> None:
        self.setRowCount(0)

    def sync(self, problems: list) -> None:
        """Append the problems not shown yet (the list only grows during a run)."""
        start = self.rowCount()
        if len(problems) <= start:
            return
        self.setRowCount(len(problems))
        for r in range(start, len(problems)):
            for c, text in enumerate(problems[r]):
                item = QTableWidgetItem(str(text))
                item.setToolTip(str(text))
                self.setItem(r, c, item)

    def show_result_problems(self, result) -> None:
        """Fill from a finished or stored run (reference + every generated source)."""
        from .live_state import short_name
        rows = [("Reference: " + short_name(result.reference["path"]), s["file"], s["reason"])
                for s in result.reference.get("skipped", [])]
        for r in result.results:
            rows += [(short_name(r.path), s["file"], s["reason"]) for s in r.skipped]
            rows += [(short_name(r.path), s["file"], "paired: " + s["reason"])
                     for s in r.extras.get("pair_problems", [])]
        self.reset()
        self.sync(rows)
