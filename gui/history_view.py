"""History: stored runs (engine.outputs.history), filtered by reference, and chosen runs side by side.

Open shows a stored run in the Results tab; Export writes it like a fresh run; Compare puts
the selected runs' sources next to each other, one column per (run, source)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from reports.result_format import COLUMNS, DASH, cell, short_name

ID_ROLE = Qt.ItemDataRole.UserRole
ALL = "All references"
# the best value of each metric per run (lowest distance; highest CLIPScore): (heading, RunSummary
# attribute, format)
BEST_COLUMNS = (("Best FID", "best_fid", ".3f"), ("Best sFID", "best_sfid", ".3f"),
                ("Best FD_DINOv2", "best_fd_dinov2", ".3f"), ("Best CLIP-FID", "best_clip_fid", ".3f"),
                ("Best CMMD", "best_cmmd", ".4f"))
BEST_COLUMNS += (("Best CLIPScore", "best_clip_score", ".4f"),)
RUN_HEADERS = ("Date", "Reference", "Generated sources", *(h for h, _, _ in BEST_COLUMNS),
               "Preset", "Device", "Seed", "Skipped")


def _item(text, tip=None, align_right=False) -> QTableWidgetItem:
    it = QTableWidgetItem(text)
    if tip:
        it.setToolTip(tip)
    if align_right:
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return it


TRAINING_HEADERS = ("Training run", "Reference", "Points", "Last step", "Best FID", "Preset", "Updated")


class HistoryView(QWidget):
    open_requested = Signal(object)      # RunResult
    export_requested = Signal(object)    # RunResult
    training_open_requested = Signal(str)   # name of a training run logged from Python

    def __init__(self, history, parent=None, training=None):
        super().__init__(parent)
        self.history = history
        self.training = training         # engine.outputs.training_log.TrainingLog, or None
        lay = QVBoxLayout(self)
        self.training_box = self._build_training()
        lay.addWidget(self.training_box)
        top = QHBoxLayout()
        top.addWidget(QLabel("Reference:"))
        self.filter = QComboBox()
        self.filter.setMinimumWidth(320)
        self.filter.currentIndexChanged.connect(self._fill_runs)
        top.addWidget(self.filter, 1)
        self.b_open = QPushButton("Open in Results")
        self.b_compare = QPushButton("Compare selected")
        self.b_export = QPushButton("Export…")
        self.b_delete = QPushButton("Delete")
        self.b_open.clicked.connect(self._open)
        self.b_compare.clicked.connect(self.compare_selected)
        self.b_export.clicked.connect(self._export)
        self.b_delete.clicked.connect(self._delete)
        for b in (self.b_open, self.b_compare, self.b_export, self.b_delete):
            top.addWidget(b)
        lay.addLayout(top)
        split = QSplitter(Qt.Orientation.Vertical)
        self.runs = QTableWidget(0, len(RUN_HEADERS))
        self.runs.setHorizontalHeaderLabels(RUN_HEADERS)
        self.runs.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.runs.verticalHeader().setVisible(False)
        self.runs.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.runs.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.runs.itemSelectionChanged.connect(self._selection_changed)
        self.runs.doubleClicked.connect(self._open)
        split.addWidget(self.runs)
        cmp_box = QWidget()
        cl = QVBoxLayout(cmp_box)
        cl.setContentsMargins(0, 0, 0, 0)
        self.compare_note = QLabel("Select two or more runs and press “Compare selected” to see them "
                                   "side by side.")
        self.compare_note.setObjectName("hint")
        cl.addWidget(self.compare_note)
        self.compare = QTableWidget(0, 0)
        self.compare.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        cl.addWidget(self.compare)
        split.addWidget(cmp_box)
        split.setSizes([200, 440])
        lay.addWidget(split)
        self.refresh()

    def _build_training(self) -> QWidget:
        """Experiments logged with ``Evaluator.log``; hidden until there is one."""
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        note = QLabel("Training runs logged from Python (fid_studio.Evaluator.log); open one to "
                      "watch its curve grow.")
        note.setObjectName("hint")
        row.addWidget(note, 1)
        self.b_open_training = QPushButton("Open training run")
        self.b_open_training.clicked.connect(self._open_training)
        row.addWidget(self.b_open_training)
        bl.addLayout(row)
        t = self.training_table = QTableWidget(0, len(TRAINING_HEADERS))
        t.setHorizontalHeaderLabels(TRAINING_HEADERS)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.verticalHeader().setVisible(False)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        t.setMaximumHeight(150)
        t.doubleClicked.connect(self._open_training)
        bl.addWidget(t)
        box.setVisible(False)
        return box

    def refresh_training(self) -> None:
        """Re-read the training list, keeping the selected row."""
        if self.training is None:
            return
        t = self.training_table
        chosen = self.selected_training()
        runs = self.training.runs()
        t.setRowCount(len(runs))
        for r, run in enumerate(runs):
            cells = [_item(run.name), _item(short_name(run.reference), run.reference),
                     _item(f"{run.n_points:,}", align_right=True),
                     _item(str(run.last_step) if run.last_step is not None else DASH, align_right=True),
                     _item(f"{run.best_fid:.3f}" if run.best_fid is not None else DASH, align_right=True),
                     _item(run.preset), _item(run.updated.replace("T", " ")[:19])]
            cells[0].setData(ID_ROLE, run.name)
            for c, it in enumerate(cells):
                t.setItem(r, c, it)
            if run.name == chosen:
                t.selectRow(r)
        self.training_box.setVisible(bool(runs))
        self.b_open_training.setEnabled(bool(runs))

    def training_names(self) -> list[str]:
        t = self.training_table
        return [t.item(r, 0).data(ID_ROLE) for r in range(t.rowCount())]

    def selected_training(self) -> str | None:
        rows = sorted({i.row() for i in self.training_table.selectedIndexes()})
        return self.training_table.item(rows[0], 0).data(ID_ROLE) if rows else None

    def _open_training(self, *_):
        name = self.selected_training()
        if name is None and self.training_table.rowCount() == 1:
            name = self.training_table.item(0, 0).data(ID_ROLE)
        if name is not None:
            self.training_open_requested.emit(name)

    # -- listing ---------------------------------------------------------------------------
    def refresh(self) -> None:
        self.refresh_training()
        current = self.filter.currentData()
        self.filter.blockSignals(True)
        self.filter.clear()
        self.filter.addItem(ALL, None)
        for ref in self.history.references():
            self.filter.addItem(ref, ref)
        i = self.filter.findData(current) if current else 0
        self.filter.setCurrentIndex(max(i, 0))
        self.filter.blockSignals(False)
        self._fill_runs()

    def set_reference_filter(self, reference: str | None) -> None:
        i = self.filter.findData(reference) if reference else 0
        self.filter.setCurrentIndex(max(i, 0))

    def _fill_runs(self) -> None:
        summaries = self.history.runs(self.filter.currentData())
        self.runs.setRowCount(len(summaries))
        for r, s in enumerate(summaries):
            names = ", ".join(short_name(p) for p in s.sources)
            cells = [_item(s.created.replace("T", " ")[:19]), _item(short_name(s.reference), s.reference),
                     _item(names, "\n".join(s.sources)),
                     *(_item(format(v, fmt) if (v := getattr(s, attr)) is not None else DASH, align_right=True)
                       for _, attr, fmt in BEST_COLUMNS),
                     _item(s.preset), _item(s.device), _item(str(s.seed), align_right=True),
                     _item(f"{s.n_skipped:,}", align_right=True)]
            cells[0].setData(ID_ROLE, s.id)
            for c, it in enumerate(cells):
                self.runs.setItem(r, c, it)
        self._selection_changed()

    def run_ids(self) -> list[int]:
        return [self.runs.item(r, 0).data(ID_ROLE) for r in range(self.runs.rowCount())]

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.runs.selectedIndexes()})
        return [self.runs.item(r, 0).data(ID_ROLE) for r in rows]

    def _selection_changed(self) -> None:
        n = len(self.selected_ids())
        self.b_open.setEnabled(n == 1)
        self.b_export.setEnabled(n == 1)
        self.b_delete.setEnabled(n >= 1)
        self.b_compare.setEnabled(n >= 1)

    # -- actions ---------------------------------------------------------------------------
    def _open(self, *_):
        ids = self.selected_ids()
        if ids:
            self.open_requested.emit(self.history.load(ids[0]))

    def _export(self):
        ids = self.selected_ids()
        if ids:
            self.export_requested.emit(self.history.load(ids[0]))

    def _delete(self):
        for run_id in self.selected_ids():
            self.history.delete(run_id)
        self.refresh()

    def compare_selected(self) -> None:
        self.show_comparison([self.history.load(i) for i in self.selected_ids()])

    def show_comparison(self, results: list) -> None:
        """Rows: settings and metrics; columns: every source of every chosen run."""
        cols = [(res, src) for res in results for src in res.results]
        chosen = set().union(*(set(r.options.get("metrics", [])) for r in results)) if results else set()
        metric_cols = [c for c in COLUMNS if chosen & set(c.metric)]
        rows = [("Run", lambda res, src: res.created.replace("T", " ")[:19]),
                ("Reference", lambda res, src: short_name(res.reference["path"])),
                ("Preset", lambda res, src: res.preset),
                ("Model SHA-256", lambda res, src: (res.model or {}).get("sha256", DASH)[:12]),
                ("Seed", lambda res, src: str(res.seed)),
                ("N", lambda res, src: f"{src.n_images:,}"),
                ("Skipped", lambda res, src: f"{len(src.skipped):,}")]
        rows += [(c.header, lambda res, src, c=c: cell(c, src)[0]) for c in metric_cols]
        self.compare.clear()
        self.compare.setRowCount(len(rows))
        self.compare.setColumnCount(len(cols))
        self.compare.setVerticalHeaderLabels([name for name, _ in rows])
        self.compare.setHorizontalHeaderLabels([short_name(src.path) for _, src in cols])
        for c, (res, src) in enumerate(cols):
            self.compare.horizontalHeaderItem(c).setToolTip(f"{src.path}\nrun of {res.created}")
            for r, (_, get) in enumerate(rows):
                self.compare.setItem(r, c, _item(get(res, src), align_right=r >= 5))
        self.compare.resizeColumnsToContents()
        self.compare_note.setText(f"{len(results)} run(s), {len(cols)} source(s) side by side." if results
                                  else "Select runs to compare.")
