"""Screenshots of "Enable Inception Score…" for review, against a local HTTP server.

    xvfb-run -a python scripts/screenshot_enable_is.py OUT_FOLDER

Saves: 10-is-greyed.png (the window, IS unavailable with the action), 11-enable-dialog.png
(what will be downloaded), 12-downloading.png (progress bar and Cancel, mid-transfer),
13-is-enabled.png (after adding a stand-in head from a file: IS available, no restart).
Temporary data, cache, settings and model copies: the user's own are left alone. The served
bytes and the stand-in head are test data, not the real weights.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    from shot_dirs import out_and_temp
    out, tmp = out_and_temp()
    from models.testing import ensure_test_model, write_stand_in_head_file
    model = ensure_test_model()
    copy = tmp / "model" / "fid_inception.onnx"
    copy.parent.mkdir()
    shutil.copy(model, copy)
    shutil.copy(str(model) + ".json", str(copy) + ".json")
    os.environ["FID_STUDIO_MODEL"] = str(copy)
    head = write_stand_in_head_file(tmp / "stand-in-head.pth")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from httpserve import LocalServer
    from models.common.download import RemoteFile
    from models.inception.is_head import OFFICIAL_HEAD
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    payload = os.urandom(6_000_000)
    server = LocalServer({OFFICIAL_HEAD.file_name: payload}).__enter__()
    trickle = RemoteFile(server.url(f"trickle/{OFFICIAL_HEAD.file_name}"), OFFICIAL_HEAD.file_name,
                            hashlib.sha256(payload).hexdigest()[:8], 91)
    w = MainWindow()
    w.resize(1400, 900)
    w.show()
    state = {}

    def grab(widget, name):
        widget.grab().save(str(out / name))
        print(out / name)

    def step1():
        grab(w, "10-is-greyed.png")
        state["dlg"] = dlg = w.enable_is_dialog(source=trickle)
        dlg.show()
        QTimer.singleShot(500, step2)

    def step2():
        grab(state["dlg"], "11-enable-dialog.png")
        state["dlg"].download_button.click()
        QTimer.singleShot(200, wait_progress)

    def wait_progress():
        dlg = state["dlg"]
        if dlg.bar.maximum() == 1000 and dlg.bar.value() >= 250:
            grab(dlg, "12-downloading.png")
            dlg.worker.signals.cancelled.connect(step3)
            dlg.cancel_button.click()
        else:
            QTimer.singleShot(100, wait_progress)

    def step3():
        server.pace.set()
        state["dlg"].close()
        local = RemoteFile(OFFICIAL_HEAD.url, OFFICIAL_HEAD.file_name,
                              hashlib.sha256(head.read_bytes()).hexdigest()[:8], 91)
        dlg = w.enable_is_dialog(source=local)
        dlg.enabled.connect(lambda prov: QTimer.singleShot(300, step4))
        dlg.start(head)

    def step4():
        grab(w, "13-is-enabled.png")
        app.quit()

    QTimer.singleShot(1500, step1)
    app.exec()
    server.__exit__(None, None, None)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
