"""The only place where threads meet Qt.

An engine job (engine.run.job.run, blocking) runs in a QRunnable on a QThreadPool. The
runnable owns a separate QObject whose signals are emitted from the worker thread and
delivered, queued, on the GUI thread: started -> progress* -> finished | errored |
cancelled (exactly one of the last three). Progress and cancellation happen at the
engine's own checkpoints: the engine calls ``on_event`` and checks the CancelToken between
images and batches. ``Task`` does the same for small background calls (scanning a source,
making thumbnails).
"""
from __future__ import annotations

import importlib

from PySide6.QtCore import QObject, QRunnable, Signal

# Imported here, on the GUI thread while the window is built, not by the first job: an
# import holds the GIL for its whole duration (onnxruntime + SciPy: ~0.5 s), which would
# freeze the window at the start of the first run.
from engine.run import job
from engine.errors import Cancelled, CancelToken, FidStudioError

from .crash import log_exception, plain_message

try:
    importlib.import_module("onnxruntime")   # see above; paired-only runs work without it
except ImportError:
    pass


class JobSignals(QObject):
    started = Signal()
    progress = Signal(object)          # an engine event (engine.run.events.*)
    finished = Signal(object)          # engine.run.result.RunResult
    errored = Signal(str, str)         # plain message, log file path ("" for user errors)
    cancelled = Signal()


class JobWorker(QRunnable):
    """Runs ``engine.run.job.run(reference, generated, options, val_path=...)`` off the GUI thread."""

    def __init__(self, reference, generated, options, *, model_path=None, cache_root=None, tag=None,
                 val_path=None):
        super().__init__()
        self.setAutoDelete(False)     # the window keeps it (and its signals) until it ends
        self.reference = str(reference)
        self.generated = [str(g) for g in generated]
        self.options = options
        self.model_path = model_path
        self.cache_root = cache_root
        self.tag = tag                # what the window started it for ("run", "watch")
        self.val_path = str(val_path) if val_path else None   # GAN-train/test real validation folder
        self.token = CancelToken()
        self.signals = JobSignals()

    def cancel(self) -> None:
        self.token.cancel()

    def run(self) -> None:            # worker thread
        sig = self.signals
        sig.started.emit()
        try:
            result = job.run(self.reference, self.generated, self.options, on_event=sig.progress.emit,
                             cancel=self.token, model_path=self.model_path, cache_root=self.cache_root,
                             val_path=self.val_path)
        except Cancelled:
            sig.cancelled.emit()
        except FidStudioError as exc:
            sig.errored.emit(str(exc), "")
        except MemoryError:
            sig.errored.emit("Not enough memory for this run. Try a smaller batch size or fewer "
                             "worker threads (Advanced).", "")
        except Exception as exc:      # anything else is a bug: log the traceback, show a message
            path = log_exception(exc, "engine job")
            sig.errored.emit(plain_message(exc), str(path))
        else:
            if self.token.cancelled:  # cancelled after the last checkpoint: still a cancel
                sig.cancelled.emit()
            else:
                sig.finished.emit(result)


class TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(str)


class Task(QRunnable):
    """``fn(*args)`` in the pool; ``done(result)`` or ``failed(message)`` on the GUI thread.

    Only user-facing errors (FidStudioError, OSError) become a message; anything else is
    logged and reported with the log's path.
    """

    def __init__(self, fn, *args):
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args = fn, args
        self.signals = TaskSignals()

    def run(self) -> None:
        try:
            out = self.fn(*self.args)
        except (FidStudioError, OSError) as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:
            path = log_exception(exc, "background task")
            self.signals.failed.emit(f"{plain_message(exc)} (details in {path})")
        else:
            self.signals.done.emit(out)


def start_task(pool, keep: set, fn, *args, on_done=None, on_failed=None, on_released=None) -> Task:
    """Start ``fn(*args)`` in ``pool``; ``keep`` holds the task until it reports.

    ``on_released()`` runs after the task has left ``keep`` (done or failed). Every handler is
    connected before the task starts: a task can finish before ``pool.start`` returns, and a
    signal emitted before a connection is made never reaches it."""
    task = Task(fn, *args)
    keep.add(task)

    def release(*_):
        keep.discard(task)
        if on_released is not None:
            on_released()
    if on_done is not None:
        task.signals.done.connect(on_done)
    if on_failed is not None:
        task.signals.failed.connect(on_failed)
    task.signals.done.connect(release)
    task.signals.failed.connect(release)
    pool.start(task)
    return task


class EnableIsSignals(QObject):
    progress = Signal(int, int)        # bytes done, total (0 when unknown)
    stage = Signal(str)                # one line: what happens now
    finished = Signal(object)          # the model's new provenance (dict)
    failed = Signal(str)
    cancelled = Signal()


class EnableWorker(QRunnable):
    """A models.* "enable" call (download or a given file, verify, build or add) off the GUI
    thread. Progress is emitted when the permille changes. Subclasses say what they call."""

    what = "enable"               # for the crash log
    cancel_errors: tuple = ()     # raised for Cancel, besides models' DownloadCancelled
    user_errors: tuple = ()       # one-line failures, besides ModelBuildError and OSError

    def __init__(self, *, weights=None, source=None):
        super().__init__()
        self.setAutoDelete(False)
        self.weights, self.source = weights, source
        self.token = CancelToken()
        self.signals = EnableIsSignals()
        self._last = -1

    def cancel(self) -> None:
        self.token.cancel()

    def _progress(self, done: int, total) -> None:
        pct = int(1000 * done / total) if total else done >> 20
        if pct != self._last:
            self._last = pct
            self.signals.progress.emit(int(done), int(total or 0))

    def call(self, **kw) -> dict:   # worker thread
        raise NotImplementedError

    def run(self) -> None:            # worker thread
        from models.errors import DownloadCancelled, ModelBuildError
        try:
            prov = self.call(weights=self.weights, source=self.source, progress=self._progress,
                             cancelled=lambda: self.token.cancelled, say=self.signals.stage.emit)
        except (DownloadCancelled, *self.cancel_errors):
            self.signals.cancelled.emit()
        except (ModelBuildError, OSError, *self.user_errors) as exc:
            self.signals.failed.emit(str(exc))
        except Exception as exc:      # a bug: log it, say where the log is
            path = log_exception(exc, self.what)
            self.signals.failed.emit(f"{plain_message(exc)} (details in {path})")
        else:
            self.signals.finished.emit(prov)


class EnableIsWorker(EnableWorker):
    """models.inception.enable_is.enable_is: download (or a given file), verify, add the IS head."""

    what = "enable Inception Score"

    def __init__(self, model_path, *, weights=None, source=None):
        super().__init__(weights=weights, source=source)
        self.model_path = model_path

    def call(self, **kw) -> dict:
        from models.inception.enable_is import enable_is
        return enable_is(self.model_path, **kw)


class EnableNetworkWorker(EnableWorker):
    """The ``enable`` function of a network added on request (models.registry: DINOv2, the CLIP
    image towers): download (or a given file), verify, build the model into the user's data
    folder."""

    def __init__(self, network: str, *, weights=None, source=None, spec=None):
        super().__init__(weights=weights, source=source)
        self.network = network
        self.what = f"enable {network}"
        self.spec = spec              # None: the full model (tests pass reduced-depth stand-ins)

    def call(self, **kw) -> dict:
        from models.registry import enabler
        enable = enabler(self.network)
        return enable(**kw) if self.spec is None else enable(spec=self.spec, **kw)
