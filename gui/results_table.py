"""The results table: one row per generated source, one column per chosen metric (± where
the metric has a spread), N, skipped count and warnings. The raw engine value of each cell
is kept under Qt.UserRole so tests (and copy) see exactly what the engine returned."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from reports.result_format import DASH, best_index, cell, columns_for

RAW = Qt.ItemDataRole.UserRole
BEST_BG = QColor("#E6F2E6")


def warnings_tooltip(warnings) -> str:
    """Every warning as a wrapped list (rich text: Qt wraps it; a plain tooltip would run off
    the screen in one line)."""
    from html import escape
    items = "".join(f"<li>{escape(w)}</li>" for w in warnings)
    return f"<qt><b>{len(warnings)} warning(s)</b><ul style='margin-left:12px'>{items}</ul></qt>"


class ResultsTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, 0, parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(True)
        self.columns = []
        self.result = None
        self.horizontalHeader().sectionResized.connect(self._fit_rows)

    def show_result(self, result) -> None:
        self.result = result
        self.columns = columns_for(result) if result is not None else []
        self.clear()
        self.setColumnCount(len(self.columns))
        self.setHorizontalHeaderLabels([c.header for c in self.columns])
        for i, c in enumerate(self.columns):
            self.horizontalHeaderItem(i).setToolTip(c.tip)
        rows = result.results if result is not None else []
        self.setRowCount(len(rows))
        best = best_index(result) if result is not None and len(rows) > 1 else None
        bold = QFont(self.font())
        bold.setBold(True)
        for r, src in enumerate(rows):
            for c, col in enumerate(self.columns):
                text, raw, tip = cell(col, src)
                item = QTableWidgetItem(text)
                item.setData(RAW, raw)
                item.setToolTip(tip)
                if col.key not in ("source", "warnings"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if text == DASH:
                    item.setForeground(QBrush(QColor("#888888")))
                if col.key == "warnings" and text:
                    item.setForeground(QBrush(QColor("#9A6700")))
                    item.setToolTip(warnings_tooltip(src.warnings))
                if r == best:
                    item.setBackground(QBrush(BEST_BG))
                    if col.key in ("source", "fid"):
                        item.setFont(bold)
                self.setItem(r, c, item)
        h = self.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if self.columns and self.columns[-1].key == "warnings":
            h.setSectionResizeMode(len(self.columns) - 1, QHeaderView.ResizeMode.Stretch)
        # the Warnings cell wraps (its first warning readable in full); rows grow to fit once
        # the column has its final width (see _fit_rows)
        self._fit_rows()

    def _fit_rows(self, *_) -> None:
        self.resizeRowsToContents()

    # For tests and "copy": what the table shows.
    def header_keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def raw(self, row: int, key: str):
        return self.item(row, self.header_keys().index(key)).data(RAW)

    def text(self, row: int, key: str) -> str:
        return self.item(row, self.header_keys().index(key)).text()

    def keyPressEvent(self, event):
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
        else:
            super().keyPressEvent(event)

    def copy_selection(self) -> None:
        """Selected rows as tab-separated text (paste into a spreadsheet)."""
        rows = sorted({i.row() for i in self.selectedIndexes()}) or range(self.rowCount())
        lines = ["\t".join(c.header for c in self.columns)]
        for r in rows:
            lines.append("\t".join(self.item(r, c).text() for c in range(self.columnCount())))
        QGuiApplication.clipboard().setText("\n".join(lines))
