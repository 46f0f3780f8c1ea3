"""Sample strip: a few thumbnails of the reference and of each generated source, side by
side, so the user sees what was scored. When names pair, the same names are shown in each
row. Thumbnails are made in a background Task (decoding a large image can take a while)."""
from __future__ import annotations

import posixpath

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QWidget

from reports.result_format import short_name

PER_SOURCE = 6
THUMB = 88
MAX_ROWS = 12


def _spread(names: list, k: int) -> list:
    if len(names) <= k:
        return list(names)
    step = len(names) / k
    return [names[int(i * step)] for i in range(k)]


def load_samples(reference: str, generated: list, k: int = PER_SOURCE, size: int = THUMB) -> list:
    """[(row label, path, [(file name, HxWx3 uint8 thumbnail) | (file name, None, problem)])]."""
    from engine.inputs.decode import reader_for
    from engine.inputs.sources import open_source
    rows = []
    ref = open_source(reference)
    ref_names = _spread(ref.files, k) if ref.kind != "stats" else []
    if ref.kind == "array" and ref.array.compressed:
        ref_names = ref.files[:k]
    ref_stems = [posixpath.splitext(n)[0] for n in ref_names]
    for label, path in [("Reference", reference)] + [(short_name(g), g) for g in generated[:MAX_ROWS - 1]]:
        src = ref if path == reference else open_source(path)
        if src.kind == "stats":
            rows.append((label, path, []))
            continue
        names = ref_names
        if src.kind == "array" and src.array.compressed:
            names = src.files[:k]   # a compressed array reads forward only: take the first ones
        elif src is not ref:
            by_stem = {posixpath.splitext(n)[0]: n for n in src.files}
            paired = [by_stem.get(s) for s in ref_stems]
            names = paired if paired and all(paired) else _spread(src.files, k)
        read = reader_for(src, previews=True)
        thumbs = []
        for name in names:
            d = read(name)
            if d.array is None:
                thumbs.append((name, None, d.problem))
                continue
            im = Image.fromarray(d.array)
            im.thumbnail((size, size), Image.Resampling.BILINEAR)
            thumbs.append((name, np.ascontiguousarray(np.asarray(im)), None))
        rows.append((label, path, thumbs))
    return rows


def to_pixmap(arr: np.ndarray) -> QPixmap:
    h, w, _ = arr.shape
    img = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(img.copy())     # copy: the QImage must not outlive the array


class SampleStrip(QScrollArea):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self._inner = QWidget()
        self._grid = QGridLayout(self._inner)
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(4)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setWidget(self._inner)
        self.setMinimumHeight(THUMB + 24)
        self.rows = []
        self.show_rows([])

    def show_message(self, text: str) -> None:
        self._clear()
        note = QLabel(text)
        note.setObjectName("hint")
        self._grid.addWidget(note, 0, 0)

    def _clear(self) -> None:
        while self._grid.count():
            w = self._grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()

    def show_rows(self, rows: list) -> None:
        self.rows = rows
        self._clear()
        if not rows:
            self.show_message("Thumbnails of the scored images appear here after a run.")
            return
        for r, (label, path, thumbs) in enumerate(rows):
            name = QLabel(label)
            name.setToolTip(path)
            name.setFixedWidth(120)
            name.setWordWrap(True)
            self._grid.addWidget(name, r, 0)
            if not thumbs:
                self._grid.addWidget(QLabel("statistics file — no images"), r, 1, 1, PER_SOURCE)
            for c, (file, arr, problem) in enumerate(thumbs):
                cell = QLabel()
                cell.setFixedSize(THUMB + 4, THUMB + 4)
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setStyleSheet("border: 1px solid #ccc; background: #fafafa;")
                if arr is not None:
                    cell.setPixmap(to_pixmap(arr))
                    cell.setToolTip(file)
                else:
                    cell.setText("✕")
                    cell.setToolTip(f"{file}: {problem}")
                self._grid.addWidget(cell, r, c + 1)
