"""Screenshots of FD-DINOv2 in the window, for review.

    python scripts/screenshot_dinov2.py OUT_FOLDER     (any Qt platform; offscreen works)

Saves: 20-dinov2-greyed.png (FD_DINOv2 unavailable, "Enable FD-DINOv2…"), 21-enable-dialog.png,
22-dinov2-results.png (after enabling from a 2-block stand-in file: a run with FID, FD_DINOv2
and KID in the DINOv2 space), 23-history.png. Temporary data, cache and settings; the stand-in
weights are test data (seeded tensors in the official layout), not Meta's.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    from shot_dirs import out_and_temp
    out, tmp = out_and_temp()
    from PySide6.QtWidgets import QApplication
    from gui.main_window import MainWindow
    from models.dinov2.standin import write_standin
    from models.dinov2.weights import ViTSpec
    from test_gui_support import base_images, write_set

    app = QApplication.instance() or QApplication([])
    w = MainWindow()
    w.resize(1400, 900)
    w.show()

    def settle(until=lambda: True, ms=120_000):
        import time
        t = time.monotonic()
        while not until() and time.monotonic() - t < ms / 1000:
            app.processEvents()
            time.sleep(0.01)
        for _ in range(20):
            app.processEvents()

    ref = write_set(tmp / "real", base_images(12, seed=1))
    gen = write_set(tmp / "generated", base_images(12, seed=2), noise=20)
    w.sources.set_reference(str(ref))
    w.sources.add_generated([str(gen)])
    settle(lambda: w.sources.pending() == 0)
    w.grab().save(str(out / "20-dinov2-greyed.png"))
    spec = ViTSpec(depth=2)
    dlg = w.enable_network_dialog("fd_dinov2", spec=spec)
    settle()
    dlg.grab().save(str(out / "21-enable-dialog.png"))
    dlg.start(str(write_standin(tmp / "dinov2_vitl14_pretrain.pth", depth=2)))
    settle(lambda: dlg.outcome != "")
    print("enable:", dlg.outcome, dlg.error.text())
    w.options.set_metrics(("fid", "fd_dinov2", "kid", "pr"))
    w.options.space.select("dinov2", "dgm-eval")
    ended = []
    w.run_ended.connect(lambda *a: ended.append(a))
    w.start_run()
    settle(lambda: bool(ended), 600_000)
    w.tabs.setCurrentWidget(w.results_tab)
    settle()
    w.grab().save(str(out / "22-dinov2-results.png"))
    w.tabs.setCurrentWidget(w.history_view) if w.tabs.indexOf(w.history_view) >= 0 else None
    settle()
    w.grab().save(str(out / "23-history.png"))
    print("run:", ended, w.last_error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
