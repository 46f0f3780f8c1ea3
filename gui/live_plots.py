"""Live plots, redrawn by the window's display timer (not per event): running FID against
generated images processed (one curve per source), throughput over time, and, for paired
runs, the histogram of per-image SSIM as it builds up. Curves are created once per run and
updated with setData."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from .live_state import LiveState, short_name
from .plot_style import color, make_plot

SSIM_BINS = np.linspace(0.0, 1.0, 41)


def ssim_bins(values) -> np.ndarray:
    """Bins of width 0.025 from 0 (or below, for negative SSIM) to 1."""
    lo = min(0.0, np.floor(min(values) * 10) / 10) if len(values) else 0.0
    return np.linspace(lo, 1.0, int(round((1.0 - lo) / 0.025)) + 1)


class LivePlots(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.fid = make_plot("Running FID", "generated images processed", "FID")
        self.fid.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.rate = make_plot("Throughput", "time since start (s)", "images / s")
        self.ssim = make_plot("Per-image SSIM", "SSIM", "pairs")
        for w in (self.fid, self.rate, self.ssim):
            lay.addWidget(w, 1)
        self._fid_curves: dict[int, pg.PlotDataItem] = {}
        self._rate_curve = self.rate.plot([], [], pen=pg.mkPen(color(0), width=2))
        self._hist = self.ssim.plot([], [], stepMode="center", fillLevel=0,
                                    brush=pg.mkBrush(0, 114, 178, 90), pen=pg.mkPen(color(0)))
        self._drawn = (0, 0, 0)
        self.reset(None)

    def reset(self, state: LiveState | None) -> None:
        for curve in self._fid_curves.values():
            self.fid.removeItem(curve)
        self._fid_curves.clear()
        legend = self.fid.getPlotItem().legend
        if legend is not None:
            legend.clear()
        self._rate_curve.setData([], [])
        self._hist.setData(SSIM_BINS, np.zeros(len(SSIM_BINS) - 1))
        self.ssim.setVisible(bool(state and state.paired))
        self.fid.setVisible(not state or state.features)
        self._drawn = (0, 0, 0)
        if state is not None:
            for i, path in enumerate(state.generated):
                self._fid_curves[i] = self.fid.plot([], [], pen=pg.mkPen(color(i), width=2),
                                                    symbol="o", symbolSize=5, symbolBrush=color(i),
                                                    symbolPen=None, name=short_name(path))

    def refresh(self, state: LiveState) -> None:
        n_fid = sum(len(v) for v in state.fid_points.values())
        drawn = (n_fid, len(state.throughput), len(state.ssim_values))
        if drawn == self._drawn:
            return
        if n_fid != self._drawn[0]:
            for i, pts in state.fid_points.items():
                if i in self._fid_curves and pts:
                    xs, ys = zip(*pts)
                    self._fid_curves[i].setData(xs, ys)
        if len(state.throughput) != self._drawn[1]:
            t, r = zip(*state.throughput)
            self._rate_curve.setData(t, r)
        if len(state.ssim_values) != self._drawn[2] and state.ssim_values:
            bins = ssim_bins(state.ssim_values)
            counts, _ = np.histogram(np.clip(state.ssim_values, bins[0], 1.0), bins=bins)
            self._hist.setData(bins, counts)
        self._drawn = drawn

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
            state.ssim_values.extend(r.ssim_values)
        self.reset(state)
        self.refresh(state)
