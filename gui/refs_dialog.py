""""Standard reference…": a searchable list of the catalogue's published statistics and the
user's own references — what each equals, its size, the metrics it supports (the others greyed,
with the reason) — and "Use", which downloads the file when needed (progress and Cancel; from
the mirror when one is set: FID_STUDIO_REFS_MIRROR or the field here, kept in the settings)
or takes it from a file ("Import file…"). ``chosen`` carries the engine.refs.resolve.Resolved:
the file to use and the preset / suite it is valid for."""
from __future__ import annotations

import html

from PySide6.QtCore import QThreadPool, Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QTableWidget, QTableWidgetItem, QVBoxLayout)

from .enable_dialog import EnableDialog, add_work_widgets
from .refs_worker import ObtainReferenceWorker
from .settings import as_str

MIRROR_KEY = "references/mirror"
COLUMNS = ("Name", "Tool", "Dataset", "Res.", "Split", "Equals", "Size", "Metrics")
OTHER_METRICS = ("fid", "sfid", "kid", "pr", "fd_dinov2", "clip_fid", "cmmd", "per-image scores")
NAME_ROLE = Qt.ItemDataRole.UserRole


def _why_not(item: dict, metric: str) -> str:
    reasons = item.get("not_usable") or item.get("not_supported") or {}
    if metric in reasons:
        return reasons[metric]
    if metric == "sfid":
        return "no spatial statistics (mu_s, sigma_s) in this file"
    return "needs the reference's images or per-image features; this file holds statistics only"


def metrics_html(item: dict) -> str:
    """The supported metrics, then the others greyed with the reason."""
    ok = list(item.get("supports") or [])
    lines = [f"<b>Supports:</b> {', '.join(ok) or 'nothing a compute run can use'}"]
    for m in OTHER_METRICS:
        if m not in ok:
            lines.append(f"<span style='color:#8a8a8a'>{m}: {html.escape(_why_not(item, m))}</span>")
    return "<br>".join(lines)


def size_text(item: dict) -> str:
    if item.get("size"):
        return f"{item['size'] / 1e6:.1f} MB"
    return "not downloaded" if item["origin"] == "catalogue" else "?"


