"""Per-source progress bars (images/s, ETA) and the problems panel (skipped files)."""
from __future__ import annotations

import html

from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHeaderView, QLabel, QProgressBar,
                               QTableWidget, QTableWidgetItem, QWidget)

from reports.plot_colors import color
from reports.result_format import short_name

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
            # The coloured square is the legend of the live plots (same colour per source).
            swatch = (f'<span style="color:{color(row.index)}">■</span> '
                      if row.role == "generated" else '<span style="color:#999">■</span> ')
            name = QLabel(swatch + html.escape(row.label))
            tips = {"reference": state.reference, "validation": state.validation}
            name.setToolTip(tips.get(row.role) or (state.generated[row.index] if row.role == "generated"
                                                   else row.label))
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


MAX_PER_REASON = 3


def group_problems(problems: list) -> list:
    """Rows for the panel: files grouped by (source, reason), at most MAX_PER_REASON each plus
    an "… and N more" row, real skips before unpaired names (which only affect paired metrics)."""
    groups: dict = {}
    for source, file, reason in problems:
        groups.setdefault((source, reason), []).append(file)
    order = sorted(groups, key=lambda k: k[1].startswith("paired:"))   # stable: keeps arrival order
    rows = []
    for source, reason in order:
        files = groups[(source, reason)]
        rows += [(source, f, reason) for f in files[:MAX_PER_REASON]]
        if len(files) > MAX_PER_REASON:
            rows.append((source, f"… and {len(files) - MAX_PER_REASON:,} more", reason))
    return rows


def problems_summary(problems: list) -> str:
    paired = sum(1 for *_, reason in problems if reason.startswith("paired:"))
    skipped = len(problems) - paired
    if not problems:
        return "Problems: none so far"
    parts = []
    if skipped:
        parts.append(f"{skipped:,} file(s) skipped")
    if paired:
        parts.append(f"{paired:,} name(s) without a partner (paired metrics only)")
    return "Problems: " + " · ".join(parts)


class ProblemsPanel(QTableWidget):
    """Files the engine skipped (and why), filled as the events arrive, grouped by reason."""

    HEADERS = ("Source", "File", "Reason")

    def __init__(self, title: QLabel | None = None, parent=None):
        super().__init__(0, 3, parent)
        self.title = title
        self.problems: list = []
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        h = self.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        h.setStretchLastSection(True)
        self.setColumnWidth(1, 240)
        self.setWordWrap(False)

    def reset(self) -> None:
        self.problems = []
        self.setRowCount(0)
        self._title()

    def _title(self) -> None:
        if self.title is not None:
            self.title.setText(problems_summary(self.problems))

    def sync(self, problems: list) -> None:
        """Show ``problems`` [(source, file, reason)] if they changed (the list only grows)."""
        if len(problems) == len(self.problems):
            return
        self.problems = list(problems)
        rows = group_problems(self.problems)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(str(text))
                item.setToolTip(str(text))
                self.setItem(r, c, item)
        self._title()

    def show_result_problems(self, result) -> None:
        """Fill from a finished or stored run (reference + every generated source)."""
        rows = [("Reference: " + short_name(result.reference["path"]), s["file"], s["reason"])
                for s in result.reference.get("skipped", [])]
        for r in result.results:
            rows += [(short_name(r.path), s["file"], s["reason"]) for s in r.skipped]
            rows += [(short_name(r.path), s["file"], "paired: " + s["reason"])
                     for s in r.extras.get("pair_problems", [])]
        self.reset()
        self.sync(rows)
