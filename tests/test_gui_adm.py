"""The GUI side of image arrays and suites: drop an ADM batch, pick the adm suite."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from engine.run.options import ALL_METRICS


def test_dropped_npz_batches_are_sources(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))
    from gui.main_window import MainWindow
    x = np.random.default_rng(0).integers(0, 256, (6, 16, 20, 3), dtype=np.uint8)
    np.savez(tmp_path / "ref_batch.npz", arr_0=x, mu=np.zeros(2048), sigma=np.eye(2048))
    np.save(tmp_path / "samples.npy", x.transpose(0, 3, 1, 2))
    w = MainWindow()
    qtbot.addWidget(w)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / n)) for n in ("ref_batch.npz", "samples.npy")])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(w.sources.scans_settled, timeout=30000):
        w.dropEvent(ev)
    qtbot.waitUntil(lambda: w.sources.pending() == 0)
    assert w.sources.reference == str(tmp_path / "ref_batch.npz")
    assert w.sources.generated() == [str(tmp_path / "samples.npy")]
    assert w.sources.ref_info.text() == "array arr_0, 6 images of 16×20, with ADM statistics"
    assert w.options.checks["pr"].isEnabled()       # the batch's images serve precision/recall
    w.close()


def test_adm_suite_is_one_choice(qtbot):
    from gui.options_panel import OptionsPanel
    p = OptionsPanel()
    qtbot.addWidget(p)
    p.suite.setCurrentIndex(p.suite.findData("adm"))
    assert p.preset.currentData() == "tensorflow"
    chosen = {m for m, cb in p.checks.items() if cb.isChecked()}
    assert chosen == {m for m in ("fid", "sfid", "is", "pr") if m in ALL_METRICS}
    opts = p.options()
    assert opts.suite == "adm" and opts.pr_convention == "adm" and opts.preset == "tensorflow"
    p.checks["kid"].setChecked(True)               # a hand edit: no longer the suite
    assert p.suite.currentData() is None and p.options().suite is None
    assert p.options().pr_convention == "prdc"