class StandardReferenceDialog(QDialog):
    chosen = Signal(object)        # engine.refs.resolve.Resolved

    def __init__(self, settings=None, parent=None, *, pool: QThreadPool | None = None):
        super().__init__(parent)
        from engine.refs.resolve import listing
        self.settings = settings
        self.pool = pool or QThreadPool.globalInstance()
        self.worker = None
        self._ended: list = []
        self.outcome = ""              # "chosen" | "failed" | "cancelled"
        self.last_progress = (0, 0)
        self.notes: list = []
        self.items = listing(self.notes.append)
        self.setWindowTitle("Standard reference")
        self.resize(1100, 640)
        lay = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search: dataset, tool, split, resolution, preset… (e.g. cifar10 clean)")
        self.search.textChanged.connect(self.apply_filter)
        lay.addWidget(self.search)
        self.table = QTableWidget(len(self.items), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        for r, item in enumerate(self.items):
            self._fill_row(r, item)
        hdr = self.table.horizontalHeader()
        hdr.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hdr.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda _: self.use())
        lay.addWidget(self.table, 1)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.details)
        mirror_row = QHBoxLayout()
        mirror_row.addWidget(QLabel("Mirror:"))
        self.mirror = QLineEdit(as_str(settings.value(MIRROR_KEY)) if settings is not None else "")
        self.mirror.setPlaceholderText("none: https://HOST/PATH (else URL/HOST/PATH, as wget --mirror lays it out; "
                                       "FID_STUDIO_REFS_MIRROR when empty)")
        mirror_row.addWidget(self.mirror, 1)
        lay.addLayout(mirror_row)
        add_work_widgets(self, lay, "Use", "Import file…")
        self.use_button, self.import_button = self.download_button, self.file_button
        self.import_button.setToolTip("Offline: a file you already have for this catalogue entry "
                                      "(checked like a download)")
        self.use_button.clicked.connect(lambda: self.use())
        self.import_button.clicked.connect(self.choose_file)
        self.cancel_button.clicked.connect(self.cancel)
        if self.notes:
            self.stage.setText("\n".join(self.notes))
        self.table.selectRow(0)

    def _fill_row(self, r: int, item: dict) -> None:
        own = item["origin"] == "library"
        conv = f"suite {item['suite']}" if item.get("suite") else f"preset {item.get('preset')}"
        values = (item["name"], "own" if own else item["tool"], "" if own else item["dataset"],
                  "" if own else str(item["resolution"]), "" if own else item["split"],
                  f"{item.get('equals')} — {conv}" if not own else f"your reference — {conv}, {item.get('n')} images",
                  size_text(item), ", ".join(item.get("supports") or []) or "—")
        for c, v in enumerate(values):
            cell = QTableWidgetItem(v)
            cell.setData(NAME_ROLE, item["name"])
            if not item.get("supports"):
                cell.setForeground(Qt.GlobalColor.gray)
                cell.setToolTip("not usable as a compute reference: " + "; ".join(
                    (item.get("not_usable") or {}).values()))
            self.table.setItem(r, c, cell)

    # -- choosing ----------------------------------------------------------------------------
    def apply_filter(self, text: str) -> None:
        words = text.lower().split()
        for r, item in enumerate(self.items):
            hay = " ".join(str(v) for v in item.values() if isinstance(v, (str, int))).lower()
            self.table.setRowHidden(r, not all(w in hay for w in words))

    def visible_names(self) -> list:
        return [self.items[r]["name"] for r in range(len(self.items)) if not self.table.isRowHidden(r)]

    def select(self, name: str) -> None:
        for r, item in enumerate(self.items):
            if item["name"] == name:
                self.table.selectRow(r)
                return

    def current(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows else None

    def _selected(self) -> None:
        item = self.current()
        if item is None:
            return
        where = item.get("url") or item.get("file", "")
        n = f"{item['n_images']:,} images" if isinstance(item.get("n_images"), int) else "image count not published"
        self.details.setText(f"<b>{html.escape(item['name'])}</b> — {html.escape(str(item.get('equals')))}; "
                             f"{n}; {size_text(item)}<br>{html.escape(str(where))}"
                             + (f"<br>{html.escape(item['note'])}" if item.get("note") else "")
                             + "<br>" + metrics_html(item))
        can_use = bool(item.get("supports"))
        self.use_button.setEnabled(can_use and self.worker is None)
        self.use_button.setText(("Download and use" if item["origin"] == "catalogue" and not item.get("size")
                                 else "Use") if can_use else "Not usable in compute")
        self.import_button.setEnabled(item["origin"] == "catalogue" and self.worker is None)

    # -- work --------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Reference file", "", "Statistics (*.npz *.pkl);;All files (*)")
        if path:
            self.use(path)

    def use(self, file=None) -> None:
        item = self.current()
        if item is None or self.worker is not None:
            return
        if self.settings is not None:
            self.settings.setValue(MIRROR_KEY, self.mirror.text().strip())
        w = ObtainReferenceWorker(item["name"], file=file, mirror=self.mirror.text().strip() or None)
        self.launch(w, "Checking…" if file or item.get("size") or item["origin"] == "library" else "Downloading…")

    # the worker's progress and ending, shown as "Enable …" dialogs show them
    launch = EnableDialog.launch
    _progress = EnableDialog._progress
    _failed = EnableDialog._failed
    _cancelled = EnableDialog._cancelled
    cancel = EnableDialog.cancel

    def _idle(self) -> None:
        EnableDialog._idle(self)
        self._selected()

    def _finished(self, resolved) -> None:
        self._idle()
        self.outcome = "chosen"
        self.chosen.emit(resolved)
        self.accept()

    def reject(self) -> None:
        if self.worker is not None:   # Esc / close while working: cancel first
            self.worker.cancel()
            return
        super().reject()

    def closeEvent(self, event) -> None:
        if self.worker is not None:
            self.worker.cancel()
        super().closeEvent(event)
