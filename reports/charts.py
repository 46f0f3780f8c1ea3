"""Charts for the PDF report, drawn with QPainter into QImages.

Only a QGuiApplication is needed (no widgets), so the CLI's ``--pdf`` can draw them
offscreen. They show the same data as the window's plots: the checkpoint sweep with the
best point, the running FID curves, the per-image SSIM histogram and the GAN-train
diversity sweep (log-scaled x).
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPen, QPolygonF

from .plot_colors import BEST_COLOR, COLORS
from .plot_data import ssim_bins, sweep_points
from .result_format import best_index, short_name

W, H = 1600, 720                      # pixels; placed at page width in the PDF
MARGIN = dict(left=150, right=40, top=80, bottom=120)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not math.isfinite(lo) or not math.isfinite(hi):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v: float) -> str:
    return f"{v:.6g}" if abs(v) < 1e5 else f"{v:.3g}"


class _Canvas:
    def __init__(self, title, x_label, y_label, xs, ys):
        self.img = QImage(W, H, QImage.Format.Format_RGB32)
        self.img.fill(QColor("white"))
        self.p = QPainter(self.img)
        self.p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.font = QFont()
        self.font.setPixelSize(24)
        self.p.setFont(self.font)
        self.plot = QRectF(MARGIN["left"], MARGIN["top"], W - MARGIN["left"] - MARGIN["right"],
                           H - MARGIN["top"] - MARGIN["bottom"])
        x_lo, x_hi = (min(xs), max(xs)) if len(xs) else (0.0, 1.0)
        y_lo, y_hi = (min(ys), max(ys)) if len(ys) else (0.0, 1.0)
        xp = (x_hi - x_lo) * 0.05 or 0.5
        yp = (y_hi - y_lo) * 0.12 or (abs(y_hi) * 0.1 or 1.0)
        self.x0, self.x1, self.y0, self.y1 = x_lo - xp, x_hi + xp, y_lo - 2.5 * yp, y_hi + yp
        bold = QFont(self.font)
        bold.setPixelSize(30)
        bold.setBold(True)
        self.p.setFont(bold)
        self.p.drawText(QRectF(0, 10, W, 50), Qt.AlignmentFlag.AlignCenter, title)
        self.p.setFont(self.font)
        self.p.drawText(QRectF(self.plot.left(), H - 50, self.plot.width(), 40),
                        Qt.AlignmentFlag.AlignCenter, x_label)
        self.p.save()
        self.p.translate(30, self.plot.center().y())
        self.p.rotate(-90)
        self.p.drawText(QRectF(-self.plot.height() / 2, -20, self.plot.height(), 40),
                        Qt.AlignmentFlag.AlignCenter, y_label)
        self.p.restore()

    def map(self, x, y) -> QPointF:
        fx = (x - self.x0) / (self.x1 - self.x0)
        fy = (y - self.y0) / (self.y1 - self.y0)
        return QPointF(self.plot.left() + fx * self.plot.width(), self.plot.bottom() - fy * self.plot.height())

    def axes(self, x_ticks=None) -> None:
        grid = QPen(QColor("#dddddd"), 1)
        text = QPen(QColor("#333333"))
        for y in nice_ticks(self.y0, self.y1):
            pt = self.map(self.x0, y)
            self.p.setPen(grid)
            self.p.drawLine(QPointF(self.plot.left(), pt.y()), QPointF(self.plot.right(), pt.y()))
            self.p.setPen(text)
            self.p.drawText(QRectF(0, pt.y() - 15, self.plot.left() - 12, 30),
                            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _fmt(y))
        ticks = x_ticks if x_ticks is not None else [(x, _fmt(x)) for x in nice_ticks(self.x0, self.x1)]
        for x, label in ticks:
            pt = self.map(x, self.y0)
            self.p.setPen(grid)
            self.p.drawLine(QPointF(pt.x(), self.plot.top()), QPointF(pt.x(), self.plot.bottom()))
            self.p.setPen(text)
            self.p.drawText(QRectF(pt.x() - 120, self.plot.bottom() + 8, 240, 30),
                            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, label)
        self.p.setPen(QPen(QColor("#333333"), 2))
        self.p.drawRect(self.plot)

    def fitting_ticks(self, ticks, gap=16) -> list:
        """The (x, label) ticks that fit side by side: one that would overlap the previous
        label is left out (its point is still drawn)."""
        fm = QFontMetrics(self.font)
        shown, right = [], None
        for x, label in ticks:
            px, half = self.map(x, self.y0).x(), min(fm.horizontalAdvance(label), 240) / 2
            if right is None or px - half >= right + gap:
                shown.append((x, label))
                right = px + half
        return shown

    def line(self, xs, ys, color, markers=True, dashed=False) -> None:
        pen = QPen(QColor(color), 4)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.p.setPen(pen)
        pts = [self.map(x, y) for x, y in zip(xs, ys)]
        if len(pts) > 1:
            path = QPainterPath(pts[0])
            for pt in pts[1:]:
                path.lineTo(pt)
            self.p.drawPath(path)
        if markers:
            self.p.setPen(QPen(QColor(color), 3))
            self.p.setBrush(QColor("white") if dashed else QColor(color))   # hollow for dashed
            for pt in pts:
                self.p.drawEllipse(pt, 7, 7)
            self.p.setBrush(Qt.BrushStyle.NoBrush)

    def star(self, x, y, label) -> None:
        c = self.map(x, y)
        poly = QPolygonF([c + QPointF((18 if i % 2 == 0 else 8) * math.sin(i * math.pi / 5),
                                      -(18 if i % 2 == 0 else 8) * math.cos(i * math.pi / 5))
                          for i in range(10)])
        self.p.setPen(QPen(QColor("white"), 2))
        self.p.setBrush(QColor(BEST_COLOR))
        self.p.drawPolygon(poly)
        self.p.setPen(QColor(BEST_COLOR))
        # below the star (the best is the lowest point); kept inside the plot horizontally
        align = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        left = min(max(c.x() - 300, self.plot.left()), self.plot.right() - 600)
        self.p.drawText(QRectF(left, c.y() + 24, 600, 36), align, label)

    def legend_box(self, names, corner: str) -> QRectF:
        """Where legend() puts its box: corner is "top" | "middle" | "bottom" + "-left" | "-right"."""
        text_w = min(max([QFontMetrics(self.font).horizontalAdvance(n) for n in names] + [270]),
                     int(self.plot.width() * 0.6))
        w, h = text_w + 70, 32 * len(names) + 12
        x = self.plot.right() - w - 4 if corner.endswith("right") else self.plot.left() + 8
        v = corner.split("-")[0]
        y = (self.plot.top() + 8 if v == "top" else self.plot.center().y() - h / 2 if v == "middle"
             else self.plot.bottom() - 8 - h)
        return QRectF(x, y, w, h)

    def legend(self, names, corner: str = "bottom-left", styles=None) -> None:
        """On a white box, bottom-left by default (running FID falls from top-left to
        bottom-right); top-right for the SSIM histogram, whose bars sit left.
        ``styles``: [(colour, dashed)] per name (default: the colour cycle, solid)."""
        styles = styles or [(COLORS[i % len(COLORS)], False) for i in range(len(names))]
        box = self.legend_box(names, corner)
        self.p.setPen(QPen(QColor("#cccccc"), 1))
        self.p.setBrush(QColor(255, 255, 255, 230))
        self.p.drawRect(box)
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        x, y, text_w = box.left() + 6, box.top() + 6, box.width() - 60
        for name, (col, dashed) in zip(names, styles):
            pen = QPen(QColor(col), 6)
            if dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            self.p.setPen(pen)
            self.p.drawLine(QPointF(x, y + 15), QPointF(x + 40, y + 15))
            self.p.setPen(QColor("#333333"))
            self.p.drawText(QRectF(x + 50, y, text_w, 30), Qt.AlignmentFlag.AlignVCenter, name)
            y += 32

    def done(self) -> QImage:
        self.p.end()
        return self.img


def sweep_chart(result, key="fid", title="FID over checkpoints", y_label="FID (lower is better)"):
    xs, ys, names, idx, x_title = sweep_points(result, key)
    if len(xs) < 2:
        return None
    bars = _fid_intervals(result, xs, idx) if key == "fid" else []
    c = _Canvas(title, x_title, y_label, xs, ys + [v for _, lo, hi in bars for v in (lo, hi)])
    c.axes(c.fitting_ticks(list(zip(xs, names))))
    c.p.setPen(QPen(QColor(COLORS[0]), 3))
    for x, lo, hi in bars:           # the bootstrap interval of each FID (--metrics fid_ci)
        top, bottom = c.map(x, hi), c.map(x, lo)
        c.p.drawLine(top, bottom)
        for end in (top, bottom):
            c.p.drawLine(QPointF(end.x() - 10, end.y()), QPointF(end.x() + 10, end.y()))
    c.line(xs, ys, COLORS[0])
    b = best_index(result, key)
    if b is not None and b in idx:
        x, y = xs[idx.index(b)], ys[idx.index(b)]
        c.star(x, y, f"best: {names[idx.index(b)]} ({value_text(key, y)})")
    return c.done()


def value_text(key: str, v: float) -> str:
    """A best-point value as the results table prints it: KID's 0.0012 is not '0.00'."""
    if key.startswith("kid"):
        return f"{v:.5f}"
    return f"{v:.4f}" if key in ("cmmd", "clip_score") else f"{v:.2f}"


