"""Decoding in processes (shared-memory hand-over) gives exactly what the thread pool gives."""
import numpy as np

from badinput import make_bad_folder
from engine.features.pipeline import extract
from engine.features.presets import get_preset
from engine.inputs.sources import open_source
from engine.run.options import Options
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)


def test_process_decode_equals_thread_decode(tmp_path, inference_model):
    folder = make_bad_folder(tmp_path / "mixed")
    src = open_source(folder)
    runs = []
    for processes in (False, True):
        opts = Options(device="cpu", workers=2, batch_size=3, use_cache=False, decode_processes=processes)
        ext = extract(src, get_preset("clean"), inference_model, opts, cache_root=tmp_path / f"c{processes}")
        runs.append(ext)
    threads, procs = runs
    assert procs.files == threads.files and procs.skipped == threads.skipped and procs.notes == threads.notes
    assert len(procs.skipped) >= 5 and procs.n == threads.n >= 8
    assert np.array_equal(np.asarray(procs.features), np.asarray(threads.features))
    assert np.array_equal(procs.stats.sigma, threads.stats.sigma)
