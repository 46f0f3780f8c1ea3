""""Enable Inception Score…": downloads pytorch-fid's official weights file (hash-checked),
or takes it from disk, and adds the classifier head to the model (gui.enable_dialog does the
showing; gui.workers.EnableIsWorker the work)."""
from __future__ import annotations

from PySide6.QtCore import QThreadPool

from .enable_dialog import EnableDialog
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


class EnableIsDialog(EnableDialog):
    title = "Enable Inception Score"
    file_caption = "pytorch-fid weights (pt_inception-2015-12-05-6726825d.pth)"

    def __init__(self, model_path, parent=None, *, pool: QThreadPool | None = None, source=None):
        from models.inception import is_head
        self.model_path = model_path
        super().__init__(source or is_head.OFFICIAL_HEAD, parent, pool=pool)

    def explanation(self) -> str:
        return _explanation(self.source)

    def make_worker(self, weights):
        return EnableIsWorker(self.model_path, weights=weights, source=self.source)
