"""Screenshots of the other feature spaces in the window, for review.

    python scripts/screenshot_spaces.py OUT_FOLDER     (any Qt platform; offscreen works)

Saves: 20-spaces-greyed.png (FD_DINOv2, CLIP-FID, CMMD unavailable, their "Enable …" buttons),
21-enable-fd_dinov2.png, 21-enable-clip_fid.png, 21-enable-cmmd.png (the dialogs),
22-spaces-results.png (after enabling each from a 2-block stand-in file: a run with FID,
FD_DINOv2, CLIP-FID, CMMD and KID in the CLIP space), 23-history.png. Temporary data, cache and
settings; the stand-in weights are test data (seeded tensors in the official layouts), not
Meta's or OpenAI's.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    from shot_dirs import out_and_temp, settler
    out, tmp = out_and_temp()
    from PySide6.QtWidgets import QApplication
    from gui.main_window import MainWindow
    from models.clip.standin import standin_spec, write_standin as write_clip
    from models.dinov2.standin import write_standin
    from models.dinov2.weights import ViTSpec
    from test_gui_support import base_images, write_set

    app = QApplication.instance() or QApplication([])
    w = MainWindow()
    w.resize(1400, 900)
    w.show()

    settle = settler(app)

    ref = write_set(tmp / "real", base_images(12, seed=1))
    gen = write_set(tmp / "generated", base_images(12, seed=2), noise=20)
    w.sources.set_reference(str(ref))
    w.sources.add_generated([str(gen)])
    settle(lambda: w.sources.pending() == 0)
    w.grab().save(str(out / "20-spaces-greyed.png"))
    standins = {"fd_dinov2": (ViTSpec(depth=2), lambda: write_standin(tmp / "dinov2_vitl14_pretrain.pth", depth=2)),
                "clip_fid": (standin_spec("vitb32", 2), lambda: write_clip(tmp / "b32.pt", "vitb32", depth=2)),
                "cmmd": (standin_spec("vitl14-336", 2), lambda: write_clip(tmp / "l14.pt", "vitl14-336", depth=2))}
    for metric, (spec, weights) in standins.items():
        dlg = w.enable_network_dialog(metric, spec=spec)
        settle()
        dlg.grab().save(str(out / f"21-enable-{metric}.png"))
        dlg.start(str(weights()))
        settle(lambda: dlg.outcome != "")
        print("enable", metric, dlg.outcome, dlg.error.text())
    w.options.set_metrics(("fid", "fd_dinov2", "clip_fid", "cmmd", "kid"))
    w.options.space.select("clip", None)
    ended = []
    w.run_ended.connect(lambda *a: ended.append(a))
    w.start_run()
    settle(lambda: bool(ended), 600_000)
    w.tabs.setCurrentWidget(w.results_tab)
    settle()
    w.grab().save(str(out / "22-spaces-results.png"))
    w.tabs.setCurrentWidget(w.history_view) if w.tabs.indexOf(w.history_view) >= 0 else None
    settle()
    w.grab().save(str(out / "23-history.png"))
    print("run:", ended, w.last_error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
