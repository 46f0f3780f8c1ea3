"""Write the few small images `fid-studio --selftest` scores (shipped inside the bundle).

reference/NN.png: smooth random colour fields with a disc and a bar (64 x 64 RGB);
generated/NN.png: the same scene blurred, shifted in colour and lightly noised, so SSIM is
well below 1 and FID clearly above 0. Same names on both sides, so SSIM pairs them.
Deterministic (seeded); the PNGs are committed, this script documents how they were made.
Run: python packaging/make_selftest_images.py
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parent / "selftest_images"
COUNT, SIZE, SEED = 8, 64, 20240605


def scene(rng: np.random.Generator) -> Image.Image:
    coarse = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    img = Image.fromarray(coarse, "RGB").resize((SIZE, SIZE), Image.BICUBIC)
    d = ImageDraw.Draw(img)
    cx, cy, r = (int(v) for v in rng.integers(16, 48, size=3) // (1, 1, 2))
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    x0, y0 = (int(v) for v in rng.integers(0, SIZE - 24, size=2))
    d.rectangle([x0, y0, x0 + 24, y0 + 6], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return img


def degrade(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    a = np.asarray(img.filter(ImageFilter.GaussianBlur(1.2)), dtype=np.float64)
    a = a * 0.9 + np.array([18.0, -6.0, 10.0]) + rng.normal(0.0, 6.0, a.shape)
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "RGB")


def main() -> int:
    rng = np.random.default_rng(SEED)
    for side in ("reference", "generated"):
        (OUT / side).mkdir(parents=True, exist_ok=True)
    for i in range(COUNT):
        ref = scene(rng)
        ref.save(OUT / "reference" / f"{i:02d}.png", optimize=True)
        degrade(ref, rng).save(OUT / "generated" / f"{i:02d}.png", optimize=True)
    print(f"wrote {COUNT} pairs of {SIZE}x{SIZE} PNGs under {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
