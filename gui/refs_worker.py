"""Off the GUI thread: obtaining a standard reference (download with progress and Cancel, or an
offline import) and saving a source as an own reference. Both use gui.workers.EnableWorker's
signals (progress, stage, finished, failed, cancelled)."""
from __future__ import annotations

from engine.errors import Cancelled, FidStudioError
from engine.refs.store import RefsCancelled

from .workers import EnableWorker


class _RefsWorker(EnableWorker):
    cancel_errors = (Cancelled, RefsCancelled)
    user_errors = (FidStudioError,)     # engine.refs' one-line refusals


class ObtainReferenceWorker(_RefsWorker):
    """A catalogue entry's file (cache, or download from the published URL / the mirror), or
    ``file`` imported for it; finished emits the engine.refs.resolve.Resolved."""

    what = "standard reference"

    def __init__(self, name: str, *, file=None, mirror: str | None = None):
        super().__init__()
        self.name, self.file, self.mirror = name, file, mirror

    def call(self, *, progress, cancelled, say, **_):
        from engine.refs import resolve, store
        from engine.refs.catalogue import CATALOGUE
        if self.file is not None:
            entry = CATALOGUE[self.name]
            return resolve.from_entry(entry, store.import_file(entry, self.file))
        found = resolve.lookup(self.name, say)
        if isinstance(found, dict):
            return resolve.from_record(found)
        return resolve.from_entry(found, store.obtain(found, progress=progress, cancelled=cancelled,
                                                      mirror=self.mirror, say=say))


class SaveReferenceWorker(_RefsWorker):
    """Statistics of ``source`` written to ``out`` and saved in the library as ``name``."""

    what = "save reference"

    def __init__(self, source: str, out: str, name: str, opts, model_path=None):
        super().__init__()
        self.source, self.out, self.name, self.opts, self.model_path = source, out, name, opts, model_path

    def call(self, *, progress, cancelled, say, **_):
        from engine.refs.save import save_reference
        from engine.run.events import Progress

        def on_event(e):
            if isinstance(e, Progress):
                progress(e.done, e.total)
            if cancelled():
                raise Cancelled()
        return save_reference(self.source, self.out, self.name, self.opts, model_path=self.model_path,
                              on_event=on_event, say=say)
