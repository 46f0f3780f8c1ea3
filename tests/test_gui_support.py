"""Helpers shared by the GUI tests (no tests here): small real image folders, and a Qt
offscreen environment with the feature cache and data folder in temporary directories."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def single_blas_thread():
    """Limit OpenBLAS to one thread while GUI tests run a job.

    On this shared 2-core test box, a multi-threaded OpenBLAS eigvalsh of the 2048x2048 FID
    matrix takes 8-13 s when other processes load the CPUs, against ~1.5 s on one thread
    (measured), which would make each GUI test minutes long. The GUI's results are compared
    with engine.run.job.run in the same process, under the same setting."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def base_images(n: int, size: int = 48, seed: int = 1) -> list[np.ndarray]:
    """Smooth random colour fields with a few blobs: image-like, different per index."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    out = []
    for _ in range(n):
        img = np.zeros((size, size, 3))
        for c in range(3):
            a, b, p = rng.uniform(-3, 3, 3)
            img[..., c] = 128 + 90 * np.sin(a * xx * 3 + b * yy * 3 + p)
        for _ in range(3):
            cx, cy, r = rng.uniform(0.2, 0.8, 2).tolist() + [rng.uniform(0.05, 0.2)]
            mask = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
            img[mask] = rng.uniform(0, 255, 3)
        out.append(img)
    return out


def write_set(folder, images, noise: float = 0.0, seed: int = 7, names=None) -> Path:
    """Save ``images`` (+ Gaussian noise of std ``noise``) as PNGs named img_000.png..."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, img in enumerate(images):
        arr = img + rng.normal(0, noise, img.shape) if noise else img
        name = names[i] if names else f"img_{i:03d}.png"
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(folder / name)
    return folder


def checkpoint_tree(root, ref_images, noises: dict, n: int) -> Path:
    """A checkpoint parent: one subfolder per name in ``noises`` (insertion order is NOT
    the natural order on purpose), each the reference's first ``n`` images + noise."""
    parent = Path(root)
    for k, (name, noise) in enumerate(noises.items()):
        write_set(parent / name, ref_images[:n], noise=noise, seed=100 + k)
    return parent


def wait_until(qtbot, predicate, timeout=60000):
    qtbot.waitUntil(predicate, timeout=timeout)


def make_window(qtbot):
    """The real main window, shown (offscreen), closed by qtbot at the end of the test."""
    from gui.main_window import MainWindow
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w
