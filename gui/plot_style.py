"""Shared look of the pyqtgraph plots: white background, readable axes. The colours (one per
source) are in reports.plot_colors, which the PDF report's charts use too."""
from __future__ import annotations

import pyqtgraph as pg

pg.setConfigOptions(antialias=True, background="w", foreground="#333333")


def make_plot(title: str, x_label: str, y_label: str, grid: bool = True) -> pg.PlotWidget:
    """``grid=False`` for plots redrawn while a run goes: the grid is half of a repaint."""
    w = pg.PlotWidget()
    w.setTitle(title, size="10pt")
    w.setLabel("bottom", x_label)
    w.setLabel("left", y_label)
    if grid:
        w.showGrid(x=True, y=True, alpha=0.2)
    w.setMenuEnabled(False)
    for side in ("left", "bottom"):
        w.getAxis(side).enableAutoSIPrefix(False)   # no "(x0.001)": KID values stay as they are
    w.setMinimumHeight(180)
    item = w.getPlotItem()
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    return w


def empty_text(plot: pg.PlotWidget, text: str) -> pg.TextItem:
    """A grey note in the middle of an empty plot ("no data yet")."""
    t = pg.TextItem(text, color="#888888", anchor=(0.5, 0.5))
    plot.addItem(t, ignoreBounds=True)
    t.setPos(0.5, 0.5)
    plot.getPlotItem().getViewBox().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    return t
