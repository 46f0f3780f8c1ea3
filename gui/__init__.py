"""FID Studio desktop app (PySide6 Qt Widgets + pyqtgraph).

Nothing here computes a metric: the window starts engine jobs in a worker
(gui/workers.py, the only place threads meet Qt), shows their events, and
stores, compares and exports the results the engine returns.
"""
