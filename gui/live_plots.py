"""Live plots, redrawn by the window's display timer (not per event): running FID against
generated images processed (one curve per source), throughput over time, and, for paired
runs, the histogram of per-image SSIM as it builds up. Curves are created once per run and
updated with setData."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from reports.plot_colors import COLORS, color
from reports.plot_data import ssim_bins

from .live_state import LiveState
from .plot_style import make_plot

FID_TITLE, SSIM_TITLE = "Running FID", "Per-image SSIM"

def throughput_xy(points) -> tuple[list, list]:
    """x, y with a NaN between sources, so each source's speed is its own line segment."""
    xs, ys, last = [], [], None
    for t, rate, source in points:
        if last is not None and source != last:
            xs.append(t)
            ys.append(float("nan"))
        xs.append(t)
        ys.append(rate)
        last = source
    return xs, ys


class LivePlots(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.fid = make_plot(FID_TITLE, "generated images processed", "FID", grid=False)
        # No legends: the coloured squares in the progress rows above name the curves.
        self.rate = make_plot("Feature extraction speed", "time since start (s)", "images / s", grid=False)
        self.ssim = make_plot(SSIM_TITLE, "SSIM", "pairs", grid=False)
        for w in (self.fid, self.rate, self.ssim):
            lay.addWidget(w, 1)
        self._fid_curves: dict[int, pg.PlotDataItem] = {}
        self._rate_curve = self.rate.plot([], [], pen=pg.mkPen(color(0), width=2), connect="finite")
        self._hists: dict[int, pg.PlotDataItem] = {}
        # Curves for the first sources are made now, with the window, not when a run starts:
        # making plot items is the slow part of starting a run (~100 ms on a loaded box).
        for i in range(len(COLORS)):
            self._curves_for(i, paired=True)
        self._drawn = dict.fromkeys(self.PARTS, 0)
        self._titles = {FID_TITLE: self.fid, SSIM_TITLE: self.ssim}
        self.reset(None)

    def _curves_for(self, i: int, paired: bool) -> None:
        if i not in self._fid_curves:
            self._fid_curves[i] = self.fid.plot([], [], pen=pg.mkPen(color(i), width=2), symbol="o",
                                                symbolSize=5, symbolBrush=color(i), symbolPen=None)
        if paired and i not in self._hists:
            self._hists[i] = self.ssim.plot([], [], stepMode="center", pen=pg.mkPen(color(i), width=2))

    def reset(self, state: LiveState | None) -> None:
        # Curves are kept from run to run and emptied (setData), not removed and made anew.
        # The three plots stay in place whatever the run computes (a plot the run does not feed
        # says so in its title): showing or hiding one re-lays out and repaints all of them at
        # the moment the run starts.
        for curves in (self._fid_curves, self._hists):
            for curve in curves.values():
                curve.setData([], [])
        self._rate_curve.setData([], [])
        for plot, title, fed in ((self.fid, FID_TITLE, not state or state.features),
                                 (self.ssim, SSIM_TITLE, not state or state.paired)):
            title = title if fed else f"{title} (not computed in this run)"
            if self._titles.get(title) is not plot:
                plot.setTitle(title, size="10pt")
                self._titles = {k: v for k, v in self._titles.items() if v is not plot} | {title: plot}
        self._drawn = dict.fromkeys(self.PARTS, 0)
        if state is not None:
            for i in range(len(state.generated)):
                self._curves_for(i, state.paired)

    PARTS = ("fid", "rate", "ssim")

    def refresh(self, state: LiveState, parts=PARTS) -> bool:
        """Bring the named plots up to date with ``state``; True when one of them changed (and
        will be repainted). While a run goes the controller asks for one plot per event-loop
        turn: each repaint costs 10-20 ms on a small CPU, three in one turn stall the window."""
        n_fid = sum(len(v) for v in state.fid_points.values())
        n_ssim = sum(len(v) for v in state.ssim_values.values())
        now = {"fid": n_fid, "rate": len(state.throughput), "ssim": n_ssim}
        changed = [p for p in parts if now[p] != self._drawn[p]]
        if "fid" in changed:
            for i, pts in state.fid_points.items():
                if i in self._fid_curves and pts:
                    xs, ys = zip(*pts)
                    self._fid_curves[i].setData(xs, ys)
        if "rate" in changed:
            xs, ys = throughput_xy(state.throughput)
            self._rate_curve.setData(xs, ys)
            self.rate.setYRange(0, 1.15 * max(y for y in ys if y == y), padding=0)   # from zero
        if "ssim" in changed:
            every = [v for vals in state.ssim_values.values() for v in vals]
            bins = ssim_bins(every)
            for i, vals in state.ssim_values.items():
                if i in self._hists:
                    counts, _ = np.histogram(np.clip(vals, bins[0], 1.0), bins=bins)
                    self._hists[i].setData(bins, counts)
        for p in changed:
            self._drawn[p] = now[p]
        return bool(changed)

    def show_result(self, result) -> None:
        """Draw a stored run's curves (History > Open)."""
        from .live_state import LiveState
        opts = result.options.get("metrics", [])
        state = LiveState(result.reference["path"], [r.path for r in result.results],
                          paired=any(m in opts for m in ("ssim", "mse", "psnr")),
                          features=any(m in opts for m in ("fid", "kid", "is", "pr")))
        for i, r in enumerate(result.results):
            if r.fid_curve:
                state.fid_points[i] = list(r.fid_curve)
            if r.ssim_values:
                state.ssim_values[i] = list(r.ssim_values)
        self.reset(state)
        self.refresh(state)
