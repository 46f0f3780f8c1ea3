"""A folder of broken and unusual images, as users' folders have them."""
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

GOOD = ["cmyk.jpg", "gray16.png", "palette_alpha.png", "one_pixel.png", "exif_rotated.jpg",
        "ok_a.png", "ok_b.jpg", "caf\udce9.png", "sub/Upper.PNG", "anim.gif", "rgba.webp"]
BAD = {"truncated.png": "truncated", "truncated.jpg": "truncated", "zero.png": "not a readable image",
       "text.png": "not a readable image", "huge.png": "too large", "unreadable.png": "cannot read"}


def _png_header_only(w, h):
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def make_bad_folder(root: Path) -> Path:
    root = Path(root)
    (root / "sub").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))
    buf = io.BytesIO()
    rgb.save(buf, "PNG")
    (root / "truncated.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    buf = io.BytesIO()
    rgb.save(buf, "JPEG", quality=90)
    (root / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (root / "zero.png").write_bytes(b"")
    (root / "text.png").write_text("this is not an image\n")
    (root / "huge.png").write_bytes(_png_header_only(200_000, 100_000))
    rgb.convert("CMYK").save(root / "cmyk.jpg")
    Image.fromarray((np.arange(40 * 50, dtype=np.uint16).reshape(40, 50) * 30)).save(root / "gray16.png")
    pal = rgb.convert("P", palette=Image.ADAPTIVE, colors=16)
    pal.info["transparency"] = 0
    pal.save(root / "palette_alpha.png", transparency=0)
    Image.new("RGB", (1, 1), (200, 10, 10)).save(root / "one_pixel.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    rgb.save(root / "exif_rotated.jpg", exif=exif.tobytes())
    rgb.save(root / "ok_a.png")
    rgb.transpose(Image.FLIP_LEFT_RIGHT).save(root / "ok_b.jpg")
    rgb.save(os.path.join(os.fsencode(root), b"caf\xe9.png"), "PNG")
    rgb.save(root / "sub" / "Upper.PNG", "PNG")
    frames = [Image.new("RGB", (30, 30), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(root / "anim.gif", save_all=True, append_images=frames[1:])
    Image.fromarray(rng.integers(0, 256, (20, 20, 4), dtype=np.uint8), "RGBA").save(root / "rgba.webp")
    (root / "notes.txt").write_text("not an image")
    target = root / "unreadable.png"
    rgb.save(target)
    os.chmod(target, 0)
    if os.geteuid() == 0:  # root reads anything: a dangling link is unreadable for everyone
        target.unlink()
        os.symlink(root / "missing-target.png", target)
    return root
