"""Draw the FID Studio icon: two overlapping bell curves (reference vs generated) on a tile.

One geometry feeds both outputs, so the SVG and the PNGs are the same picture:
  gui/resources/icon.svg            scalable source (hicolor/scalable in the .deb)
  gui/resources/icon.png            256 px, what the GUI sets as its window icon
  gui/resources/icon.ico            16..256 px, for a Windows build
  packaging/icons/<n>x<n>.png       the hicolor sizes the .deb installs
Run: python packaging/make_icon.py  (Pillow only; output is deterministic)
"""
from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
RES = ROOT / "gui" / "resources"
HICOLOR = ROOT / "packaging" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
UNIT = 256.0                      # geometry is written in a 256 x 256 box

BG_TOP, BG_BOTTOM = (0x1B, 0x2A, 0x4A), (0x0E, 0x6E, 0x7A)
REF, GEN = (0x5C, 0xC8, 0xFF), (0xFF, 0x9F, 0x43)
AXIS = (0xE8, 0xF1, 0xF5)
RADIUS, MARGIN = 48.0, 8.0
BASE_Y, PEAK_H = 200.0, 128.0


def bell(mu: float, sigma: float, n: int = 64) -> list[tuple[float, float]]:
    x0, x1 = 28.0, 228.0
    pts = []
    for i in range(n + 1):
        x = x0 + (x1 - x0) * i / n
        y = BASE_Y - PEAK_H * math.exp(-0.5 * ((x - mu) / sigma) ** 2)
        pts.append((x, y))
    return pts


CURVES = ((REF, bell(104.0, 28.0)), (GEN, bell(152.0, 34.0)))


def _svg_points(pts) -> str:
    return " ".join(f"{x:.2f},{y:.2f}" for x, y in pts)


def write_svg(path: Path) -> None:
    hexc = lambda c: "#%02x%02x%02x" % c  # noqa: E731
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">',
        '<defs><linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{hexc(BG_TOP)}"/><stop offset="1" stop-color="{hexc(BG_BOTTOM)}"/>'
        '</linearGradient></defs>',
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{UNIT - 2 * MARGIN}" height="{UNIT - 2 * MARGIN}" '
        f'rx="{RADIUS}" fill="url(#bg)"/>',
    ]
    for color, pts in CURVES:
        area = pts + [(pts[-1][0], BASE_Y), (pts[0][0], BASE_Y)]
        parts.append(f'<polygon points="{_svg_points(area)}" fill="{hexc(color)}" fill-opacity="0.35"/>')
        parts.append(f'<polyline points="{_svg_points(pts)}" fill="none" stroke="{hexc(color)}" '
                     'stroke-width="10" stroke-linejoin="round" stroke-linecap="round"/>')
    parts.append(f'<line x1="24" y1="{BASE_Y + 8}" x2="232" y2="{BASE_Y + 8}" stroke="{hexc(AXIS)}" '
                 'stroke-width="8" stroke-linecap="round"/>')
    parts.append("</svg>\n")
    path.write_text("\n".join(parts), encoding="utf-8")


def _gradient(size: int) -> Image.Image:
    col = Image.new("RGB", (1, size))
    for y in range(size):
        t = y / max(1, size - 1)
        col.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(BG_TOP, BG_BOTTOM)))
    return col.resize((size, size), Image.NEAREST)


def render(size: int) -> Image.Image:
    """Draw at 4x (at least 1024 px) and shrink: Pillow's own drawing has no anti-aliasing."""
    big = max(1024, 4 * size)
    s = big / UNIT
    sc = lambda pts: [(x * s, y * s) for x, y in pts]  # noqa: E731
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).rounded_rectangle(
        [MARGIN * s, MARGIN * s, (UNIT - MARGIN) * s, (UNIT - MARGIN) * s], radius=RADIUS * s, fill=255)
    img.paste(_gradient(big), (0, 0), mask)
    for color, pts in CURVES:
        layer = Image.new("RGBA", (big, big), (0, 0, 0, 0))
        area = pts + [(pts[-1][0], BASE_Y), (pts[0][0], BASE_Y)]
        ImageDraw.Draw(layer).polygon(sc(area), fill=color + (90,))
        img = Image.alpha_composite(img, layer)
        d = ImageDraw.Draw(img)
        d.line(sc(pts), fill=color + (255,), width=round(10 * s), joint="curve")
        for x, y in (pts[0], pts[-1]):  # round caps
            r = 5 * s
            d.ellipse([x * s - r, y * s - r, x * s + r, y * s + r], fill=color + (255,))
    d = ImageDraw.Draw(img)
    d.line([(24 * s, (BASE_Y + 8) * s), (232 * s, (BASE_Y + 8) * s)], fill=AXIS + (255,), width=round(8 * s))
    for x in (24, 232):
        r = 4 * s
        d.ellipse([x * s - r, (BASE_Y + 8) * s - r, x * s + r, (BASE_Y + 8) * s + r], fill=AXIS + (255,))
    return img.resize((size, size), Image.LANCZOS)


def main() -> int:
    RES.mkdir(parents=True, exist_ok=True)
    HICOLOR.mkdir(parents=True, exist_ok=True)
    write_svg(RES / "icon.svg")
    images = {n: render(n) for n in SIZES}
    for n, im in images.items():
        im.save(HICOLOR / f"{n}x{n}.png", optimize=True)
    images[256].save(RES / "icon.png", optimize=True)
    images[256].save(RES / "icon.ico", sizes=[(n, n) for n in (16, 24, 32, 48, 64, 128, 256)])
    print(f"wrote {RES}/icon.svg, icon.png, icon.ico and {len(SIZES)} sizes in {HICOLOR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
