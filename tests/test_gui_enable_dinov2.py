"""'Enable FD-DINOv2…' in the real window against a real HTTP server on 127.0.0.1: FD_DINOv2
and the DINOv2 feature space are greyed out until the model is added; one download (a 2-block
stand-in in the official layout, so the test stays fast) builds it; then a run shows
FD_DINOv2 in the results table, equal to the engine's own run."""
from __future__ import annotations

import pytest
from httpserve import LocalServer
from test_gui_run import run_and_wait, set_sources
from test_gui_support import base_images, make_window, write_set

from engine.run.job import run
from models.common import download as dl
from models.dinov2.standin import write_standin
from models.dinov2.weights import WEIGHTS_FILE, ViTSpec
from models.paths import download_dir, find_model

SPEC = ViTSpec(depth=2)


@pytest.fixture(scope="module")
def standin_bytes(tmp_path_factory):
    return write_standin(tmp_path_factory.mktemp("dv") / WEIGHTS_FILE, depth=2).read_bytes()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))  # no DINOv2 model here
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return make_window(qtbot)


def _dinov2_item(w):
    return w.options.space.space.model().item(w.options.space.space.findData("dinov2"))


def test_greyed_out_until_added_then_one_download_enables_it(qtbot, window, standin_bytes, tmp_path):
    w = window
    assert not w.options.checks["fd_dinov2"].isEnabled()
    assert w.options.enable_buttons["fd_dinov2"].isVisibleTo(w)
    assert "FD_DINOv2 unavailable" in w.options.hint.text()
    assert not _dinov2_item(w).isEnabled() and w.options.options().feature_space == "inception"
    with LocalServer({WEIGHTS_FILE: standin_bytes}) as server:
        source = dl.RemoteFile(server.url(f"file/{WEIGHTS_FILE}"), WEIGHTS_FILE, None, 1218)
        dlg = w.enable_network_dialog("fd_dinov2", source=source, spec=SPEC)
        assert "about 1,218 MB" in dlg.text.text() and source.url in dlg.text.text()
        assert "tensor" in dlg.text.text()
        with qtbot.waitSignal(dlg.enabled, timeout=120_000):
            dlg.download_button.click()
    assert dlg.outcome == "enabled" and not dlg.isVisible()
    assert dlg.last_progress == (len(standin_bytes), len(standin_bytes))
    model = find_model("dinov2_vitl14.onnx")
    assert model is not None and str(model).startswith(str(tmp_path / "appdata"))
    assert not any(download_dir().iterdir())        # the .pth is deleted after the build
    assert w.options.checks["fd_dinov2"].isEnabled() and w.options.checks["fd_dinov2"].isChecked()
    assert not w.options.enable_buttons["fd_dinov2"].isVisibleTo(w)
    assert _dinov2_item(w).isEnabled()

    # a run in the DINOv2 space: FD_DINOv2 beside FID, KID in that space, as the engine gives
    ref = write_set(tmp_path / "ref", base_images(6, seed=1))
    gen = write_set(tmp_path / "gen", base_images(6, seed=2), noise=20)
    set_sources(qtbot, w, ref, [gen])
    w.options.set_metrics(("fid", "fd_dinov2", "kid"))
    w.options.space.select("dinov2", "edm2")
    opts = w.options.options()
    assert (opts.feature_space, opts.dinov2_convention) == ("dinov2", "edm2")
    result = run_and_wait(qtbot, w, w.start_run)
    engine = run(ref, [gen], opts.replace(use_cache=False)).results[0].metrics
    got = result.results[0].metrics
    assert got["fd_dinov2"] == pytest.approx(engine["fd_dinov2"], rel=1e-9) and got["fd_dinov2"] > 0
    assert got["kid_mean"] == pytest.approx(engine["kid_mean"], rel=1e-9)
    table = w.results_tab.table
    assert "fd_dinov2" in table.header_keys()
    headers = [c.header for c in table.columns]
    assert any(h.startswith("FD_DINOv2") for h in headers)
    assert any("KID" in h and "DINOv2" in h for h in headers)
    view = w.history_view                    # History: the run's best FD_DINOv2
    view.refresh()
    col = [view.runs.horizontalHeaderItem(c).text() for c in range(view.runs.columnCount())].index(
        "Best FD_DINOv2")
    qtbot.waitUntil(lambda: view.runs.rowCount() == 1, timeout=30_000)
    assert view.runs.item(0, col).text() == f"{got['fd_dinov2']:.3f}"


def test_cancel_keeps_nothing_and_it_stays_off(qtbot, window, standin_bytes):
    w = window
    with LocalServer({WEIGHTS_FILE: standin_bytes * 4}) as server:
        source = dl.RemoteFile(server.url(f"trickle/{WEIGHTS_FILE}"), WEIGHTS_FILE, None, 1218)
        dlg = w.enable_network_dialog("fd_dinov2", source=source, spec=SPEC)
        dlg.download_button.click()
        qtbot.waitUntil(lambda: dlg.bar.maximum() == 1000 and dlg.bar.value() > 0, timeout=60_000)
        with qtbot.waitSignal(dlg.worker.signals.cancelled, timeout=60_000):
            dlg.cancel_button.click()
        server.pace.set()
    assert dlg.outcome == "cancelled" and "nothing was kept" in dlg.stage.text()
    assert not any(download_dir().iterdir()) and find_model("dinov2_vitl14.onnx") is None
    assert not w.options.checks["fd_dinov2"].isEnabled()


def test_a_wrong_file_is_refused_in_the_dialog(qtbot, window, tmp_path):
    w = window
    bad = tmp_path / WEIGHTS_FILE
    bad.write_bytes(b"not a checkpoint" * 1000)
    dlg = w.enable_network_dialog("fd_dinov2", spec=SPEC)
    dlg.start(str(bad))
    qtbot.waitUntil(lambda: dlg.outcome == "failed", timeout=60_000)
    assert dlg.error.isVisible() and WEIGHTS_FILE in dlg.error.text()
    assert find_model("dinov2_vitl14.onnx") is None and not w.options.checks["fd_dinov2"].isEnabled()
