""""Enable FD-DINOv2…": downloads Meta's DINOv2 ViT-L/14 weights (1.2 GB; no hash is published,
so every tensor's name, shape, dtype and finiteness is checked), or takes the file from disk,
and builds the DINOv2 model into the user's data folder (gui.enable_dialog does the showing;
gui.workers.EnableDinov2Worker the work)."""
from __future__ import annotations

from PySide6.QtCore import QThreadPool

from .enable_dialog import EnableDialog
from .workers import EnableDinov2Worker


def _explanation(source) -> str:
    return (
        "<p>FD_DINOv2 is the Fréchet distance in the feature space of DINOv2 ViT-L/14 "
        "(Stein et al. 2023; EDM2), reported beside FID in recent papers. With the model "
        "added you can also compute KID, precision/recall and the per-image scores in that "
        "space (Settings → Feature space).</p>"
        f"<p>FID Studio will download Meta's weights file <b>{source.file_name}</b> "
        f"(about {source.approx_mb:,} MB) from<br><code>{source.url}</code></p>"
        "<p>No checksum is published for it: every tensor is checked against the ViT-L/14 "
        "layout (names, shapes, types, finite values) before use, and the file's SHA-256 is "
        "recorded with the model and shown in results, so two labs can compare. An interrupted "
        "download resumes; Cancel keeps nothing. The model is built into your data folder and "
        "the downloaded file is deleted afterwards.</p>"
        "<p>Offline? Choose <b>From file…</b> with that file.</p>")


class EnableDinov2Dialog(EnableDialog):
    title = "Enable FD-DINOv2"
    file_caption = "DINOv2 ViT-L/14 weights (dinov2_vitl14_pretrain.pth)"

    def __init__(self, parent=None, *, pool: QThreadPool | None = None, source=None, spec=None):
        from models.dinov2.enable import OFFICIAL_WEIGHTS
        self.spec = spec          # None: the full model (tests pass reduced-depth stand-ins)
        super().__init__(source or OFFICIAL_WEIGHTS, parent, pool=pool)

    def explanation(self) -> str:
        return _explanation(self.source)

    def make_worker(self, weights):
        return EnableDinov2Worker(weights=weights, source=self.source, spec=self.spec)
