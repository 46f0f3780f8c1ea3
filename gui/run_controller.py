"""Starting, following and cancelling one engine job at a time.

The controller owns the JobWorker, the LiveState its events feed, and the display timer
that redraws the progress panel, the live plots and the problems panel at its own pace
(~8 Hz) however fast events arrive. It reports the outcome with its own signals.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from .crash import log
from .live_state import LiveState
from .workers import JobWorker

REDRAW_MS = 120
# The plots are the costly part of a redraw (a pyqtgraph repaint is 10-20 ms on a small CPU,
# whatever changed): while a run goes at most one plot is brought up to date per turn, one
# every PLOT_STEP_S in rotation, so each plot follows at ~1.5 Hz and the progress rows at
# ~8 Hz, and no event-loop turn paints more than one plot.
PLOT_STEP_S = 0.2
# The end of a run is done in steps (last plot updates one at a time, then the result), each
# in its own event-loop turn this many ms after the last, so painting and input get in between.
END_STEP_MS = 15


class RunController(QObject):
    started = Signal(str)              # tag
    finished = Signal(object, str)     # RunResult, tag
    cancelled = Signal(str)
    failed = Signal(str, str, str)     # message, log path, tag
    device_line = Signal(str)

    def __init__(self, pool: QThreadPool, progress, plots, problems, parent=None):
        super().__init__(parent)
        self.pool = pool
        self.progress, self.plots, self.problems = progress, plots, problems
        self.worker: JobWorker | None = None
        self.state: LiveState | None = None
        self.cancel_requested_at: float | None = None
        self.cancel_latency_s: float | None = None
        self._plots_at, self._plots_behind, self._next_plot = 0.0, False, 0
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.redraw)

    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, reference, generated, options, tag="run", model_path=None, val_path=None) -> JobWorker:
        """``val_path``: a real validation folder for GAN-train / GAN-test (None: split the reference)."""
        assert self.worker is None, "one job at a time"
        val_path = str(val_path) if val_path and options.wants_classes else None
        self.state = LiveState(str(reference), [str(g) for g in generated], paired=options.wants_pairs,
                               features=options.wants_features, validation=val_path)
        self.progress.reset(self.state)
        self.plots.reset(self.state)
        self.problems.reset()
        w = JobWorker(reference, generated, options, model_path=model_path, tag=tag, val_path=val_path)
        w.signals.progress.connect(self._on_event)
        w.signals.finished.connect(self._on_finished)
        w.signals.errored.connect(self._on_errored)
        w.signals.cancelled.connect(self._on_cancelled)
        self.worker = w
        self.cancel_requested_at = None
        self.timer.start()
        log.info("run started (%s): %s vs %d source(s), validation %s, %s", tag, reference, len(generated),
                 val_path, options.to_dict())
        self.pool.start(w)
        self.started.emit(tag)
        return w

    def cancel(self) -> None:
        if self.worker is not None and self.cancel_requested_at is None:
            self.cancel_requested_at = time.perf_counter()
            self.worker.cancel()

    def _on_event(self, event) -> None:
        if self.state is None:
            return
        before = self.state.device_line
        self.state.on_event(event)
        if self.state.device_line != before:
            self.device_line.emit(self.state.device_line)

    def redraw(self, final: bool = False) -> None:
        s = self.state
        if s is None:
            return
        if s.dirty:
            s.dirty = False
            self.progress.refresh(s)
            self.problems.sync(s.problems)
            self._plots_behind = True
        if not self._plots_behind:
            return
        now = time.perf_counter()
        if final:
            self.plots.refresh(s)
            self._plots_at, self._plots_behind = now, False
            return
        if now - self._plots_at < PLOT_STEP_S:
            return
        parts = self.plots.PARTS
        for k in range(len(parts)):          # the next plot in rotation that has something new
            part = parts[(self._next_plot + k) % len(parts)]
            if self.plots.refresh(s, (part,)):
                self._next_plot = (self._next_plot + k + 1) % len(parts)
                self._plots_at = now
                return                       # the others, if behind, in later turns
        self._plots_behind = False

    def _end(self) -> str:
        tag = self.worker.tag if self.worker else ""
        self.worker = None
        self.timer.stop()
        return tag

    def _on_finished(self, result) -> None:
        self.state.finish()
        self.timer.stop()
        self.redraw_in_steps(lambda: self._finished(result))

    def redraw_in_steps(self, then) -> None:
        """The final redraw with each plot in a turn of its own, then ``then()``."""
        s = self.state
        if s.dirty:
            s.dirty = False
            self.progress.refresh(s)
            self.problems.sync(s.problems)
        parts = list(self.plots.PARTS)

        def step():
            while parts:
                if self.plots.refresh(s, (parts.pop(0),)):
                    QTimer.singleShot(END_STEP_MS, step)
                    return
            self._plots_behind = False
            then()
        step()

    def _finished(self, result) -> None:
        tag = self._end()
        log.info("run finished (%s) in %.1f s", tag, result.duration_s)
        self.finished.emit(result, tag)

    def _on_cancelled(self) -> None:
        if self.cancel_requested_at is not None:
            self.cancel_latency_s = time.perf_counter() - self.cancel_requested_at
        self.redraw(final=True)
        tag = self._end()
        log.info("run cancelled (%s) after %.2f s", tag, self.cancel_latency_s or 0)
        self.cancelled.emit(tag)

    def _on_errored(self, message: str, log_path: str) -> None:
        self.redraw(final=True)
        tag = self._end()
        log.info("run failed (%s): %s", tag, message)
        self.failed.emit(message, log_path, tag)