def _fid_intervals(result, xs, idx) -> list:
    out = []
    for x, i in zip(xs, idx):
        m = result.results[i].metrics
        lo, hi = m.get("fid_ci_low"), m.get("fid_ci_high")
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            out.append((x, lo, hi))
    return out


def running_fid_chart(result):
    curves = [(short_name(r.path), r.fid_curve) for r in result.results if len(r.fid_curve) >= 2]
    if not curves:
        return None
    xs = [x for _, cv in curves for x, _ in cv]
    ys = [y for _, cv in curves for _, y in cv]
    c = _Canvas("Running FID while scoring", "generated images processed", "FID", xs, ys)
    c.axes()
    for i, (_, cv) in enumerate(curves):
        c.line([x for x, _ in cv], [y for _, y in cv], COLORS[i % len(COLORS)], markers=len(cv) < 40)
    c.legend([n for n, _ in curves][:8])
    return c.done()


def ssim_histogram_chart(result):
    sources = [(short_name(r.path), r.ssim_values) for r in result.results if r.ssim_values]
    if not sources:
        return None
    bins = ssim_bins([v for _, vals in sources for v in vals])
    hists = [np.histogram(np.clip(vals, bins[0], 1.0), bins=bins)[0] for _, vals in sources]
    top = max(int(h.max()) for h in hists)
    c = _Canvas("Per-image SSIM", "SSIM", "pairs", [bins[0], bins[-1]], [0, max(top, 1)])
    c.y0 = 0.0
    c.axes()
    for i, counts in enumerate(hists):       # one outline per source, as in the window
        pts = [c.map(bins[0], 0)]
        for lo, hi, n in zip(bins[:-1], bins[1:], counts):
            pts += [c.map(lo, n), c.map(hi, n)]
        pts.append(c.map(bins[-1], 0))
        c.p.setPen(QPen(QColor(COLORS[i % len(COLORS)]), 4))
        c.p.drawPolyline(QPolygonF(pts))
    if len(sources) > 1:
        c.legend([n for n, _ in sources][:8], corner="top-right")
    return c.done()


