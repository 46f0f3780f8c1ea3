"""Samples tab fluidity on a large source: time to the first screen of thumbnails, and the
event-loop delay while scrolling.

    xvfb-run -a python bench/gallery_bench.py [--n 20000] [--real 2000] [--size 128]

Writes N generated and REAL reference PNGs (image-like colour fields, SIZE px) to a temporary
folder, computes a real per-image table for them from random 64-d stand-in features (the
GUI's cost does not depend on where the scores come from; engine.per_image.scores.compute
is the same code a run uses), shows the Samples tab and measures:

- first thumbnails: from showing the table to every visible item having both thumbnails;
- event-loop delay: a 5 ms QTimer's lateness while the list is scrolled by a wheel step
  every 16 ms (smooth scroll, then one page per 16 ms: a fling), and after the scroll
  stops, the time until the screen is filled again; the same probe without scrolling
  first, as the noise floor of a loaded machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def write_images(folder: Path, n: int, size: int, seed: int, prefix: str) -> list[str]:
    from test_gui_support import base_images
    folder.mkdir(parents=True)
    names = []
    for s in range(0, n, 500):
        for i, img in enumerate(base_images(min(500, n - s), size, seed + s)):
            name = f"{prefix}_{s + i:05d}.png"
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / name, compress_level=1)
            names.append(name)
    return names


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--real", type=int, default=2000)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--scroll-s", type=float, default=8.0)
    ap.add_argument("--dir", type=Path, help="keep (and reuse) the images in this folder")
    args = ap.parse_args()
    tmp = args.dir or Path(tempfile.mkdtemp(prefix="fid-gallery-bench-"))
    t0 = time.perf_counter()
    if (tmp / "gen").is_dir() and len(os.listdir(tmp / "gen")) == args.n:
        gen_names, real_names = sorted(os.listdir(tmp / "gen")), sorted(os.listdir(tmp / "real"))[:args.real]
    else:
        gen_names = write_images(tmp / "gen", args.n, args.size, 1, "gen")
        real_names = write_images(tmp / "real", args.real, args.size, 10**6, "real")
        print(f"wrote {args.n} + {args.real} images in {time.perf_counter() - t0:.1f} s", flush=True)

    from engine.per_image import scores
    from engine.per_image.table import PerImageTable
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    sc = scores.compute(rng.normal(size=(args.real, 64)).astype(np.float32),
                        rng.normal(size=(args.n, 64)).astype(np.float32))
    table = PerImageTable(source=str(tmp / "gen"), reference=str(tmp / "real"), files=gen_names,
                          real_files=real_names, scores=sc)
    print(f"per-image scores ({args.n} x {args.real}, 64-d) in {time.perf_counter() - t0:.1f} s", flush=True)

    from PySide6.QtCore import QElapsedTimer, QEventLoop, QPoint, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication
    app = QApplication(sys.argv)
    from engine.run.result import RunResult, SourceResult
    from gui.samples_view import SamplesView
    from gui import samples_model
    paint_s = [0.0, 0]                 # our delegate's own paint time, and items painted
    original_paint = samples_model.SampleDelegate.paint

    def timed_paint(self, painter, option, index):
        t = time.perf_counter()
        original_paint(self, painter, option, index)
        paint_s[0] += time.perf_counter() - t
        paint_s[1] += 1
    samples_model.SampleDelegate.paint = timed_paint
    result = RunResult(preset="clean", device="cpu", device_line="", seed=0, model=None,
                       reference={"path": str(tmp / "real"), "n_images": args.real}, options={},
                       results=[SourceResult(path=str(tmp / "gen"), n_images=args.n)], created="")
    result.results[0].per_image = table
    view = SamplesView(QThreadPool.globalInstance())
    view.resize(1280, 900)
    view.show()

    def visible_complete() -> tuple[int, int]:
        lv, m = view.list, view.model
        vp = lv.viewport().rect()
        grid = lv.gridSize()
        per_line = max(1, vp.width() // grid.width())
        start = max(0, (lv.verticalScrollBar().value() // grid.height() - 1) * per_line)
        total = done = 0
        for row in range(start, min(start + 400, m.rowCount())):
            if not lv.visualRect(m.index(row)).intersects(vp):
                continue
            i = m.row_of(m.index(row))
            for root, name in ((m.gen_root, table.files[i]), (m.real_root, table.nearest_name(i))):
                total += 1
                done += (root, name) in view.thumbs._cache
        return done, total

    def wait_for(pred, ms=120000) -> float:
        t = time.perf_counter()
        loop, timer = QEventLoop(), QTimer()
        timer.timeout.connect(lambda: loop.quit() if pred() else None)
        timer.start(5)
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        timer.stop()
        return time.perf_counter() - t

    t_show = time.perf_counter()
    view.set_result(result)
    view.activate()
    wait_for(lambda: view.stack.currentIndex() == 1)
    wait_for(lambda: (lambda d, t: t > 0 and d == t)(*visible_complete()))
    first_screen = time.perf_counter() - t_show
    n_visible = visible_complete()[1] // 2
    print(f"first screen of thumbnails ({n_visible} items, {2 * n_visible} thumbnails): {first_screen:.2f} s",
          flush=True)

    bar = view.list.verticalScrollBar()
    lateness, clock = [], QElapsedTimer()

    def tick():
        ms = clock.restart()
        lateness.append(max(0, ms - 5))
    probe = QTimer()
    probe.setInterval(5)
    probe.timeout.connect(tick)

    def scroll_phase(step: int, seconds: float) -> dict:
        lateness.clear()
        paint_s[:] = [0.0, 0]
        mover = QTimer()
        mover.setInterval(16)
        mover.timeout.connect(lambda: bar.setValue(min(bar.maximum(), bar.value() + step)))
        clock.start()
        probe.start()
        mover.start()
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()
        mover.stop()
        probe.stop()
        lat = sorted(lateness)
        return {"step_px": step, "ticks": len(lat), "median_ms": statistics.median(lat),
                "p95_ms": lat[int(0.95 * (len(lat) - 1))], "p99_ms": lat[int(0.99 * (len(lat) - 1))],
                "max_ms": lat[-1], "position": f"{bar.value()}/{bar.maximum()}",
                "delegate_paint_ms_per_item": round(1000 * paint_s[0] / max(1, paint_s[1]), 3),
                "delegate_paint_share": round(paint_s[0] / seconds, 3)}

    idle = scroll_phase(0, args.scroll_s / 4)       # the machine's own noise floor: no scrolling
    print(f"idle (no scrolling, same probe): {idle}")
    smooth = scroll_phase(bar.singleStep() * 3, args.scroll_s / 2)
    refill_smooth = wait_for(lambda: (lambda d, t: t > 0 and d == t)(*visible_complete()))
    fling = scroll_phase(bar.pageStep(), args.scroll_s / 2)
    refill_fling = wait_for(lambda: (lambda d, t: t > 0 and d == t)(*visible_complete()))
    print(f"smooth scroll: {smooth}; screen refilled {refill_smooth:.2f} s after it stopped")
    print(f"fling (a page per 16 ms): {fling}; screen refilled {refill_fling:.2f} s after it stopped")
    print(f"thumbnails made in all: {view.thumbs.made}; cpu count {os.cpu_count()}")
    view.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
