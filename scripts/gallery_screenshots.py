"""Screenshots of the Samples tab and its PDF page on photographs: crops of the colour photos
that ship with scikit-image form a reference; the "generated" folder holds other crops, the
same kind of crops under heavy noise and exact copies of a few reference crops (so the
least realistic samples and the possible copies are known in advance).

    xvfb-run -a python scripts/gallery_screenshots.py OUT_FOLDER

Writes gallery.png (worst first), gallery_copies.png (possible-copies filter), detail.png
(one pair in large), report.pdf and report-samples-N.png (pdftoppm of the sample pages).
Uses temporary cache, data and settings folders.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "hubble_deep_field.jpg",
          "retina.jpg", "motorcycle_left.png", "ihc.png", "color.png", "motorcycle_right.png")
COPIED = (3, 17, 42, 60)


def photo_crops(n: int, seed: int, size: int = 128) -> list[Image.Image]:
    import skimage
    data = Path(skimage.__file__).parent / "data"
    photos = [Image.open(data / p).convert("RGB") for p in PHOTOS]
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        im = photos[i % len(photos)]
        s = int(rng.integers(size, min(im.size) // 2 + size))
        x, y = int(rng.integers(0, im.width - s)), int(rng.integers(0, im.height - s))
        out.append(im.crop((x, y, x + s, y + s)).resize((size, size), Image.Resampling.BICUBIC))
    return out


def make_sets(root: Path) -> tuple[Path, Path]:
    ref, gen = root / "photos_ref", root / "photos_gen"
    ref.mkdir(parents=True)
    gen.mkdir()
    for i, im in enumerate(photo_crops(80, seed=1)):
        im.save(ref / f"real_{i:03d}.png")
    rng = np.random.default_rng(3)
    for i, im in enumerate(photo_crops(40, seed=2)):
        if i % 4 == 3:   # every 4th heavily noised
            arr = np.asarray(im, np.float64) + rng.normal(0, 90, (im.height, im.width, 3))
            Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(gen / f"noisy_{i:03d}.png")
        else:
            im.save(gen / f"sample_{i:03d}.png")
    for i in COPIED:
        shutil.copy(ref / f"real_{i:03d}.png", gen / f"copy_of_{i:03d}.png")
    return ref, gen


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fid-gallery-"))
    os.environ["FID_STUDIO_CACHE_DIR"] = str(tmp / "cache")
    os.environ["FID_STUDIO_DATA_DIR"] = str(tmp / "data")
    from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication
    QCoreApplication.setOrganizationName("fid-studio-gallery-shots")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication(sys.argv)
    from engine.run.job import run
    from engine.run.options import Options
    from gui.main_window import MainWindow
    from reports.pdf import write_pdf

    def wait_for(pred, ms=60000):
        loop, timer = QEventLoop(), QTimer()
        timer.timeout.connect(lambda: loop.quit() if pred() else None)
        timer.start(50)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        timer.stop()
        return pred()

    ref, gen = make_sets(tmp)
    result = run(str(ref), [str(gen)], Options(metrics=("fid", "pr"), per_image=True))
    w = MainWindow()
    w.resize(1500, 950)
    w.show()
    w.show_result(result)
    w.tabs.setCurrentWidget(w.samples_view)
    sv = w.samples_view
    wait_for(lambda: sv.stack.currentIndex() == 1)
    wait_for(lambda: sv.thumbs.made >= min(2 * len(result.results[0].per_image), 30))
    app.processEvents()
    w.grab().save(str(out / "gallery.png"))
    sv.copies.setChecked(True)
    wait_for(lambda: sv.thumbs.made >= 40, 5000)
    app.processEvents()
    w.grab().save(str(out / "gallery_copies.png"))
    sv.copies.setChecked(False)
    sv.open_detail(sv.model.index(0))
    wait_for(lambda: all(lbl.pixmap() is not None and not lbl.pixmap().isNull() for lbl in sv.detail.images))
    app.processEvents()
    sv.detail.grab().save(str(out / "detail.png"))
    pages = write_pdf(out / "report.pdf", result)
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(out / "report.pdf"), str(out / "report")], check=True)
    print(f"{pages} PDF pages; summary: {result.results[0].extras['per_image']['n_possible_copies']} possible copies")
    t = result.results[0].per_image
    worst = [t.files[i] for i in t.order("realism")[:10]]
    print("10 least realistic:", worst)
    w.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots-gallery")))
