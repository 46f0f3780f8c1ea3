"""Screenshots of the desktop app for review: starts the app under Xvfb, runs a small job
on generated images, and saves the window mid-run and finished, plus the PDF report's pages
as PNGs (pdftoppm).

    python scripts/screenshots.py OUT_FOLDER [--images N] [--keep]

Needs Xvfb and poppler-utils (apt-get install xvfb poppler-utils libxcb-cursor0 ...).
Uses temporary data, cache and settings folders: the user's own are left alone.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_images(n: int, size: int, seed: int) -> list[np.ndarray]:
    # the same image-like colour fields the GUI tests score
    sys.path.insert(0, str(ROOT / "tests"))
    from test_gui_support import base_images
    return base_images(n, size, seed)


def write(folder: Path, images, noise: float, seed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, img in enumerate(images):
        arr = img + rng.normal(0, noise, img.shape) if noise else img
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(folder / f"sample_{i:04d}.png")


def make_data(root: Path, n: int) -> tuple[Path, Path]:
    imgs = make_images(n, 64, seed=1)
    ref = root / "real_images"
    write(ref, imgs, 0, 0)
    parent = root / "checkpoints"
    for k, (step, noise) in enumerate({"step_05000": 90, "step_10000": 55, "step_20000": 30,
                                       "step_40000": 38}.items()):
        write(parent / step, imgs[: int(n * 0.75)], noise, 10 + k)
    (parent / "step_10000" / "sample_9999.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (parent / "step_20000" / "notes.txt").write_text("not an image")
    return ref, parent


def start_xvfb(display: str) -> subprocess.Popen:
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{display.lstrip(':')}").exists():
            return proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("Xvfb did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--images", type=int, default=240, help="reference images (checkpoints: 75%%)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = ap.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="fid-studio-shots-"))
    os.environ["FID_STUDIO_DATA_DIR"] = str(work / "appdata")
    os.environ["FID_STUDIO_CACHE_DIR"] = str(work / "cache")
    ref, parent = make_data(work / "data", args.images)
    display = ":97"
    xvfb = start_xvfb(display)
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    try:
        return _shoot(out, ref, parent)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
        if args.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _shoot(out: Path, ref: Path, parent: Path) -> int:
    from PySide6.QtCore import QTimer

    from gui.app import create_app
    from gui.crash import install_excepthook
    app = create_app(["fid-studio"])
    install_excepthook()
    from gui.main_window import MainWindow
    w = MainWindow()
    w.resize(1500, 940)
    w.move(50, 30)
    w.show()
    w.sources.set_reference(str(ref))
    w.sources.add_checkpoint_folder(parent)
    w.options.set_metrics(("fid", "kid", "ssim", "mse", "psnr", "pr"))
    w.options.batch.setValue(16)
    shots = []

    def grab(name: str) -> None:
        app.processEvents()
        path = out / name
        w.grab().save(str(path))
        shots.append(path)
        print("saved", path)

    state = {"mid": False}

    def on_progress(e):
        if (not state["mid"] and getattr(e, "role", "") == "generated" and getattr(e, "index", 0) == 1
                and e.done >= e.total // 2):
            state["mid"] = True
            QTimer.singleShot(300, lambda: grab("01-running.png"))

    def started(tag):
        w.runner.worker.signals.progress.connect(on_progress)

    def finished(outcome):
        if outcome != "finished":
            print("run ended:", outcome, w.last_error)
            app.quit()
            return
        QTimer.singleShot(1500, after_run)

    def after_run():
        grab("02-results.png")
        w.tabs.setCurrentIndex(0)
        grab("03-run-finished.png")
        w.tabs.setCurrentIndex(2)
        w.history_view.runs.selectRow(0)
        w.history_view.compare_selected()
        grab("04-history.png")
        w.tabs.setCurrentIndex(1)
        pdf = out / "report.pdf"
        if w.export_to(pdf):
            subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(out / "report-page")], check=False)
        app.quit()

    w.runner.started.connect(started)
    w.run_ended.connect(finished)
    QTimer.singleShot(1500, lambda: (grab("00-setup.png"), w.start_run()))
    app.exec()
    w.close()
    return 0 if len(shots) >= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
