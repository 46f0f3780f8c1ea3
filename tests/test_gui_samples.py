"""The Samples tab on a real run: per-image tables from the feature cache, sorting, the
possible-copies filter, thumbnails from worker threads, the large view, a stored run whose
cache entry is gone (recomputed on request), and the PDF's sample page."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from pdf_text import pdf_text
from test_gui_support import base_images, make_window, single_blas_thread, write_set

from engine.per_image.table import to_csv_text
from engine.run.options import Options
from engine.run.result import RunResult

needs_model = pytest.mark.skipif(__import__("models").find_model() is None,
                                 reason="needs the built ONNX model (python main.py model build)")
COPIES = ("img_006.png", "img_007.png")


@pytest.fixture(scope="module")
def run_result(tmp_path_factory):
    """Reference: 14 images. Generated: 6 of them under heavy noise (same names: paired) and
    exact copies of two others."""
    from engine.run.job import run
    root = tmp_path_factory.mktemp("samples")
    imgs = base_images(14, seed=3)
    ref = write_set(root / "ref", imgs)
    gen = write_set(root / "gen", imgs[:6], noise=60, seed=1)
    for name in COPIES:
        shutil.copy(ref / name, gen / name)
    with single_blas_thread():
        return run(str(ref), [str(gen)], Options(metrics=("fid", "ssim", "psnr"), batch_size=8, workers=2))


def _rows(view):
    m = view.model
    return [m.table.row(m.row_of(m.index(r))) for r in range(m.rowCount())]


@needs_model
def test_samples_tab_sorts_filters_and_shows_pairs(qtbot, run_result, tmp_path):
    w = make_window(qtbot)
    w.show_result(run_result, None)
    view = w.samples_view
    with qtbot.waitSignal(view.table_ready, timeout=120_000):
        w.tabs.setCurrentWidget(view)
    rows = _rows(view)
    assert len(rows) == 8
    realism = [r["realism"] for r in rows]
    assert realism == sorted(realism)                          # least realistic first
    qtbot.waitUntil(lambda: view.thumbs.made >= 4, timeout=60_000)   # thumbnails of what is visible

    view.copies.setChecked(True)
    copies = _rows(view)
    assert {r["file"] for r in copies} >= set(COPIES) and all(r["possible_copy"] for r in copies)
    for r in copies:
        if r["file"] in COPIES:
            assert r["nearest_real"] == r["file"] and r["distance"] < 1e-3
    assert f"{len(copies)} of 8 shown" in view.count.text()
    assert "percentile" in view.rule.text()
    view.copies.setChecked(False)

    view.sort.setCurrentIndex(2)                               # lowest SSIM first (a paired run)
    ssim = [r["ssim"] for r in _rows(view)]
    assert ssim == sorted(ssim) and ssim[-1] == pytest.approx(1.0) and ssim[0] < 0.9
    assert {r["file"] for r in _rows(view)[-2:]} == set(COPIES)

    view.open_detail(view.model.index(0))
    detail = view.detail
    assert rows and _rows(view)[0]["file"] in detail.text.text() and "Nearest real" in detail.text.text()
    qtbot.waitUntil(lambda: all(lbl.pixmap() is not None and not lbl.pixmap().isNull()
                                for lbl in detail.images), timeout=30_000)

    pdf = tmp_path / "report.pdf"
    assert w.export_to(str(pdf), run_result, "pdf")
    text = pdf_text(pdf)
    assert "Samples: gen" in text and "least realistic samples" in text and "Possible copies" in text
    assert text.count("possible copy") >= 2 and "img_006.png" in text


@needs_model
def test_stored_run_without_cached_features_offers_recompute(qtbot, run_result):
    stored = RunResult.from_dict(run_result.to_dict())
    stored.results[0].extras["features_key"] = "0" * 40       # an entry that is not in the cache
    w = make_window(qtbot)
    w.show_stored(stored)
    view = w.samples_view
    with qtbot.waitSignal(view.message_shown, timeout=60_000,
                          check_params_cb=lambda t: "no longer in the feature cache" in t):
        w.tabs.setCurrentWidget(view)
    assert view.recompute_button.isVisible()
    with qtbot.waitSignal(view.table_ready, timeout=240_000):
        view.recompute_button.click()
    assert stored.results[0].extras["features_key"] != "0" * 40
    fresh = view.current_table()
    from engine.per_image.from_cache import load_table
    expected = load_table(run_result, 0)
    assert to_csv_text([fresh]) == to_csv_text([expected])
    assert np.array_equal(fresh.scores.possible_copy, expected.scores.possible_copy)
