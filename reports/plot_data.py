"""What the plots show, read from a run's result (no drawing): the window's pyqtgraph plots
and the PDF report's charts take their points from here, so the two cannot disagree."""
from __future__ import annotations

import math

import numpy as np

from engine.inputs.checkpoints import sweep_axis

from .result_format import short_name


def sweep_points(result, key: str) -> tuple[list, list, list, list, str]:
    """(x, y, names, source indices, x title) of the sources that have ``key``."""
    xs_all, title = sweep_axis([r.path for r in result.results])
    if result.options.get("training_run"):      # logged from Python: the names are step_<n>
        title = "training step"
    xs, ys, names, idx = [], [], [], []
    for i, (x, r) in enumerate(zip(xs_all, result.results)):
        v = r.metrics.get(key)
        if v is not None and math.isfinite(v):
            xs.append(x)
            ys.append(v)
            names.append(short_name(r.path))
            idx.append(i)
    return xs, ys, names, idx, title


def ssim_bins(values) -> np.ndarray:
    """Bins of width 0.025 from 0 (or below, for negative SSIM) to 1."""
    lo = min(0.0, np.floor(min(values) * 10) / 10) if len(values) else 0.0
    return np.linspace(lo, 1.0, int(round((1.0 - lo) / 0.025)) + 1)
