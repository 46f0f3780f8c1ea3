"""Screenshots of "Standard reference…" for review.

    python scripts/screenshot_refs.py OUT_FOLDER     (any Qt platform; offscreen works)

Saves: 30-refs-list.png (the catalogue and an own reference, one catalogue file already
downloaded, a row selected with its supported metrics and the others greyed),
31-refs-search.png (searching "cifar10"), 32-refs-downloading.png (a download in progress,
served by a local HTTP server through the mirror field), 33-refs-chosen.png (the window with the
downloaded reference chosen and its preset set). The served files are tiny valid statistics
made here (random features), not the published ones. Temporary data, cache and settings.
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
    from engine.refs.catalogue import CATALOGUE
    from gui import refs_actions
    from gui.main_window import MainWindow
    from httpserve import LocalServer
    from refs_files import moments_npz
    from test_gui_support import base_images, write_set

    settle = settler(QApplication.instance() or QApplication([]))
    w = MainWindow()
    w.resize(1400, 900)
    w.show()
    done = []
    ref = write_set(tmp / "real", base_images(8, seed=1, size=32))
    w.sources.set_reference(str(ref))
    worker = refs_actions.save_as_reference(w, "cifar10-my-subset", str(tmp / "cifar10-my-subset.npz"))
    worker.signals.finished.connect(done.append)
    worker.signals.failed.connect(done.append)
    settle(lambda: bool(done))
    print("saved:", done)
    edm = CATALOGUE["edm/cifar10-32x32"]
    cifar = CATALOGUE["clean-fid/cifar10_clean_train_32"]
    files = {e.host_path[0] + e.host_path[1]: moments_npz(i) for i, e in enumerate((edm, cifar))}
    with LocalServer(files) as server:
        dlg = refs_actions.open_standard_reference(w)
        dlg.mirror.setText(server.url("file"))
        dlg.select(edm.name)
        dlg.use()
        settle(lambda: dlg.outcome != "")
        print("edm:", dlg.outcome, dlg.error.text())
        dlg = refs_actions.open_standard_reference(w)
        dlg.select(edm.name)
        settle()
        dlg.grab().save(str(out / "30-refs-list.png"))
        dlg.search.setText("cifar10")
        dlg.select(cifar.name)
        settle()
        dlg.grab().save(str(out / "31-refs-search.png"))
        dlg.mirror.setText(server.url("trickle"))
        dlg.use()
        settle(lambda: dlg.bar.value() > 0 and dlg.bar.maximum() == 1000)
        dlg.grab().save(str(out / "32-refs-downloading.png"))
        server.pace.set()
        settle(lambda: dlg.outcome != "")
        print("cifar:", dlg.outcome, dlg.error.text())
    settle()
    w.grab().save(str(out / "33-refs-chosen.png"))
    print("reference:", w.sources.reference, "preset:", w.options.options().preset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
