"""The Samples tab: per generated source, every image beside its nearest real image, sorted
by realism (or SSIM for paired runs), with a possible-copies filter; click for the pair in
large with names, scores and "Open folder".

Per-image tables come from the run itself (``--per-image`` / Options.per_image) or are
computed here, in a background Task, from the features the run left in the feature cache —
for fresh runs and for runs opened from the History alike. When the cache entry is gone the
view says so and offers to recompute the features.
"""
from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QHBoxLayout, QLabel, QListView,
                               QPushButton, QStackedWidget, QVBoxLayout, QWidget)

from engine.errors import Cancelled, CancelToken, FeaturesGone
from engine.per_image.scores import copy_rule
from reports.result_format import short_name

from .samples_model import ITEM, SORTS, SampleDelegate, SamplesModel, describe
from .thumbnails import ThumbnailCache, make_thumbnails
from .workers import start_task

LARGE = 384
REALISM_NOTE = ("Realism score (Kynkäänniemi et al. 2019): the largest ratio of a real image's "
                "3-NN radius to its distance from this sample, over the real images with radius ≤ the median; "
                "above 1 means inside a real neighbourhood.")


def _load(result, index, cache_root, cancel):
    """('ok', table) or ('gone', message): a missing cache entry is an answer, not an error."""
    from engine.per_image.from_cache import load_table
    try:
        return "ok", load_table(result, index, cache_root, cancel)
    except FeaturesGone as exc:
        return "gone", str(exc)
    except Cancelled:
        return "cancelled", ""


def _recompute(result, index, cache_root, model_path, cancel):
    from engine.per_image.from_cache import recompute
    try:
        return "ok", recompute(result, index, cache_root, model_path, cancel)
    except Cancelled:
        return "cancelled", ""


def open_folder(path: str) -> bool:
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(folder))


class SampleDetail(QDialog):
    """One generated image and its nearest real image in large, with names and scores."""

    def __init__(self, pool, tasks, table, row: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Sample — {table.files[row]}")
        self.table, self.row = table, row
        lay = QVBoxLayout(self)
        pics = QHBoxLayout()
        self.images = []
        self.paths = [os.path.join(str(table.source), table.files[row]),
                      os.path.join(str(table.reference), table.nearest_name(row))]
        for title, path in zip(("Generated", "Nearest real image"), self.paths):
            col = QVBoxLayout()
            label = QLabel("Loading…")
            label.setFixedSize(LARGE, LARGE)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet("border: 1px solid #ccc; background: #fafafa;")
            self.images.append(label)
            col.addWidget(QLabel(f"<b>{title}</b>"))
            col.addWidget(label)
            name = QLabel(path)
            name.setWordWrap(True)
            name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            col.addWidget(name)
            button = QPushButton("Open folder")
            button.clicked.connect(lambda _=False, p=path: open_folder(p))
            col.addWidget(button)
            pics.addLayout(col)
        lay.addLayout(pics)
        self.text = QLabel("<br>".join(describe(table, row)))
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.text)
        items = [(str(table.source), table.files[row]), (str(table.reference), table.nearest_name(row))]
        start_task(pool, tasks, make_thumbnails, items, LARGE, on_done=self._shown,
                   on_failed=lambda m: [i.setText(m) for i in self.images])

    def _shown(self, results) -> None:
        from .sample_strip import to_pixmap
        for label, (_, arr, problem) in zip(self.images, results):
            if arr is None:
                label.setText(f"cannot decode: {problem}")
            else:   # small images are shown enlarged (smoothly) to the full box
                label.setPixmap(to_pixmap(arr).scaled(LARGE, LARGE, Qt.AspectRatioMode.KeepAspectRatio,
                                                      Qt.TransformationMode.SmoothTransformation))


