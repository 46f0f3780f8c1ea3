"""Make the deterministic image sets used by the reference-tool parity fixtures.

Writes, under tests/fixtures/parity/:

  ref/ref_000.png ...   N_REF RGB PNG images, 96x96 (W x H)
  gen/gen_000.jpg ...   N_GEN RGB JPEG images (quality 90, 4:2:0), 128x100 (W x H)
  odd/odd_37x53.png     one RGB PNG of odd size 37x53 (W x H), for the resize fixtures
  images_manifest.json  per file: size, SHA-256 of the file and of the decoded RGB pixels

Content is "natural-ish": a smooth two-colour gradient background, random ellipses,
rectangles and polygons of varied colours, a mild blur and mild noise, all from seeded
numpy + Pillow.  The two sets differ in distribution (gen: warmer palette, more and larger
shapes, stronger blur), but half of gen is drawn from ref's distribution so that the sets
overlap and precision / recall / density / coverage are neither 0 nor 1.  Every set shares
one size so that pytorch-fid can batch it.

Run (from the repository root, with the reference venv; any Pillow >= 11 and numpy >= 2 give
the same pixels for the PNGs; the JPEG bytes depend on Pillow's libjpeg-turbo, which is why
the decoded-pixel hashes are recorded):

    /work/refenv/bin/python tests/reference/make_parity_images.py

Produced with Python 3.11.7, numpy 2.4.6, Pillow 13.0.0.  The committed images are the
fixtures: re-running only needs to happen if the sets are meant to change.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "parity"

N_REF = 64
N_GEN = 64
REF_SIZE = (96, 96)     # (W, H)
GEN_SIZE = (128, 100)   # (W, H)
ODD_SIZE = (37, 53)     # (W, H)
SEED = 20261125


def _gradient(rng: np.random.Generator, w: int, h: int, c0, c1) -> np.ndarray:
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    t = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
    t = (t - t.min()) / max(t.max() - t.min(), 1e-9)
    # a gentle non-linearity so that gradients are not all linear ramps
    t = t ** rng.uniform(0.6, 1.6)
    img = (1 - t)[..., None] * np.asarray(c0, float) + t[..., None] * np.asarray(c1, float)
    return img


def _colour(rng: np.random.Generator, warm: bool) -> tuple[int, int, int]:
    if warm:
        r = rng.integers(120, 256)
        g = rng.integers(40, 200)
        b = rng.integers(0, 120)
    else:
        r = rng.integers(0, 256)
        g = rng.integers(0, 256)
        b = rng.integers(0, 256)
    return int(r), int(g), int(b)


def render(rng: np.random.Generator, size: tuple[int, int], style: str) -> Image.Image:
    """Render one image. style 'ref' or 'shifted'."""
    w, h = size
    warm = style == "shifted"
    bg = _gradient(rng, w, h, _colour(rng, warm), _colour(rng, warm))
    img = Image.fromarray(np.clip(np.rint(bg), 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    n_shapes = int(rng.integers(2, 6)) if style == "ref" else int(rng.integers(4, 10))
    scale = 0.45 if style == "ref" else 0.65
    for _ in range(n_shapes):
        kind = rng.choice(["ellipse", "rect", "poly"], p=[0.45, 0.35, 0.2])
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rx = rng.uniform(0.05, scale) * w / 2 + 1
        ry = rng.uniform(0.05, scale) * h / 2 + 1
        col = _colour(rng, warm and rng.random() < 0.7)
        box = [cx - rx, cy - ry, cx + rx, cy + ry]
        if kind == "ellipse":
            draw.ellipse(box, fill=col)
        elif kind == "rect":
            draw.rectangle(box, fill=col)
        else:
            k = int(rng.integers(3, 6))
            ang = np.sort(rng.uniform(0, 2 * np.pi, k))
            pts = [(float(cx + rx * np.cos(a)), float(cy + ry * np.sin(a))) for a in ang]
            draw.polygon(pts, fill=col)
    blur = rng.uniform(0.3, 1.0) if style == "ref" else rng.uniform(0.8, 1.8)
    img = img.filter(ImageFilter.GaussianBlur(radius=float(blur)))
    arr = np.asarray(img).astype(np.float64)
    # mild, slightly smoothed noise (kept small so that the PNGs stay small)
    noise = rng.normal(0.0, 2.0, size=arr.shape)
    arr = np.clip(np.rint(arr + noise), 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main() -> int:
    rng = np.random.default_rng(SEED)
    for sub in ("ref", "gen", "odd"):
        shutil.rmtree(OUT / sub, ignore_errors=True)
        (OUT / sub).mkdir(parents=True)
    files: list[Path] = []
    for i in range(N_REF):
        p = OUT / "ref" / f"ref_{i:03d}.png"
        render(rng, REF_SIZE, "ref").save(p, format="PNG", optimize=True)
        files.append(p)
    for i in range(N_GEN):
        style = "ref" if i % 2 == 0 else "shifted"
        p = OUT / "gen" / f"gen_{i:03d}.jpg"
        render(rng, GEN_SIZE, style).save(p, format="JPEG", quality=90, subsampling=2)
        files.append(p)
    p = OUT / "odd" / f"odd_{ODD_SIZE[0]}x{ODD_SIZE[1]}.png"
    render(rng, ODD_SIZE, "ref").save(p, format="PNG", optimize=True)
    files.append(p)

    manifest = {"seed": SEED, "generator": "tests/reference/make_parity_images.py",
                "numpy": np.__version__, "pillow": Image.__version__, "files": {}}
    total = 0
    for f in files:
        data = f.read_bytes()
        total += len(data)
        with Image.open(f) as im:
            rgb = np.asarray(im.convert("RGB"))
        manifest["files"][f.relative_to(OUT).as_posix()] = {
            "width": rgb.shape[1], "height": rgb.shape[0], "bytes": len(data),
            "sha256": _sha(data), "pixels_sha256": _sha(np.ascontiguousarray(rgb).tobytes()),
        }
    manifest["total_bytes"] = total
    (OUT / "images_manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {len(files)} images, {total / 1e6:.3f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
