"""Errors the user sees: a log file, an excepthook, and the error dialog.

An unexpected exception is written with its traceback to the log file, and the user gets a
dialog with a plain message and the log's path, never a bare traceback. Errors the user
can act on (engine.errors.FidStudioError) are shown as their message only.
"""
from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
from pathlib import Path

from engine.outputs.history import data_dir

LOG_NAME = "fid-studio.log"
log = logging.getLogger("fid_studio")
_state = {"path": None, "dialog": None}


def log_path() -> Path:
    return _state["path"] or data_dir() / "logs" / LOG_NAME


def setup_logging() -> Path:
    """Log to a rotating file in the data folder (once per process); returns its path."""
    if _state["path"] is not None:
        return _state["path"]
    path = data_dir() / "logs" / LOG_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler(sys.stderr)   # unwritable data folder: still log somewhere
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    _state["path"] = path
    return path


def log_exception(exc: BaseException, context: str = "") -> Path:
    setup_logging()
    log.error("unexpected error%s", f" ({context})" if context else "",
              exc_info=(type(exc), exc, exc.__traceback__))
    return log_path()


def plain_message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if not text.startswith(type(exc).__name__) else text


def show_error(parent, title: str, message: str, log_file: Path | None = None, *, warning=False):
    """A non-blocking error dialog (``open()``, not ``exec()``): tests can read it, and a
    burst of errors cannot stack nested event loops. Returns the QMessageBox."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox
    icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Critical
    box = QMessageBox(icon, title, message, QMessageBox.StandardButton.Ok, parent)
    if log_file is not None:
        box.setInformativeText(f"Details were written to the log file:\n{log_file}")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    _state["dialog"] = box
    return box


def last_dialog():
    return _state["dialog"]


def _excepthook(exc_type, exc, tb):
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    exc = exc if exc is not None else exc_type()
    exc.__traceback__ = tb
    path = log_exception(exc, "uncaught")
    from PySide6.QtWidgets import QApplication
    if QApplication.instance() is None:
        sys.__excepthook__(exc_type, exc, tb)
        return
    try:
        show_error(QApplication.activeWindow(), "FID Studio: unexpected error",
                   "Something went wrong that FID Studio did not expect:\n" + plain_message(exc), path)
    except Exception:  # the dialog itself failed: the log file still has everything
        sys.__excepthook__(exc_type, exc, tb)


def _thread_hook(args):
    if args.exc_type is SystemExit:
        return
    # Not on the GUI thread: log only; the worker adapter reports job errors as signals.
    log_exception(args.exc_value or args.exc_type(), f"thread {getattr(args.thread, 'name', '?')}")


def install_excepthook() -> None:
    setup_logging()
    sys.excepthook = _excepthook
    threading.excepthook = _thread_hook