class SamplesView(QWidget):
    table_ready = Signal(int)          # generated source index whose table is shown
    message_shown = Signal(str)

    def __init__(self, pool, cache_root=None, model_path=None, parent=None):
        super().__init__(parent)
        self.pool, self.cache_root, self.model_path = pool, cache_root, model_path
        self._tasks: set = set()
        self.cancel = CancelToken()
        self.result = None
        self.loading: set = set()
        self.detail = None
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Generated source:"))
        self.source = QComboBox()
        self.source.setMinimumWidth(240)
        self.source.currentIndexChanged.connect(self._source_changed)
        top.addWidget(self.source, 1)
        top.addWidget(QLabel("Sort:"))
        self.sort = QComboBox()
        for title, _, _ in SORTS:
            self.sort.addItem(title)
        self.sort.currentIndexChanged.connect(self._refill)
        top.addWidget(self.sort)
        self.copies = QCheckBox("Possible copies only")
        self.copies.toggled.connect(self._refill)
        top.addWidget(self.copies)
        self.count = QLabel()
        top.addWidget(self.count)
        lay.addLayout(top)
        self.rule = QLabel(REALISM_NOTE + " " + copy_rule().capitalize() + ".")
        self.rule.setObjectName("hint")
        self.rule.setWordWrap(True)
        lay.addWidget(self.rule)
        self.stack = QStackedWidget()
        note_page = QWidget()
        nl = QVBoxLayout(note_page)
        self.note = QLabel("Per-image scores appear here after a run.")
        self.note.setWordWrap(True)
        self.recompute_button = QPushButton("Recompute the features")
        self.recompute_button.clicked.connect(self.recompute)
        self.recompute_button.hide()
        nl.addWidget(self.note)
        nl.addWidget(self.recompute_button, 0, Qt.AlignmentFlag.AlignLeft)
        nl.addStretch(1)
        self.thumbs = ThumbnailCache(parent=self)
        self.model = SamplesModel(self.thumbs, self)
        self.list = QListView()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setUniformItemSizes(True)
        self.list.setGridSize(ITEM + QSize(4, 4))
        self.list.setSpacing(0)
        self.list.setWordWrap(False)
        self.list.setItemDelegate(SampleDelegate(self.list))
        self.list.setModel(self.model)
        self.thumbs.ready.connect(self.list.viewport().update)    # see gui.samples_model
        self.list.verticalScrollBar().valueChanged.connect(self.thumbs.hold)
        self.list.clicked.connect(self.open_detail)
        self.list.activated.connect(self.open_detail)
        self.stack.addWidget(note_page)
        self.stack.addWidget(self.list)
        lay.addWidget(self.stack, 1)

    # -- which run and source ------------------------------------------------------------
    def set_result(self, result) -> None:
        """Show ``result``'s sources (tables are made when the tab is looked at)."""
        self.result = result
        self.loading.clear()
        self.source.blockSignals(True)
        self.source.clear()
        for r in result.results:
            self.source.addItem(short_name(r.path), r.path)
        self.source.blockSignals(False)
        self.model.set_table(None)
        self._say("Open this tab to compute the per-image scores of the chosen source.")
        if self.isVisible():
            self.activate()

    def activate(self) -> None:
        """The tab became visible: show (or compute) the current source's table."""
        if self.result is not None and self.source.count():
            self._source_changed(self.source.currentIndex())

    def current_table(self):
        i = self.source.currentIndex()
        if self.result is None or i < 0:
            return None
        return self.result.results[i].per_image

    def _source_changed(self, i: int) -> None:
        if self.result is None or i < 0:
            return
        res = self.result.results[i]
        if res.per_image is not None:
            self._show_table(i)
            return
        if i in self.loading:
            return
        self.loading.add(i)
        self._say(f"Computing per-image scores for {short_name(res.path)} from the cached features…")
        start_task(self.pool, self._tasks, _load, self.result, i, self.cache_root, self.cancel,
                   on_done=lambda out, i=i, r=self.result: self._loaded(r, i, out),
                   on_failed=lambda m, i=i: self._load_failed(i, m))

    def recompute(self) -> None:
        i = self.source.currentIndex()
        if self.result is None or i < 0 or i in self.loading:
            return
        self.loading.add(i)
        self.recompute_button.hide()
        self._say(f"Recomputing the features of the reference and {short_name(self.result.results[i].path)}…")
        start_task(self.pool, self._tasks, _recompute, self.result, i, self.cache_root, self.model_path,
                   self.cancel, on_done=lambda out, i=i, r=self.result: self._loaded(r, i, out),
                   on_failed=lambda m, i=i: self._load_failed(i, m))

    def _loaded(self, result, i: int, out) -> None:
        self.loading.discard(i)
        if result is not self.result:
            return
        status, payload = out
        if status == "ok":
            result.results[i].per_image = payload   # kept for the PDF export
            if self.source.currentIndex() == i:
                self._show_table(i)
        elif status == "gone" and self.source.currentIndex() == i:
            self._say(f"No per-image scores: {payload}. Recompute them from the images?", offer_recompute=True)

    def _load_failed(self, i: int, message: str) -> None:
        self.loading.discard(i)
        if self.source.currentIndex() == i:
            self._say(f"Per-image scores could not be computed: {message}", offer_recompute=True)

    # -- showing -------------------------------------------------------------------------
    def _say(self, text: str, offer_recompute: bool = False) -> None:
        self.note.setText(text)
        self.recompute_button.setVisible(offer_recompute)
        self.stack.setCurrentIndex(0)
        self.message_shown.emit(text)

    def _show_table(self, i: int) -> None:
        table = self.result.results[i].per_image
        for k, (_, by, _) in enumerate(SORTS):     # SSIM with pairs, CLIPScore with prompts
            self.sort.model().item(k).setEnabled(by == "realism" or (table.paired if by == "ssim" else bool(table.clip)))
        if not self.sort.model().item(self.sort.currentIndex()).isEnabled():
            self.sort.setCurrentIndex(0)
        self.rule.setText(REALISM_NOTE + " " + copy_rule(table.scores.copy_threshold).capitalize() + ".")
        self._refill()
        self.stack.setCurrentIndex(1)
        self.table_ready.emit(i)

    def _refill(self) -> None:
        table = self.current_table()
        if table is None:
            return
        _, by, descending = SORTS[self.sort.currentIndex()]
        self.thumbs.clear_queue()
        self.model.set_table(table, by, descending, self.copies.isChecked())
        n_copies = int(table.scores.possible_copy.sum())
        self.count.setText(f"{self.model.rowCount():,} of {len(table):,} shown · {n_copies:,} possible "
                           f"cop{'y' if n_copies == 1 else 'ies'}")
        self.list.scrollToTop()

    def open_detail(self, index) -> None:
        table = self.model.table
        if table is None or not index.isValid():
            return
        if self.detail is not None:
            self.detail.close()
        self.detail = SampleDetail(self.pool, self._tasks, table, self.model.row_of(index), self)
        self.detail.show()

    def shutdown(self) -> None:
        self.cancel.cancel()
        self.thumbs.wait()
