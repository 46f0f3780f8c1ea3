""""Standard reference…" and "Save as reference…" for the main window: the dialog's choice
becomes the reference and sets the preset / suite it is valid for; the reference (a folder,
zip, image batch or stats file) is saved under a name in the library of references."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox


def open_standard_reference(window):
    """The dialog (shown, not modal); returns it (tests drive it)."""
    from .refs_dialog import StandardReferenceDialog
    dlg = StandardReferenceDialog(window.settings, window, pool=window.pool)
    dlg.chosen.connect(lambda res: apply_reference(window, res))
    dlg.show()
    return dlg


def apply_reference(window, res) -> None:
    """``res`` (engine.refs.resolve.Resolved) as the reference, with its convention."""
    opts = window.options
    if res.suite:
        opts.suite.setCurrentIndex(opts.suite.findData(res.suite))
    else:
        opts.suite.setCurrentIndex(opts.suite.findData(None))
        opts.preset.setCurrentIndex(opts.preset.findData(res.preset))
    window.sources.set_reference(str(res.path))
    window.statusBar().showMessage(f"Reference {res.name}: preset {res.preset}"
                                   + (f", suite {res.suite}" if res.suite else ""), 10_000)


def save_as_reference(window, name: str | None = None, out: str | None = None):
    """Statistics of the current reference saved as ``name`` (asked for when None) in ``out``
    (asked for when None); returns the running worker, or None when nothing was started."""
    from .refs_worker import SaveReferenceWorker
    ref = window.sources.reference
    if not ref:
        QMessageBox.information(window, "Save as reference", "Choose a reference source first.")
        return None
    if name is None:
        name, ok = QInputDialog.getText(window, "Save as reference", "Name (letters, digits, . _ + -):")
        if not ok or not name.strip():
            return None
        name = name.strip()
    if out is None:
        out, _ = QFileDialog.getSaveFileName(window, "Statistics file", f"{name}.npz", "Stats (*.npz)")
        if not out:
            return None
    worker = SaveReferenceWorker(ref, out, name, window.options.options())
    worker.signals.finished.connect(
        lambda rec: window.statusBar().showMessage(
            f"Saved as reference {rec['name']!r} ({', '.join(rec['supports'])}); find it under "
            "Standard reference…", 15_000))
    worker.signals.failed.connect(lambda msg: QMessageBox.warning(window, "Save as reference", msg))
    worker.signals.stage.connect(lambda text: window.statusBar().showMessage(text, 10_000))
    window._refs_workers = getattr(window, "_refs_workers", []) + [worker]
    window.pool.start(worker)
    return worker
