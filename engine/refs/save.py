"""Save a source as an own named reference (the GUI's "Save as reference…"): its Inception
statistics written as a stats file (the pytorch-fid layout plus moments and provenance, as
``stats`` writes) and registered in the library; a stats file is registered as it is."""
from __future__ import annotations

import shutil

from ..errors import CancelToken
from . import library


def save_reference(source, out, name: str, opts, *, model_path=None, on_event=None,
                   cancel: CancelToken | None = None, say=lambda text: None) -> dict:
    """The library record of ``name``: statistics of ``source`` (preset ``opts.preset``) in ``out``."""
    from ..features import stats_file
    from ..features.pipeline import extract
    from ..features.presets import get_preset
    from ..inputs.sources import open_source
    from ..run.job import load_model
    library.check_name(name)
    src = open_source(source)
    if src.kind == "stats":
        return library.register(name, source, say)
    model = load_model(opts, model_path)
    say(f"computing the statistics of {src.label} ({opts.preset})")
    ext = extract(src, get_preset(opts.preset), model, opts, role="reference", on_event=on_event, cancel=cancel)
    try:
        arrays = stats_file.stats_arrays(ext.raw_moments(), ext.stats, preset=opts.preset,
                                         model_sha256=model.body_sha256, files=ext.files,
                                         precision=opts.precision)
        arrays.update(library.provenance_arrays(name, source))
        stats_file.write(out, arrays)
    finally:
        if ext.workdir:
            shutil.rmtree(ext.workdir, ignore_errors=True)
    return library.register(name, out, say)
