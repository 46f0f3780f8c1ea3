""""Enable FD-DINOv2…", "Enable CLIP-FID…", "Enable CMMD…": downloads a network's weights (or
takes the file from disk), verifies them and builds the model into the user's data folder.
gui.on_request says what each one is; gui.enable_dialog does the showing;
gui.workers.EnableNetworkWorker the work."""
from __future__ import annotations

from PySide6.QtCore import QThreadPool

from .enable_dialog import EnableDialog
from .on_request import NETWORKS, explanation
from .workers import EnableNetworkWorker


class EnableNetworkDialog(EnableDialog):
    def __init__(self, metric: str, parent=None, *, pool: QThreadPool | None = None, source=None,
                 spec=None):
        self.row = NETWORKS[metric]
        self.title = self.row.action.rstrip("…")
        self.file_caption = self.row.file_caption
        self.spec = spec          # None: the full model (tests pass reduced-depth stand-ins)
        super().__init__(source or self.row.source(), parent, pool=pool)

    def explanation(self) -> str:
        return explanation(self.row, self.source)

    def make_worker(self, weights):
        return EnableNetworkWorker(self.row.network, weights=weights, source=self.source, spec=self.spec)