def gan_sweep_chart(result):
    """GAN-train accuracy vs generated images per class (log x), next to the curve for real
    training images: one pair per source, same colour, the real one dashed."""
    from .class_format import curve_label, has_class_results, sweep_curves
    curves = sweep_curves(result) if has_class_results(result) else []
    if not curves:
        return None
    sizes = sorted({x for cv in curves for x in cv.xs})
    c = _Canvas("Diversity: GAN-train accuracy vs images per class", "images per class (log scale)",
                "accuracy on real validation (%)", [math.log10(s) for s in sizes], [0, 100])
    c.y0, c.y1 = -4.0, 105.0          # 0% points stay clear of the axis
    ticks, last = [], None
    for s in sizes:                      # at least 70 px apart: close sizes share a label
        px = c.map(math.log10(s), 0).x()
        if last is None or px - last >= 70:
            ticks.append((math.log10(s), f"{s:,}"))
            last = px
    c.axes(ticks)
    chance = next((r.extras.get("gan_chance") for r in result.results if r.extras.get("gan_chance")), None)
    if chance:
        y = c.map(c.x0, 100 * chance).y()
        c.p.setPen(QPen(QColor("#999999"), 2, Qt.PenStyle.DotLine))
        c.p.drawLine(QPointF(c.plot.left(), y), QPointF(c.plot.right(), y))
        c.p.drawText(QRectF(c.plot.left() + 10, y - 34, 300, 30), Qt.AlignmentFlag.AlignVCenter,
                     f"chance ({100 * chance:.1f}%)")
    styles, points = [], []
    for cv in curves:
        col, dashed = COLORS[cv.source % len(COLORS)], cv.kind == "real"
        c.line([math.log10(x) for x in cv.xs], [100 * y for y in cv.ys], col, dashed=dashed)
        styles.append((col, dashed))
        points += [c.map(math.log10(x), 100 * y) for x, y in zip(cv.xs, cv.ys)]
    names = [curve_label(cv) for cv in curves][:8]
    c.legend(names, corner=_emptiest_corner(c, names, points), styles=styles[:8])
    return c.done()


