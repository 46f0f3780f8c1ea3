"""Small deterministic image folders for tests (smooth shapes + noise, seeded)."""
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def make_image(rng, size=(48, 48), shift=0):
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * rng.uniform(1, 4) + shift) % 256, (yy * rng.uniform(1, 4)) % 256,
                     np.full((h, w), rng.uniform(0, 255))], axis=-1)
    im = Image.fromarray(np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(3):
        x0, y0 = rng.integers(0, w // 2), rng.integers(0, h // 2)
        d.ellipse([x0, y0, x0 + rng.integers(4, w // 2), y0 + rng.integers(4, h // 2)],
                  fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return im


def make_folder(path: Path, n: int, seed: int, size=(48, 48), shift=0, ext="png", prefix="img"):
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        make_image(rng, size, shift).save(path / f"{prefix}_{i:04d}.{ext}")
    return path
