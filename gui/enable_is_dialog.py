""""Enable Inception Score…": says what will be downloaded, then downloads and verifies it
with a progress bar and Cancel (or takes the same file from disk), and adds the head.

The work runs in gui.workers.EnableIsWorker; this dialog only starts, cancels and shows.
"""
from __future__ import annotations

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (QDialog, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QVBoxLayout)

from .workers import EnableIsWorker


def _explanation(source) -> str:
    return (
        "<p>The Inception Score needs the 1008-class classifier head of the FID Inception "
        "network, which the FID weights your model was built from do not include.</p>"
        f"<p>FID Studio will download pytorch-fid's official weights file "
        f"<b>{source.file_name}</b> (about {source.approx_mb} MB) from<br>"
        f"<code>{source.url}</code></p>"
        f"<p>Before use, its SHA-256 must start with <code>{source.sha256}</code> and its "
        "network weights must equal the ones already in your model. Only the classifier head "
        "(without its bias, as the standard Inception Score) is added: FID, KID and the "
        "cached features do not change.</p>"
        "<p>Offline? Choose <b>From file…</b> with that file (pytorch-fid's, or torch-fidelity's "
        "copy <code>weights-inception-2015-12-05-6726825d.pth</code>).</p>")


class EnableIsDialog(QDialog):
    enabled = Signal(object)     # the model's new provenance

    def __init__(self, model_path, parent=None, *, pool: QThreadPool | None = None, source=None):
        super().__init__(parent)
        from models.inception import is_head
        self.source = source or is_head.OFFICIAL_HEAD
        self.model_path = model_path
        self.pool = pool or QThreadPool.globalInstance()
        self.worker: EnableIsWorker | None = None
        self._ended: list = []       # finished workers, kept until the dialog goes
        self.last_progress = (0, 0)
        self.outcome = ""            # "enabled" | "failed" | "cancelled" once something ended
        self.setWindowTitle("Enable Inception Score")
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        self.text = QLabel(_explanation(self.source))
        self.text.setWordWrap(True)
        lay.addWidget(self.text)
        self.stage = QLabel()
        self.stage.setObjectName("hint")
        self.stage.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        lay.addWidget(self.bar)
        lay.addWidget(self.stage)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        lay.addWidget(self.error)
        row = QHBoxLayout()
        self.download_button = QPushButton(f"Download (about {self.source.approx_mb} MB)")
        self.download_button.setDefault(True)
        self.file_button = QPushButton("From file…")
        self.cancel_button = QPushButton("Cancel")
        row.addWidget(self.download_button)
        row.addWidget(self.file_button)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.download_button.clicked.connect(lambda: self.start())
        self.file_button.clicked.connect(self.choose_file)
        self.cancel_button.clicked.connect(self.cancel)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "pytorch-fid weights (pt_inception-2015-12-05-6726825d.pth)",
                                              "", "PyTorch weights (*.pth *.pt);;All files (*)")
        if path:
            self.start(path)

    def start(self, weights=None) -> None:
        """Download (weights None) or use ``weights``; verify; add the head."""
        if self.worker is not None:
            return
        self.error.setVisible(False)
        self.outcome = ""
        self.worker = w = EnableIsWorker(self.model_path, weights=weights, source=self.source)
        w.signals.progress.connect(self._progress)
        w.signals.stage.connect(self.stage.setText)
        w.signals.finished.connect(self._finished)
        w.signals.failed.connect(self._failed)
        w.signals.cancelled.connect(self._cancelled)
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)          # busy until the size is known
        self.stage.setText("Downloading…" if weights is None else "Checking the file…")
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
        self.stage.setText("Download cancelled; nothing was kept.")

    def closeEvent(self, event) -> None:
        if self.worker is not None:
            self.worker.cancel()
        super().closeEvent(event)

    def reject(self) -> None:
        if self.worker is not None:   # Esc / close while working: cancel first
            self.worker.cancel()
            return
        super().reject()