def _emptiest_corner(c: _Canvas, names, points) -> str:
    """Where the legend box covers the fewest points (ties: bottom-right, where rising
    accuracy curves usually leave room)."""
    def covered(corner):
        box = c.legend_box(names, corner).adjusted(-12, -12, 12, 12)
        return sum(1 for p in points if box.contains(p))
    return min((f"{v}-{h}" for h in ("right", "left") for v in ("bottom", "middle", "top")), key=covered)


def charts_for(result) -> list[tuple[str, QImage]]:
    """The report's charts for this run: those that have data."""
    out = []
    chosen = result.options.get("metrics", [])
    if "fid" in chosen or "fid_ci" in chosen:
        out.append(("FID over checkpoints", sweep_chart(result)))
    for key, label in (("fd_dinov2", "FD_DINOv2"), ("clip_fid", "CLIP-FID"), ("cmmd", "CMMD")):
        if key in chosen:
            out.append((f"{label} over checkpoints", sweep_chart(result, key, f"{label} over checkpoints",
                                                                f"{label} (lower is better)")))
    if "clip_score" in chosen:     # higher is better: the star marks the highest
        out.append(("CLIPScore over checkpoints", sweep_chart(result, "clip_score", "CLIPScore over checkpoints",
                                                             "CLIPScore (higher is better)")))
    if "kid" in chosen:
        out.append(("KID over checkpoints", sweep_chart(result, "kid_mean", "KID over checkpoints",
                                                       "KID (lower is better)")))
    out.append(("Running FID", running_fid_chart(result)))
    out.append(("Per-image SSIM", ssim_histogram_chart(result)))
    if "gan-train" in chosen:
        out.append(("GAN-train diversity sweep", gan_sweep_chart(result)))
    return [(t, img) for t, img in out if img is not None]
