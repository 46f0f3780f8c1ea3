"""The Samples list: a QAbstractListModel over one per-image table in a chosen order, and the
delegate that paints each item (the generated thumbnail beside its nearest real image, the
file name, realism and distance; the prompt and its CLIPScore when the run has them). Only painted
items ask for thumbnails, so a 50,000-image
source costs what is on screen.

New thumbnails are shown by repainting the view's viewport, not by ``dataChanged``: in icon
mode QListView answers a ``dataChanged`` range by asking the delegate for the size of every
row in it (20,000 Python calls per batch of thumbnails, measured as 100+ ms stalls)."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from .thumbnails import THUMB

ROW_ROLE = Qt.ItemDataRole.UserRole + 1        # the table row (int)
GEN_PIX_ROLE = Qt.ItemDataRole.UserRole + 2
REAL_PIX_ROLE = Qt.ItemDataRole.UserRole + 3
PAD = 6
TEXT_H = 46
ITEM = QSize(2 * THUMB + 3 * PAD, THUMB + TEXT_H + 2 * PAD)
SORTS = (("Least realistic first", "realism", False), ("Most realistic first", "realism", True),
         ("Lowest SSIM first", "ssim", False), ("Highest SSIM first", "ssim", True),
         ("Worst-matching prompt first (CLIPScore)", "clip_score", False),
         ("Best-matching prompt first (CLIPScore)", "clip_score", True))


def fmt(v, digits=3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"


def describe(table, i: int) -> list[str]:
    """The lines shown for row ``i`` (item tooltip and the large view)."""
    r = table.row(i)
    lines = [f"Generated: {r['file']}", f"Nearest real: {r['nearest_real']}",
             f"Realism score: {fmt(r['realism'])}  ·  "
             f"{'inside' if r['in_manifold'] else 'outside'} the real manifold (k={table.scores.k})",
             f"Distance to nearest real: {fmt(r['distance'], 4)}"
             f" (real-to-real median {fmt(table.scores.real_nn_median, 4)})"]
    if r["possible_copy"]:
        lines.append(f"POSSIBLE COPY: distance below {fmt(table.scores.copy_threshold, 4)}")
    if r["ssim"] is not None or r["psnr"] is not None:
        lines.append(f"SSIM {fmt(r['ssim'], 4)}  ·  PSNR {fmt(r['psnr'], 4)} dB")
    if r["prompt"] is not None:
        cut = " (prompt cut to CLIP's 77 tokens)" if r["prompt_truncated"] else ""
        lines += [f"Prompt: {r['prompt'] or '(empty)'}", f"CLIPScore: {fmt(r['clip_score'], 4)}{cut}"]
    return lines


class SamplesModel(QAbstractListModel):
    def __init__(self, thumbs, parent=None):
        super().__init__(parent)
        self.thumbs = thumbs
        self.table = None
        self.order = np.zeros(0, np.int64)
        self.gen_root = self.real_root = ""

    def set_table(self, table, by="realism", descending=False, copies_only=False) -> None:
        self.beginResetModel()
        self.table = table
        if table is None:
            self.order = np.zeros(0, np.int64)
        else:
            self.gen_root, self.real_root = str(table.source), str(table.reference)
            self.order = table.order(by, descending, copies_only)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.order)

    def row_of(self, index) -> int:
        return int(self.order[index.row()])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.table is None:
            return None
        i = int(self.order[index.row()])
        t = self.table
        if role == ROW_ROLE:
            return i
        if role == GEN_PIX_ROLE:
            return self.thumbs.request(self.gen_root, t.files[i])
        if role == REAL_PIX_ROLE:
            return self.thumbs.request(self.real_root, t.nearest_name(i))
        if role == Qt.ItemDataRole.DisplayRole:
            s = t.scores
            extra = f"  SSIM {fmt(t.ssim.get(t.files[i]), 3)}" if t.paired else ""
            clip = t.clip.get(t.files[i])
            if clip is not None:
                extra += f"  CLIP {fmt(clip[0], 3)}"
            return (t.files[i], f"realism {fmt(float(s.realism[i]))}  d {fmt(float(s.distance[i]), 3)}{extra}",
                    bool(s.possible_copy[i]), None if clip is None else clip[1])
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(describe(t, i))
        return None

class SampleDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:
        return ITEM

    def paint(self, painter, option, index) -> None:
        painter.save()
        r = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        name, line, copy, prompt = index.data(Qt.ItemDataRole.DisplayRole)
        painter.fillRect(r.adjusted(1, 1, -1, -1), QColor("#dbe8f5" if selected else "#fafafa"))
        painter.setPen(QPen(QColor("#d9822b") if copy else QColor("#cccccc"), 3 if copy else 1))
        painter.drawRect(r.adjusted(1, 1, -2, -2))
        for k, role in enumerate((GEN_PIX_ROLE, REAL_PIX_ROLE)):
            box = QRect(r.x() + PAD + k * (THUMB + PAD), r.y() + PAD, THUMB, THUMB)
            pm = index.data(role)
            if pm is None:
                painter.fillRect(box, QColor("#eeeeee"))
            else:
                x = box.x() + (THUMB - pm.width()) // 2
                y = box.y() + (THUMB - pm.height()) // 2
                painter.drawPixmap(x, y, pm)
        painter.setPen(QColor("#222222"))
        font = QFont(option.font)
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        painter.setFont(font)
        text = QRect(r.x() + PAD, r.y() + PAD + THUMB + 2, r.width() - 2 * PAD, TEXT_H - 2)
        fm = painter.fontMetrics()
        head = ("COPY? " if copy else "") + name
        painter.drawText(text, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         fm.elidedText(head, Qt.TextElideMode.ElideMiddle, text.width()) + "\n"
                         + fm.elidedText(line, Qt.TextElideMode.ElideRight, text.width()) + "\n"
                         + fm.elidedText("generated | nearest real" if prompt is None else f"“{prompt}”",
                                         Qt.TextElideMode.ElideRight, text.width()))
        painter.restore()
