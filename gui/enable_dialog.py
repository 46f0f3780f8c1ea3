"""The dialog behind "Enable Inception Score…" and "Enable FD-DINOv2…": says what will be
downloaded, then downloads and verifies it with a progress bar and Cancel (or takes the same
file from disk), and builds or adds what the metric needs.

The work runs in a gui.workers.EnableWorker; this dialog only starts, cancels and shows.
Subclasses give the title, the explanation, the file filter and the worker.
"""
from __future__ import annotations

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout)


def add_work_widgets(dialog, lay, download_text: str, file_text: str) -> None:
    """A download dialog's progress bar, stage line, error line and its row of buttons
    (``download_button``, ``file_button``, ``cancel_button``), set on ``dialog``."""
    dialog.stage = QLabel()
    dialog.stage.setObjectName("hint")
    dialog.stage.setWordWrap(True)
    dialog.bar = QProgressBar()
    dialog.bar.setVisible(False)
    lay.addWidget(dialog.bar)
    lay.addWidget(dialog.stage)
    dialog.error = QLabel()
    dialog.error.setObjectName("error")
    dialog.error.setStyleSheet("color: #b00020")
    dialog.error.setWordWrap(True)
    dialog.error.setVisible(False)
    lay.addWidget(dialog.error)
    row = QHBoxLayout()
    dialog.download_button = QPushButton(download_text)
    dialog.download_button.setDefault(True)
    dialog.file_button = QPushButton(file_text)
    dialog.cancel_button = QPushButton("Cancel")
    row.addWidget(dialog.download_button)
    row.addWidget(dialog.file_button)
    row.addStretch(1)
    row.addWidget(dialog.cancel_button)
    lay.addLayout(row)


class EnableDialog(QDialog):
    enabled = Signal(object)     # the model's new provenance

    title = ""
    file_caption = ""
    file_filter = "PyTorch weights (*.pth *.pt);;All files (*)"

    def explanation(self) -> str:
        raise NotImplementedError

    def make_worker(self, weights):
        raise NotImplementedError

    def __init__(self, source, parent=None, *, pool: QThreadPool | None = None):
        super().__init__(parent)
        self.source = source
        self.pool = pool or QThreadPool.globalInstance()
        self.worker = None           # the running gui.workers.EnableWorker
        self._ended: list = []       # finished workers, kept until the dialog goes
        self.last_progress = (0, 0)
        self.outcome = ""            # "enabled" | "failed" | "cancelled" once something ended
        self.setWindowTitle(self.title)
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        self.text = QLabel(self.explanation())
        self.text.setWordWrap(True)
        lay.addWidget(self.text)
        add_work_widgets(self, lay, f"Download (about {self.source.approx_mb:,} MB)", "From file…")
        self.download_button.clicked.connect(lambda: self.start())
        self.file_button.clicked.connect(self.choose_file)
        self.cancel_button.clicked.connect(self.cancel)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.file_caption, "", self.file_filter)
        if path:
            self.start(path)

    def start(self, weights=None) -> None:
        """Download (weights None) or use ``weights``; verify; add the head."""
        if self.worker is not None:
            return
        self.launch(self.make_worker(weights), "Downloading…" if weights is None else "Checking the file…")

    def launch(self, w, stage: str) -> None:
        """Start the worker ``w``, its signals shown here; ``stage``: what is said meanwhile."""
        self.error.setVisible(False)
        self.outcome = ""
        self.worker = w
        w.signals.progress.connect(self._progress)
        w.signals.stage.connect(self.stage.setText)
        w.signals.finished.connect(self._finished)
        w.signals.failed.connect(self._failed)
        w.signals.cancelled.connect(self._cancelled)
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)          # busy until the size is known
        self.stage.setText(stage)
        self.download_button.setEnabled(False)
        self.file_button.setEnabled(False)
        self.pool.start(w)

    def _progress(self, done: int, total: int) -> None:
        self.last_progress = (done, total)
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * done / total))
            self.bar.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.bar.setFormat(f"{done / 1e6:.1f} MB")

    def cancel(self) -> None:
        if self.worker is not None:
            self.stage.setText("Cancelling…")
            self.worker.cancel()
        else:
            self.reject()

    def _idle(self) -> None:
        self._ended.append(self.worker)
        self.worker = None
        self.bar.setVisible(False)
        self.download_button.setEnabled(True)
        self.file_button.setEnabled(True)

    def _finished(self, prov) -> None:
        self._idle()
        self.outcome = "enabled"
        self.enabled.emit(prov)
        self.accept()

    def _failed(self, message: str) -> None:
        self._idle()
        self.outcome = "failed"
        self.stage.setText("")
        self.error.setText(message)
        self.error.setVisible(True)

    def _cancelled(self) -> None:
        self._idle()
        self.outcome = "cancelled"
        self.stage.setText("Cancelled; nothing was kept.")

    def closeEvent(self, event) -> None:
        if self.worker is not None:
            self.worker.cancel()
        super().closeEvent(event)

    def reject(self) -> None:
        if self.worker is not None:   # Esc / close while working: cancel first
            self.worker.cancel()
            return
        super().reject()
