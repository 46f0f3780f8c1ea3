"""A training script logging from another thread while the app shows that training run:
new points appear in the checkpoint-sweep plot (x = step), no errors, no locked database."""
from __future__ import annotations

import threading

import numpy as np
import pytest
from test_gui_support import make_window

import fid_studio
from engine.api.scores import Scores
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

N_STEPS = 40


@pytest.fixture
def app_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def varied(scores: Scores, step: int) -> Scores:
    """The real scores with FID moved per step, so every point is distinct on the curve."""
    metrics = dict(scores.metrics, fid=scores.fid + 100.0 / (step + 1))
    return Scores(metrics=metrics, n_images=scores.n_images, n_reference=scores.n_reference,
                  preset=scores.preset, seed=scores.seed, warnings=scores.warnings)


def test_live_training_curve_while_a_thread_logs(qtbot, app_dirs, model_path):
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    w = make_window(qtbot)
    ev = fid_studio.Evaluator(ref, metrics=("fid", "kid"), device="cpu", model=model_path,
                              history=w.history.path)
    real = ev.score(rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8))
    ev.log(0, varied(real, 0), run="gan-a")
    w.tabs.setCurrentIndex(2)
    view = w.history_view
    qtbot.waitUntil(lambda: view.training_names() == ["gan-a"], timeout=20000)
    assert view.training_box.isVisible()
    view.training_table.selectRow(0)
    view.b_open_training.click()
    assert w.current_training == "gan-a" and w.tabs.currentIndex() == 1
    assert w.sweep.points == [] and len(w.current.results) == 1

    errors = []

    def train(run, steps):
        try:
            for step in steps:
                ev.log(step, varied(real, step), run=run)
        except Exception as exc:  # the assertion below shows it
            errors.append(exc)
    writers = [threading.Thread(target=train, args=("gan-a", range(1, N_STEPS + 1))),
               threading.Thread(target=train, args=("gan-b", range(0, 2 * N_STEPS, 2)))]
    for t in writers:
        t.start()
    # the window reads (list + curve) while both threads commit
    qtbot.waitUntil(lambda: len(w.sweep.points) == N_STEPS + 1, timeout=60000)
    for t in writers:
        t.join()
    assert not errors
    xs = [x for x, _ in w.sweep.points]
    assert xs == list(range(N_STEPS + 1))
    assert w.sweep.points[-1][1] == pytest.approx(real.fid + 100.0 / (N_STEPS + 1))
    assert w.sweep.fid.getAxis("bottom").labelText == "training step"
    assert w.sweep.best[0] == N_STEPS                  # the lowest FID: the last step

    def rows():
        t = view.training_table
        return {t.item(r, 0).text(): t.item(r, 2).text() for r in range(t.rowCount())}
    # the list follows too: both runs with all their points (the last commits may still be
    # on their way through the watcher)
    qtbot.waitUntil(lambda: rows() == {"gan-a": str(N_STEPS + 1), "gan-b": str(N_STEPS)}, timeout=20000)
    assert "gan-a" in w.result_title.text()
    ev.close()
