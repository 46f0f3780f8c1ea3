"""The GAN-train / GAN-test page of the Results tab: what the numbers are (a linear probe on
Inception features), memorisation flags, accuracies per class and the diversity sweep.

The sweep (Shmelkov et al., Fig. 4) plots GAN-train accuracy against the number of generated
images per class, log-scaled x, next to the same curve for real training images: one pair of
curves per source, same colour, the real one dashed. Everything shown comes from
reports.class_format, which the PDF report reads too.
"""
from __future__ import annotations

import html
import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QSplitter, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from reports import class_format as cf
from reports.plot_colors import color
from reports.result_format import percent, short_name

from .plot_style import make_plot

RAW = Qt.ItemDataRole.UserRole
FLAG_COLOR = "#9A6700"


class ClassResults(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.method = QLabel()
        self.method.setObjectName("hint")
        self.method.setWordWrap(True)
        self.method.setTextFormat(Qt.TextFormat.RichText)
        self.method.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.flags = QLabel()
        self.flags.setTextFormat(Qt.TextFormat.PlainText)
        self.flags.setWordWrap(True)
        self.flags.setStyleSheet(f"color: {FLAG_COLOR};")
        lay.addWidget(self.method)
        lay.addWidget(self.flags)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.plot = make_plot("Diversity: accuracy on real validation vs images per class",
                              "images per class (log scale)", "accuracy (%)")
        self.plot.setLogMode(x=True, y=False)
        self.plot.getPlotItem().setClipToView(False)     # a few points; no clipping in log space
        self.legend = self.plot.addLegend(offset=(-10, -10))   # bottom right: curves rise to the right
        self.split.addWidget(self.table)
        self.split.addWidget(self.plot)
        self.split.setSizes([380, 620])
        lay.addWidget(self.split, 1)
        self.columns: list[tuple[str, str]] = []
        self.curves: list[cf.SweepCurve] = []      # what the plot shows (tests read it)
        self.show_result(None)

    # -- showing a result ------------------------------------------------------------------
    def show_result(self, result) -> bool:
        """Show the run's GAN-train / GAN-test details; False when it has none."""
        has = cf.has_class_results(result)
        self.plot.clear()
        self.curves = []
        if not has:
            self.method.setText("GAN-train / GAN-test were not computed for this run.")
            self.flags.setVisible(False)
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            return False
        method = cf.method_line(result)
        lines = ["<b>Method:</b> " + html.escape(method)] if method else []
        lines += [html.escape(t) for t in (cf.split_line(result), cf.chance_line(result)) if t]
        self.method.setText("<br>".join(lines))
        problems = ["⚠ Possible memorisation — " + t for t in cf.memorisation_lines(result)]
        if cf.wants_classes(result):
            problems += ["⚠ Not computed — " + t for t in cf.not_computed_lines(result)]
        self.flags.setText("\n".join(problems))
        self.flags.setVisible(bool(problems))
        self._fill_table(result)
        if "gan-train" in cf.chosen_metrics(result):
            self._draw_sweep(result)
        self.plot.setVisible("gan-train" in cf.chosen_metrics(result))
        return True

    def _fill_table(self, result) -> None:
        self.columns = cf.per_class_columns(result)
        rows = cf.per_class_rows(result)
        t = self.table
        t.clear()
        t.setColumnCount(2 + len(self.columns))
        t.setHorizontalHeaderLabels(["Source", "Class"] + [h for _, h in self.columns])
        t.setRowCount(len(rows))
        for r, (src, name, values) in enumerate(rows):
            items = [QTableWidgetItem(short_name(result.results[src].path)), QTableWidgetItem(name)]
            items[0].setToolTip(result.results[src].path)
            items[0].setData(RAW, src)
            items[1].setData(RAW, name)
            for key, _ in self.columns:
                v = values.get(key)
                item = QTableWidgetItem(percent(v))
                item.setData(RAW, v)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if v is None:
                    item.setForeground(QBrush(QColor("#888888")))
                items.append(item)
            for c, item in enumerate(items):
                t.setItem(r, c, item)
        t.setColumnHidden(0, len(result.results) < 2)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def _draw_sweep(self, result) -> None:
        self.curves = cf.sweep_curves(result)
        sizes = sorted({x for c in self.curves for x in c.xs})
        for c in self.curves:
            dashed = c.kind == "real"
            pen = pg.mkPen(color(c.source), width=2,
                           style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            self.plot.plot(c.xs, [100 * y for y in c.ys], pen=pen, name=cf.curve_label(c),
                           symbol="s" if dashed else "o", symbolSize=7,
                           symbolBrush=None if dashed else color(c.source), symbolPen=color(c.source))
        chance = next((r.extras.get("gan_chance") for r in result.results if r.extras.get("gan_chance")), None)
        if chance:
            line = pg.InfiniteLine(pos=100 * chance, angle=0, movable=False,
                                   pen=pg.mkPen("#999999", style=Qt.PenStyle.DotLine),
                                   label="chance", labelOpts={"position": 0.04, "color": "#888888"})
            self.plot.addItem(line)
        if sizes:
            # In log mode the axis works in log10(x): ticks at the measured sizes, thinned out.
            self.plot.getAxis("bottom").setTicks([_thin_ticks(sizes)])
            lo, hi = math.log10(sizes[0]), math.log10(sizes[-1])
            pad = 0.06 * (hi - lo or 1.0)
            self.plot.setXRange(lo - pad, hi + pad, padding=0)
        self.plot.setYRange(-4, 105, padding=0)      # 0% points stay clear of the axis

    # -- for tests and copy ----------------------------------------------------------------
    def header_keys(self) -> list[str]:
        return ["source", "class"] + [k for k, _ in self.columns]

    def raw(self, row: int, key: str):
        return self.table.item(row, self.header_keys().index(key)).data(RAW)

    def text(self, row: int, key: str) -> str:
        return self.table.item(row, self.header_keys().index(key)).text()


def _thin_ticks(sizes) -> list[tuple[float, str]]:
    """(log10 size, label), at least a tenth of the span apart so labels do not overlap
    (the largest size, the full set, is always labelled)."""
    min_gap = (math.log10(sizes[-1]) - math.log10(sizes[0])) / 10
    out: list[tuple[float, str]] = []
    for s in reversed(sizes):
        x = math.log10(s)
        if not out or out[-1][0] - x >= min_gap:
            out.append((x, f"{s:,}"))
    return out[::-1]

