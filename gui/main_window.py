"""The main window: sources and options on the left; Run, Results and History tabs.

It wires the panels together and decides what happens to a job's outcome (show, store in
the history, merge a watched checkpoint into the sweep). Jobs themselves run through
RunController / JobWorker; nothing here computes a metric.
"""
from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from PySide6.QtCore import QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QMainWindow

from engine import APP_NAME, __version__
from engine.errors import OptionError
from engine.outputs.history import History, open_history
from engine.outputs.training_log import TrainingLog

from .crash import log_exception, show_error
from .live_training import training_title
from .exporting import ask_export_path, export_with_message, suggested_name
from .metric_availability import model_info, pairing_note, reasons
from .run_controller import END_STEP_MS, RunController
from .sample_strip import load_samples
from .settings import as_int, open_settings_checked
from .sources_panel import dropped_paths
from .tabs import STYLE
from .watch import WatchController
from . import window_layout
from .workers import start_task


class MainWindow(QMainWindow):
    run_finished = Signal(object)       # RunResult, after it was shown and stored
    run_cancelled = Signal()
    run_failed = Signal(str)
    watch_evaluated = Signal(object)    # the current (merged) RunResult
    run_ended = Signal(str)             # "finished" | "cancelled" | "failed", after the above
    samples_ready = Signal()

    def __init__(self, settings=None, history: History | None = None):
        super().__init__()
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.setStyleSheet(STYLE)
        self.setAcceptDrops(True)
        self.pool = QThreadPool(self)
        self.network_dialogs: dict = {}   # metric -> its "Enable …" dialog (the last one opened)
        self.pool.setMaxThreadCount(4)
        self._tasks: set = set()
        # damaged settings or history are moved aside (named in a message) and started anew
        self.startup_notes: list[str] = []
        if settings is None:
            settings, note = open_settings_checked()
            self.startup_notes += [note] if note else []
        self.settings = settings
        if history is None:
            history, note = open_history()
            self.startup_notes += [note] if note else []
        self.history = history
        try:
            self.training = TrainingLog(self.history.path)
        except (sqlite3.Error, OSError) as exc:      # the app still works without the list
            self.training = None
            log_exception(exc, "training log")
        self.current_training = None     # name of the training run shown in Results, if any
        self.model = model_info()
        self.current = None              # the RunResult shown in Results
        self.current_run_id = None       # its id in the history (None if not stored)
        self.last_outcome = ""           # finished | cancelled | failed
        self.last_error = ""
        self._watch_queue: list[str] = []
        self._build()
        self.runner = RunController(self.pool, self.progress, self.live_plots, self.problems, self)
        self.runner.finished.connect(self._finished)
        self.runner.cancelled.connect(self._cancelled)
        self.runner.failed.connect(self._failed)
        self.runner.device_line.connect(self._device_line)
        self.watcher = WatchController(self)
        self.watcher.ready.connect(self._watch_ready)
        self.watcher.status.connect(self.watch_status.setText)
        self.sources.changed.connect(self.update_availability)
        self.options.enable_is_requested.connect(self.enable_is_dialog)
        self.options.enable_network_requested.connect(lambda metric: self.enable_network_dialog(metric))
        self.sources.watch_box.toggled.connect(self._toggle_watch)
        from . import refs_actions
        self.sources.standard_requested.connect(lambda: refs_actions.open_standard_reference(self))
        self.sources.save_requested.connect(lambda: refs_actions.save_as_reference(self))
        self.options.set_reasons(reasons(self.model, None, []))
        self.restore_settings()
        self._update_buttons()
        if self.startup_notes:
            # shown once the window is up (a dialog before it would have no parent to sit on)
            QTimer.singleShot(0, self._show_startup_notes)

    def _show_startup_notes(self) -> None:
        from .crash import log
        for note in self.startup_notes:
            log.warning(note)
        self.startup_box = show_error(self, f"{APP_NAME}: damaged files replaced",
                                      "\n\n".join(self.startup_notes), warning=True)

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        window_layout.build(self)

    # -- sources and availability ----------------------------------------------------------
    def add_source(self) -> None:
        """Ctrl+O: the reference first if there is none, else a generated folder."""
        if self.sources.reference is None:
            self.sources.choose_reference_folder()
        else:
            self.sources.choose_generated_folder()

    def enable_is_dialog(self, source=None):
        """Open "Enable Inception Score…" (non-modal); IS becomes available when it ends."""
        from .enable_is_dialog import EnableIsDialog
        dlg = EnableIsDialog(self.model.path, self, pool=self.pool, source=source)
        dlg.enabled.connect(self._is_enabled)
        self.is_dialog = dlg
        dlg.open()
        return dlg

    def _is_enabled(self, prov) -> None:
        self.model = model_info()
        self.update_availability()
        if self.model.has_logits:
            self.options.checks["is"].setChecked(True)
        self.statusBar().showMessage("Inception Score enabled: the model now has the classifier head", 10000)

    def enable_network_dialog(self, metric: str, source=None, spec=None):
        """Open "Enable FD-DINOv2…" / "Enable CLIP-FID…" / "Enable CMMD…" (non-modal) for
        ``metric``; it and its feature space become available when it ends (``spec``: a
        reduced-depth stand-in, for tests)."""
        from .enable_network_dialog import EnableNetworkDialog
        dlg = EnableNetworkDialog(metric, self, pool=self.pool, source=source, spec=spec)
        dlg.enabled.connect(lambda prov, m=metric: self._network_enabled(m, prov))
        self.network_dialogs[metric] = dlg
        dlg.open()
        return dlg

    def _network_enabled(self, metric: str, prov) -> None:
        self.model = model_info()
        self.update_availability()
        if metric in self.model.added:
            self.options.checks[metric].setChecked(True)
        sha = str(prov.get("source_sha256", ""))[:12]
        action = self.network_dialogs[metric].title.removeprefix("Enable ")
        self.statusBar().showMessage(f"{action} enabled (weights SHA-256 {sha}…)", 10000)

    def update_availability(self) -> None:
        scans = self.sources.scans
        ref = scans.get(self.sources.reference) if self.sources.reference else None
        gens = [scans.get(p) for p in self.sources.generated()]
        self.options.set_reasons(reasons(self.model, ref, gens), pairing_note(ref, gens))
        self._update_buttons()

    def dragEnterEvent(self, e):
        e.acceptProposedAction() if e.mimeData().hasUrls() else e.ignore()

    def dropEvent(self, e):
        paths = dropped_paths(e)
        if not paths:
            return
        e.acceptProposedAction()
        if self.sources.reference is None:
            self.sources.set_reference(paths.pop(0))
        self.sources.add_generated(paths)

    # -- running ---------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        running = self.runner.running if hasattr(self, "runner") else False
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.act_export.setEnabled(self.current is not None)
        self.options.cache.set_running(running)
        if not running:
            self.options.cache.refresh()

    def _why_not_runnable(self) -> str:
        if not self.sources.reference:
            return "Choose a reference source first (folder, .zip, .npz / .npy batch or stats .npz)."
        if not self.sources.generated():
            return "Add at least one generated source."
        if not self.options.metrics():
            return "Choose at least one metric that can run."
        return ""

    def start_run(self, generated=None, tag: str = "run") -> bool:
        if self.runner.running:
            return False
        why = self._why_not_runnable()
        if why:
            self.run_hint.setText(why)
            return False
        try:
            opts = self.options.options()
        except OptionError as exc:
            self.run_hint.setText(str(exc))
            return False
        self.run_hint.setText("")
        gens = list(generated) if generated is not None else self.sources.generated()
        self.runner.start(self.sources.reference, gens, opts, tag=tag, val_path=self.options.val_path())
        what = "new checkpoint " + Path(gens[0]).name if tag == "watch" else f"{len(gens)} source(s)"
        self.run_status.setText(f"Running: {what}…")
        if tag == "run":
            self.tabs.setCurrentIndex(0)
        self._update_buttons()
        return True

    def cancel_run(self) -> None:
        if self.runner.running:
            self.run_status.setText("Cancelling…")
            self.runner.cancel()

    def _device_line(self, text: str) -> None:
        self.options.set_device_status(text)
        self.device_label.setText(text)

    def _finished(self, result, tag: str) -> None:
        self.last_outcome = "finished"
        try:
            run_id = self.history.add(result)
        except (sqlite3.Error, OSError) as exc:
            run_id = None
            show_error(self, "Run not saved", f"The run finished but could not be stored in the "
                       f"history ({self.history.path}): {exc}", log_exception(exc, "history"))
        if tag == "watch" and self._mergeable(result):
            merged = dataclasses.replace(self.current, results=self.current.results + result.results,
                                         duration_s=self.current.duration_s + result.duration_s)
            self.show_result(merged, None)
        else:
            self.show_result(result, run_id)
        # the rest in a later event-loop turn: the results tab gets painted in between, so
        # neither step holds the window for long
        QTimer.singleShot(END_STEP_MS, lambda: self._finished_rest(result, tag))

    def _finished_rest(self, result, tag: str) -> None:
        n_skip = sum(len(r.skipped) for r in result.results) + len(result.reference.get("skipped", []))
        self.run_status.setText(f"Finished in {result.duration_s:.1f} s"
                                + (f" — {n_skip} file(s) skipped, see Problems" if n_skip else "")
                                + " — saved to History.")
        self.history_view.refresh()
        self._update_buttons()
        if tag == "run":
            self.tabs.setCurrentIndex(1)
            self.run_finished.emit(result)
        else:
            self.watch_evaluated.emit(self.current)
        self.run_ended.emit("finished")
        self._next_watched()

    def _mergeable(self, result) -> bool:
        cur = self.current
        return (cur is not None and cur.reference["path"] == result.reference["path"]
                and cur.options.get("metrics") == result.options.get("metrics")
                and cur.preset == result.preset)

    def _cancelled(self, tag: str) -> None:
        self.last_outcome = "cancelled"
        self.run_status.setText("Cancelled — the partial run was discarded and not saved.")
        self._update_buttons()
        self._watch_queue.clear()
        self.run_cancelled.emit()
        self.run_ended.emit("cancelled")

    def _failed(self, message: str, log_path: str, tag: str) -> None:
        self.last_outcome = "failed"
        self.run_status.setText("Run failed — see the message.")
        show_error(self, "Run failed", message, Path(log_path) if log_path else None)
        self._update_buttons()
        self.last_error = message
        self.run_failed.emit(message)
        self.run_ended.emit("failed")

    # -- results ---------------------------------------------------------------------------
    def show_result(self, result, run_id=None) -> None:
        self.current, self.current_run_id = result, run_id
        self.current_training = result.options.get("training_run")
        n = len(result.results)
        self.result_title.setText(training_title(result) if self.current_training else
                                  f"{n} source(s) against {Path(result.reference['path']).name} "
                                  f"({result.reference['n_images']:,} images) · preset {result.preset} · "
                                  f"{result.created.replace('T', ' ')[:19]}")
        self.results_tab.show_result(result)
        self.samples_view.set_result(result)
        self.problems.show_result_problems(result)
        self._update_buttons()
        if self.current_training:
            self.samples.show_message("Scores logged from a training script: no image folders to show.")
            return
        self.samples.show_message("Loading thumbnails…")
        start_task(self.pool, self._tasks, load_samples, result.reference["path"],
                   [r.path for r in result.results], on_done=self._samples_done,
                   on_failed=self._samples_failed)

    def _samples_done(self, rows) -> None:
        self.samples.show_rows(rows)
        self.samples_ready.emit()

    def _samples_failed(self, message: str) -> None:
        self.samples.show_message(f"No thumbnails: {message}")
        self.samples_ready.emit()

    def show_stored(self, result) -> None:
        self.show_result(result, None)
        self.live_plots.show_result(result)
        self.tabs.setCurrentIndex(1)

    # -- training runs logged from Python (gui/live_training.py) ----------------------
    def open_training(self, name: str) -> None:
        self.live_training.open(name)

    def export_dialog(self, result=None) -> None:
        result = result or self.current
        if result is None:
            self.statusBar().showMessage("Nothing to export yet: run or open a stored run first.", 5000)
            return
        choice = ask_export_path(self, self.sources.last_dir, suggested_name(result))
        if choice:
            self.export_to(choice[0], result, choice[1])

    def export_to(self, path, result=None, fmt=None) -> bool:
        ok = export_with_message(self, result or self.current, path, fmt)
        if ok:
            self.statusBar().showMessage(f"Exported {path}", 8000)
        return ok

    # -- watch folder ----------------------------------------------------------------------
    def _toggle_watch(self, on: bool) -> None:
        parent = self.sources.checkpoint_parent
        if on and parent is not None:
            known = [Path(p) for p in self.sources.generated()]
            self.watcher.start(parent, known)
        else:
            self.watcher.stop()

    def _watch_ready(self, paths: list) -> None:
        new = [str(p) for p in paths]
        self.sources.add_generated(new, checkpoint=True)
        self._watch_queue += new
        self._next_watched()

    def _next_watched(self) -> None:
        if self._watch_queue and not self.runner.running:
            if self.start_run([self._watch_queue[0]], tag="watch"):
                self._watch_queue.pop(0)

    # -- settings and closing --------------------------------------------------------------
    def restore_settings(self) -> None:
        s = self.settings
        s.beginGroup("window")
        geometry = s.value("geometry")
        for name in ("main_split", "run_split", "results_split"):
            state = s.value(name)
            if state is not None:
                getattr(self, name).restoreState(state)
        tab = as_int(s.value("tab"), 0)
        s.endGroup()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        self.tabs.setCurrentIndex(tab if 0 <= tab < self.tabs.count() else 0)
        self.sources.restore_settings(s)
        self.options.restore_settings(s)

    def save_settings(self) -> None:
        s = self.settings
        s.beginGroup("window")
        s.setValue("geometry", self.saveGeometry())
        for name in ("main_split", "run_split", "results_split"):
            s.setValue(name, getattr(self, name).saveState())
        s.setValue("tab", self.tabs.currentIndex())
        s.endGroup()
        self.sources.save_settings(s)
        self.options.save_settings(s)
        s.sync()

    def closeEvent(self, event) -> None:
        self.watcher.stop()
        self.live_training.stop()
        if self.runner.running:
            self.runner.cancel()
        self.samples_view.shutdown()
        self.pool.waitForDone(10000)
        self.save_settings()
        self.history.close()
        if self.training is not None:
            self.training.close()
        super().closeEvent(event)
