"""Run history across an application restart (new window, same data folder), the History
view's filter and side-by-side comparison, and persisted options."""
from __future__ import annotations

import pytest
from test_gui_support import base_images, make_window as new_window, write_set

RUN_TIMEOUT = 120_000


@pytest.fixture
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    imgs = base_images(8, seed=4)
    ref = write_set(tmp_path / "ref", imgs)
    ref2 = write_set(tmp_path / "ref2", imgs[:6], noise=5, seed=9)
    gen = write_set(tmp_path / "gen", imgs, noise=25, seed=5)
    return ref, ref2, gen


def paired_run(qtbot, w, ref, gen):
    """SSIM/MSE/PSNR need no model: a quick real run through the worker."""
    with qtbot.waitSignal(w.sources.scans_settled, timeout=30000):
        w.sources.set_reference(str(ref))
        w.sources.clear_generated()
        w.sources.add_generated([str(gen)])
    w.options.set_metrics(("ssim", "mse", "psnr"))
    with qtbot.waitSignal(w.run_ended, timeout=RUN_TIMEOUT) as blocker:
        assert w.start_run()
    assert blocker.args[0] == "finished", w.last_error
    return w.current


def test_history_survives_restart_and_compares(qtbot, folders):
    ref, ref2, gen = folders
    w1 = new_window(qtbot)
    first = paired_run(qtbot, w1, ref, gen)
    second = paired_run(qtbot, w1, ref2, gen)
    w1.options.batch.setValue(7)
    w1.close()                                   # saves settings, closes the database

    w2 = new_window(qtbot)                       # "restart": same data folder
    view = w2.history_view
    assert len(view.run_ids()) == 2
    assert w2.options.metrics() == ("ssim", "mse", "psnr") and w2.options.batch.value() == 7
    assert w2.sources.reference == str(ref2)     # last folders come back too
    view.set_reference_filter(str(ref))
    assert len(view.run_ids()) == 1
    view.runs.selectRow(0)
    with qtbot.waitSignal(w2.samples_ready, timeout=30000):
        view.b_open.click()
    assert w2.current.to_dict() == first.to_dict()
    assert w2.table.raw(0, "ssim") == first.results[0].metrics["ssim"]
    assert w2.tabs.currentIndex() == 1
    view.set_reference_filter(None)
    view.runs.selectAll()
    view.compare_selected()
    assert view.compare.columnCount() == 2
    headers = [view.compare.verticalHeaderItem(r).text() for r in range(view.compare.rowCount())]
    ssim_row = headers.index("SSIM")
    shown = {view.compare.item(ssim_row, c).text() for c in range(2)}
    assert shown == {f"{r.results[0].metrics['ssim']:.4f}" for r in (first, second)}
    view.runs.selectRow(0)
    view.b_delete.click()
    assert len(view.run_ids()) == 1


def test_run_without_sources_explains(qtbot, folders):
    w = new_window(qtbot)
    assert not w.start_run()
    assert "reference" in w.run_hint.text()
    w.sources.set_reference(str(folders[0]))
    assert not w.start_run()
    assert "generated" in w.run_hint.text()


def test_damaged_history_and_settings_are_replaced_and_the_app_starts(qtbot, tmp_path, monkeypatch):
    data = tmp_path / "appdata"
    data.mkdir()
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(data))
    (data / "history.sqlite3").write_bytes(b"overwritten by something else\n" * 40)
    (data / "settings.ini").write_bytes(bytes(range(256)) * 8)
    w = new_window(qtbot)
    qtbot.waitUntil(lambda: getattr(w, "startup_box", None) is not None, timeout=10000)
    text = w.startup_box.text()
    moved = sorted(p.name for p in data.iterdir() if ".damaged-" in p.name)
    assert len(moved) == 2 and all(str(data / name) in text for name in moved)
    assert w.history.count() == 0 and w.isVisible()
    w.startup_box.close()
