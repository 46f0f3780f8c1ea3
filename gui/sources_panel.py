"""Choosing what to score: the reference source and the list of generated sources.

Folders, zip archives and stats .npz files come from dialogs or drag and drop. "Add
checkpoint folder…" adds each image subfolder of a parent as one entry, in natural order.
Every source is scanned in the background (engine.inputs.sources.open_source) to show its image
count and to let the window decide which metrics can run.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QFileDialog, QFrame, QGroupBox,
                               QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from engine.inputs.checkpoints import list_checkpoints
from reports.result_format import short_name

from .settings import as_str
from .workers import start_task

PATH_ROLE = Qt.ItemDataRole.UserRole


def dropped_paths(event) -> list[str]:
    return [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]


def describe(scan) -> str:
    """'1,234 images' / 'zip, 50 images' / 'stats file (n = 50,000)' / the error."""
    if isinstance(scan, str):
        return scan
    if scan.kind == "stats":
        n = scan.stats.get("n")
        return "statistics file" + (f" (n = {n:,})" if n else "")
    count = f"{len(scan.files):,} images"
    if scan.kind == "array":
        h, w = scan.array.size_hw
        adm = ", with ADM statistics" if scan.stats else ""
        return f"array {scan.array.member}, {count} of {h}×{w}{adm}"
    return ("zip, " + count) if scan.kind == "zip" else count


class AcceptsDroppedPaths:
    """Drag-and-drop of local files for any widget that declares a ``dropped`` signal."""

    def dragEnterEvent(self, e):
        e.acceptProposedAction() if e.mimeData().hasUrls() else e.ignore()

    def dragMoveEvent(self, e):
        e.acceptProposedAction() if e.mimeData().hasUrls() else e.ignore()

    def dropEvent(self, e):
        paths = dropped_paths(e)
        if paths:
            e.acceptProposedAction()
            self.dropped.emit(paths)


class DropList(AcceptsDroppedPaths, QListWidget):
    dropped = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)


class DropFrame(AcceptsDroppedPaths, QFrame):
    dropped = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptDrops(True)


class SourcesPanel(QWidget):
    changed = Signal()          # sources added/removed or a scan finished
    scans_settled = Signal()    # no scan pending any more
    standard_requested = Signal()     # "Standard reference…"
    save_requested = Signal()         # "Save as reference…"

    def __init__(self, pool: QThreadPool, parent=None):
        super().__init__(parent)
        self.pool = pool
        self._tasks: set = set()
        self.reference: str | None = None
        self.scans: dict[str, object] = {}      # path -> engine Source | error message
        self.checkpoint_parent: Path | None = None
        self.last_dir = ""
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)

        ref_box = QGroupBox("Reference (real images)")
        self.ref_frame = DropFrame()
        rl = QVBoxLayout(self.ref_frame)
        rl.setContentsMargins(0, 0, 0, 0)
        self.ref_label = QLabel("None chosen — drop a folder, .zip, .npz / .npy batch or stats .npz here")
        self.ref_label.setWordWrap(True)
        self.ref_info = QLabel("")
        self.ref_info.setObjectName("hint")
        row = QHBoxLayout()
        b_folder, b_file = QPushButton("Folder…"), QPushButton("Zip / stats…")
        b_folder.clicked.connect(self.choose_reference_folder)
        b_file.clicked.connect(self.choose_reference_file)
        row.addWidget(b_folder)
        row.addWidget(b_file)
        self.b_standard = QPushButton("Standard reference…")
        self.b_standard.setToolTip("Published statistics (clean-fid, ADM, EDM, EDM2) and your own saved "
                                   "references, by name: downloaded once, checked, cached")
        self.b_save_ref = QPushButton("Save as reference…")
        self.b_save_ref.setToolTip("Save this reference's statistics under a name, to use it later "
                                   "without reading its images")
        self.b_standard.clicked.connect(self.standard_requested)
        self.b_save_ref.clicked.connect(self.save_requested)
        row.addWidget(self.b_standard)
        row.addWidget(self.b_save_ref)
        row.addStretch(1)
        rl.addWidget(self.ref_label)
        rl.addWidget(self.ref_info)
        rl.addLayout(row)
        QVBoxLayout(ref_box).addWidget(self.ref_frame)
        self.ref_frame.dropped.connect(lambda paths: self.set_reference(paths[0]))
        lay.addWidget(ref_box)

        gen_box = QGroupBox("Generated sources")
        gl = QVBoxLayout(gen_box)
        self.list = DropList()
        self.list.setMinimumHeight(90)
        self.list.setMaximumHeight(170)
        self.list.setToolTip("Drop folders, .zip, .npz / .npy batches or stats .npz files here")
        self.list.dropped.connect(self.add_generated)
        gl.addWidget(self.list)
        r1, r2 = QHBoxLayout(), QHBoxLayout()
        self.b_add = QPushButton("Add folder…")
        self.b_zip = QPushButton("Add zip / stats…")
        self.b_ckpt = QPushButton("Add checkpoint folder…")
        self.b_ckpt.setToolTip("A parent folder whose subfolders (step_1000, step_2000, …) are "
                               "checkpoints: each becomes one entry, in natural order")
        self.b_remove = QPushButton("Remove")
        self.b_add.clicked.connect(self.choose_generated_folder)
        self.b_zip.clicked.connect(self.choose_generated_files)
        self.b_ckpt.clicked.connect(self.choose_checkpoint_folder)
        self.b_remove.clicked.connect(self.remove_selected)
        for b in (self.b_add, self.b_zip):
            r1.addWidget(b)
        for b in (self.b_ckpt, self.b_remove):
            r2.addWidget(b)
        gl.addLayout(r1)
        gl.addLayout(r2)
        self.watch_box = QCheckBox("Watch the checkpoint folder and score new checkpoints")
        self.watch_box.setEnabled(False)
        self.watch_box.setToolTip("Add a checkpoint folder first. Each new subfolder is scored "
                                  "once it has stopped changing, and added to the sweep.")
        gl.addWidget(self.watch_box)
        lay.addWidget(gen_box)

    # -- state -----------------------------------------------------------------------------
    def generated(self) -> list[str]:
        return [self.list.item(i).data(PATH_ROLE) for i in range(self.list.count())]

    def pending(self) -> int:
        return len(self._tasks)

    def set_reference(self, path) -> None:
        path = str(path)
        self.reference = path
        self.ref_label.setText(path)
        self.ref_label.setToolTip(path)
        self.ref_info.setText("scanning…")
        self._remember_dir(path)
        self._scan(path)
        self.changed.emit()

    def add_generated(self, paths, *, checkpoint: bool = False) -> None:
        existing = set(self.generated())
        for p in map(str, paths):
            if p in existing or p == self.reference:
                continue
            existing.add(p)
            item = QListWidgetItem(short_name(p) + "  ·  scanning…")
            item.setData(PATH_ROLE, p)
            item.setToolTip(p)
            self.list.addItem(item)
            self._scan(p)
        if paths:
            self._remember_dir(str(paths[-1]))
        self.changed.emit()

    def add_checkpoint_folder(self, parent) -> list[Path]:
        """Each image subfolder of ``parent`` becomes an entry, naturally ordered."""
        subs = list_checkpoints(parent)
        self.checkpoint_parent = Path(parent)
        self.watch_box.setEnabled(True)
        self.watch_box.setText(f"Watch {short_name(str(parent))}/ and score new checkpoints")
        self.add_generated([str(s) for s in subs], checkpoint=True)
        self._remember_dir(str(parent))
        return subs

    def remove_selected(self) -> None:
        for item in self.list.selectedItems():
            self.list.takeItem(self.list.row(item))
        self.changed.emit()

    def clear_generated(self) -> None:
        self.list.clear()
        self.changed.emit()

    # -- scanning --------------------------------------------------------------------------
    def _scan(self, path: str) -> None:
        from engine.inputs.sources import open_source
        # _maybe_settled runs once the task has left _tasks, and is connected before the task
        # starts: connected after start_task returned, it missed a scan that finished first
        # (a small folder, a missing path) and scans_settled was never emitted.
        start_task(self.pool, self._tasks, open_source, path,
                   on_done=lambda src, p=path: self._scanned(p, src),
                   on_failed=lambda msg, p=path: self._scanned(p, msg),
                   on_released=self._maybe_settled)

    def _maybe_settled(self):
        if not self._tasks:
            self.scans_settled.emit()

    def _scanned(self, path: str, scan) -> None:
        self.scans[path] = scan
        text = describe(scan)
        error = isinstance(scan, str)
        if path == self.reference:
            self.ref_info.setText(("⚠ " + text) if error else text)
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(PATH_ROLE) == path:
                item.setText(f"{short_name(path)}  ·  {'⚠ ' if error else ''}{text}")
                item.setForeground(QColor("#B00020") if error else self.palette().text().color())
                item.setToolTip(f"{path}\n{text}")
        self.changed.emit()

    # -- dialogs ---------------------------------------------------------------------------
    def _remember_dir(self, path: str) -> None:
        # The folder that holds the chosen source: the next dialog opens beside it.
        self.last_dir = str(Path(path).parent)

    def choose_reference_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Reference image folder", self.last_dir)
        if d:
            self.set_reference(d)

    def choose_reference_file(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Reference archive or statistics", self.last_dir,
                                           "Zip, image arrays or stats (*.zip *.npz *.npy);;All files (*)")
        if f:
            self.set_reference(f)

    def choose_generated_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Generated image folder", self.last_dir)
        if d:
            self.add_generated([d])

    def choose_generated_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Generated archives or statistics", self.last_dir,
                                                "Zip, image arrays or stats (*.zip *.npz *.npy);;All files (*)")
        if files:
            self.add_generated(files)

    def choose_checkpoint_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Checkpoint parent folder (one subfolder per "
                                             "checkpoint)", self.last_dir)
        if d:
            self.add_checkpoint_folder(d)

    # -- settings --------------------------------------------------------------------------
    def save_settings(self, s) -> None:
        s.beginGroup("sources")
        s.setValue("last_dir", self.last_dir)
        s.setValue("reference", self.reference or "")
        s.endGroup()

    def restore_settings(self, s) -> None:
        s.beginGroup("sources")
        self.last_dir = as_str(s.value("last_dir"))
        ref = as_str(s.value("reference"))
        s.endGroup()
        if ref and Path(ref).exists():
            self.set_reference(ref)
