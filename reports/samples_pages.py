"""The PDF report's sample pages: per generated source with per-image scores, the 12 least
realistic samples and the possible copies, each beside its nearest real image with the
numbers (text stays selectable: only the image pairs are pictures)."""
from __future__ import annotations

import html

import numpy as np

from engine.inputs.decode import reader_for_path
from engine.per_image.scores import copy_rule

from .result_format import short_name

LEAST = 12
MAX_COPIES = 12
PER_ROW = 4
SIDE = 150                     # pixels per image in the pair picture


def _e(text) -> str:
    return html.escape(str(text))


def _thumb(read, name):
    from PIL import Image
    d = read(name)
    if d.array is None:
        return None
    im = Image.fromarray(d.array)
    im.thumbnail((SIDE, SIDE), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(im))


def pair_image(gen, real):
    """generated | nearest real, side by side on a light background (None = not decodable)."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter
    gap = 8
    img = QImage(2 * SIDE + gap, SIDE, QImage.Format.Format_RGB32)
    img.fill(QColor("#ffffff"))
    p = QPainter(img)
    for k, arr in enumerate((gen, real)):
        x0 = k * (SIDE + gap)
        if arr is None:
            p.fillRect(QRectF(x0, 0, SIDE, SIDE), QColor("#f3e3e3"))
            p.drawText(QRectF(x0, 0, SIDE, SIDE), Qt.AlignmentFlag.AlignCenter, "cannot decode")
            continue
        h, w, _ = arr.shape
        q = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        p.drawImage(int(x0 + (SIDE - w) / 2), int((SIDE - h) / 2), q)
    p.end()
    return img


def _num(v, digits=4) -> str:
    return "—" if v is None else ("∞" if v == float("inf") else f"{v:.{digits}g}")


def _grid(table, rows, prefix, images, read_gen, read_real, width) -> str:
    cells = []
    for j, i in enumerate(rows):
        r = table.row(int(i))
        name = f"{prefix}_{j}.png"
        images.append((name, pair_image(_thumb(read_gen, r["file"]), _thumb(read_real, r["nearest_real"]))))
        extra = f"<br>SSIM {_num(r['ssim'])} · PSNR {_num(r['psnr'])}" if table.paired else ""
        flag = "<br><b>possible copy</b>" if r["possible_copy"] else ""
        w = int(width / PER_ROW) - 12
        cells.append(f'<td width="{int(100 / PER_ROW)}%"><img src="{name}" width="{w}" height="{int(w * SIDE / (2 * SIDE + 8))}">'
                     f'<br><span style="font-size:7.5pt">{_e(r["file"])}<br>nearest: {_e(r["nearest_real"])}'
                     f"<br>realism {_num(r['realism'], 3)} · distance {_num(r['distance'])}"
                     f"<br>{'inside' if r['in_manifold'] else 'outside'} the manifold{extra}{flag}</span></td>")
    out = []
    for s in range(0, len(cells), PER_ROW):
        out.append("<tr>" + "".join(cells[s:s + PER_ROW]) + "</tr>")
    return '<table cellspacing="4" cellpadding="2" width="100%">' + "".join(out) + "</table>"


def samples_section(result, width: int) -> tuple[str, list]:
    """(HTML, [(resource name, QImage)]) for every source that has a per-image table."""
    parts, images = [], []
    for k, res in enumerate(result.results):
        table = getattr(res, "per_image", None)
        if table is None:
            continue
        read_gen, read_real = reader_for_path(str(table.source)), reader_for_path(str(table.reference))
        s = table.scores
        parts.append(f'<h2 style="page-break-before: always">Samples: {_e(short_name(res.path))}</h2>')
        parts.append(f"<p>{len(table):,} images · {int(s.in_manifold.sum()):,} inside the real manifold "
                     f"(k={s.k}) · {int(s.possible_copy.sum()):,} possible copies. Each pair: the generated "
                     "image, then its nearest real image in Inception pool3 space.</p>")
        parts.append(f'<p class="note">Realism score: Kynkäänniemi et al. 2019 (max over real images with '
                     f"radius ≤ median of radius / distance; below 1: outside every real neighbourhood). "
                     f"{_e(copy_rule(s.copy_threshold).capitalize())}; the median real-to-real distance "
                     f"is {_num(s.real_nn_median)}.</p>")
        parts.append(f"<h3>The {min(LEAST, len(table))} least realistic samples</h3>")
        parts.append(_grid(table, table.order("realism")[:LEAST], f"s{k}_least", images, read_gen, read_real, width))
        copies = np.flatnonzero(s.possible_copy)
        copies = copies[np.argsort(s.distance[copies], kind="stable")]
        if len(copies):
            more = f" (the {MAX_COPIES} closest of {len(copies):,})" if len(copies) > MAX_COPIES else ""
            parts.append(f"<h3>Possible copies{more}</h3>")
            parts.append(_grid(table, copies[:MAX_COPIES], f"s{k}_copy", images, read_gen, read_real, width))
        else:
            parts.append("<h3>Possible copies</h3><p>None under the rule above.</p>")
    return "".join(parts), images
