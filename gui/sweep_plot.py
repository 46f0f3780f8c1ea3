"""Checkpoint sweep: FID (and KID, and the distances of the other feature spaces, when chosen)
against checkpoint order, best FID marked; with the bootstrap interval (``--metrics fid_ci``)
each FID point carries its 95% error bar.

The x axis is the training step read from the folder names when every name has one
(step_010000 -> 10000), else the position in the list; ticks name the folders."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.features.spaces import DISTANCE_METRICS
from reports.plot_colors import BEST_COLOR, color
from reports.plot_data import sweep_points
from reports.result_format import HIGHER_IS_BETTER, best_index, short_name

from .plot_style import make_plot

# the distances of the other feature spaces (FD_DINOv2, CLIP-FID, CMMD): (result key, heading),
# a plot each when chosen; from the engine's table, so a new space's distance appears by itself;
# and CLIPScore (higher is better: its axis says so)
SPACE_CURVES = tuple((name, spec.label) for name, (space, spec) in DISTANCE_METRICS.items()
                     if space != "inception") + (("clip_score", "CLIPScore"),)


class SweepPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.note = QLabel()
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.fid = make_plot("FID over checkpoints", "checkpoint", "FID (lower is better)")
        self.kid = make_plot("KID over checkpoints", "checkpoint", "KID")
        self.kid.setXLink(self.fid)
        lay.addWidget(self.fid, 2)
        lay.addWidget(self.kid, 1)
        self.space_plots = {}     # result key -> its plot (FD_DINOv2 ...)
        for key, heading in SPACE_CURVES:
            better = "higher" if key in HIGHER_IS_BETTER else "lower"
            plot = make_plot(f"{heading} over checkpoints", "checkpoint", f"{heading} ({better} is better)")
            plot.setXLink(self.fid)
            lay.addWidget(plot, 1)
            self.space_plots[key] = plot
        self.best = None          # (index in result.results, x, fid) of the best point
        self.best_label = None    # its TextItem
        self.points = []          # (x, fid) drawn
        self.error_bars = []      # (x, low, high) drawn around the FID points
        self._ticks = {}          # plot -> [(x, folder name)]: every checkpoint's label
        for plot in (self.fid, self.kid, *self.space_plots.values()):
            plot.getViewBox().sigResized.connect(lambda *_, p=plot: self._fit_ticks(p))
            plot.getViewBox().sigXRangeChanged.connect(lambda *_, p=plot: self._fit_ticks(p))
        self.show_result(None)

    def shown_ticks(self, plot) -> list:
        return list(getattr(plot.getAxis("bottom"), "_tickLevels", None) or [[]])[0]

    def _fit_ticks(self, plot) -> None:
        """Label as many checkpoints as fit side by side at the plot's current width: a label
        is skipped when it would overlap the previous one (step_01000 over step_02000)."""
        ticks = self._ticks.get(plot)
        if not ticks:
            return
        vb = plot.getViewBox()
        (x0, x1), width = vb.viewRange()[0], vb.width()
        axis = plot.getAxis("bottom")
        if width <= 0 or x1 <= x0:
            axis.setTicks([ticks[:1]])
            return
        from PySide6.QtGui import QFontMetrics
        fm = QFontMetrics(axis.style.get("tickFont") or plot.font())
        gap = fm.horizontalAdvance("  ")
        shown, right = [], None
        for x, name in ticks:
            px, half = (x - x0) / (x1 - x0) * width, fm.horizontalAdvance(name) / 2
            if right is None or px - half >= right + gap:
                shown.append((x, name))
                right = px + half
        axis.setTicks([shown])

    def show_result(self, result) -> None:
        for w in (self.fid, self.kid, *self.space_plots.values()):
            w.clear()
        self.best, self.best_label, self.points, self._ticks = None, None, [], {}
        self.error_bars = []
        n = len(result.results) if result is not None else 0
        has_fid = result is not None and bool({"fid", "fid_ci"} & set(result.options.get("metrics", [])))
        has_kid = result is not None and "kid" in result.options.get("metrics", [])
        self.fid.setVisible(has_fid and n >= 2)
        self.kid.setVisible(has_kid and n >= 2)
        chosen = result.options.get("metrics", []) if result is not None else []
        spaces = [key for key in self.space_plots if key in chosen]
        for key, plot in self.space_plots.items():
            plot.setVisible(key in spaces and n >= 2)
        if n < 2 or not (has_fid or has_kid or spaces):
            self.note.setText("The sweep plot appears when a run scores two or more generated sources "
                              "with FID, KID or another space's distance — use “Add checkpoint folder…” to compare checkpoints.")
            self.note.setVisible(True)
            return
        self.note.setVisible(False)
        if has_fid:
            self._draw(self.fid, result, "fid", mark_best=True)
        if has_kid:
            self._draw(self.kid, result, "kid_mean", mark_best=False)
        for key in spaces:
            self._draw(self.space_plots[key], result, key, mark_best=False)

    def _draw(self, plot, result, key, mark_best):
        xs, ys, names, idx, title = sweep_points(result, key)
        plot.setLabel("bottom", title)
        if not xs:
            return
        plot.plot(xs, ys, pen=pg.mkPen(color(0), width=2), symbol="o", symbolSize=8,
                  symbolBrush=color(0), symbolPen=None)
        self._ticks[plot] = list(zip(xs, names))
        self._fit_ticks(plot)
        if key == "fid":
            self.points = list(zip(xs, ys))
            self._draw_error_bars(plot, result, xs, idx)
        if mark_best:
            b = best_index(result, key)
            if b is not None:
                bx = xs[idx.index(b)]
                by = result.results[b].metrics[key]
                self.best = (b, bx, by)
                plot.plot([bx], [by], pen=None, symbol="star", symbolSize=18,
                          symbolBrush=BEST_COLOR, symbolPen=pg.mkPen("w"))
                # below the star (the best FID is the lowest point, so there is room there),
                # anchored by where the point sits: a point at the right edge gets its label to
                # its left, one at the left edge to its right — never cut off by the frame
                frac = (bx - min(xs)) / ((max(xs) - min(xs)) or 1)
                label = pg.TextItem(f"best: {short_name(result.results[b].path)}  (FID {by:.2f})",
                                    color=BEST_COLOR, anchor=(min(max(frac, 0.0), 1.0), -0.4))
                label.setPos(bx, by)
                plot.addItem(label)
                self.best_label = label
        pad = 0.08 * (max(xs) - min(xs) or 1)
        plot.setXRange(min(xs) - pad, max(xs) + pad, padding=0)
        lows = [lo for _, lo, _ in self.error_bars] if key == "fid" else []
        highs = [hi for _, _, hi in self.error_bars] if key == "fid" else []
        y_lo, y_hi = min(ys + lows), max(ys + highs)
        span = (y_hi - y_lo) or abs(y_hi) * 0.1 or 1.0
        plot.setYRange(y_lo - (0.35 if mark_best else 0.1) * span, y_hi + 0.1 * span, padding=0)

    def _draw_error_bars(self, plot, result, xs, idx):
        bars = []
        for x, i in zip(xs, idx):
            m = result.results[i].metrics
            lo, hi, y = m.get("fid_ci_low"), m.get("fid_ci_high"), m.get("fid")
            if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
                bars.append((x, lo, hi, y))
        if not bars:
            return
        self.error_bars = [(x, lo, hi) for x, lo, hi, _ in bars]
        step = (max(xs) - min(xs)) / max(len(xs) - 1, 1) or 1.0
        plot.addItem(pg.ErrorBarItem(x=np.array([b[0] for b in bars]), y=np.array([b[3] for b in bars]),
                                     top=np.array([b[2] - b[3] for b in bars]),
                                     bottom=np.array([b[3] - b[1] for b in bars]),
                                     beam=0.15 * step, pen=pg.mkPen(color(0), width=1.5)))
