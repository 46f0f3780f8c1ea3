"""'Enable CLIP-FID…' and 'Enable CMMD…' in the real window: both metrics (and the CLIP feature
space) are greyed out until their models are added; each dialog takes a weights file from disk
(2-block stand-ins in OpenAI's layout, so the test stays fast; the download path is the one
'Enable FD-DINOv2…' and tests/test_clip_add.py test) and builds the model; then a run shows
CLIP-FID and CMMD in the results table and History, equal to the engine's own run."""
from __future__ import annotations

import pytest
from test_gui_run import run_and_wait, set_sources
from test_gui_support import base_images, make_window, write_set

from engine.run.job import run
from models.clip.standin import standin_spec, write_standin
from models.paths import find_model

VARIANT = {"clip_fid": "vitb32", "cmmd": "vitl14-336"}
MODEL_FILE = {"clip_fid": "clip_vitb32.onnx", "cmmd": "clip_vitl14_336.onnx"}


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))  # no CLIP model here
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return make_window(qtbot)


def _clip_item(w):
    return w.options.space.space.model().item(w.options.space.space.findData("clip"))


def test_greyed_out_until_added_then_enabled_from_files(qtbot, window, tmp_path):
    w = window
    for metric in ("clip_fid", "cmmd"):
        assert not w.options.checks[metric].isEnabled()
        assert w.options.enable_buttons[metric].isVisibleTo(w)
        assert w.act_enable[metric].text() == w.options.enable_buttons[metric].text()
    assert "CLIP-FID unavailable" in w.options.hint.text() and "CMMD unavailable" in w.options.hint.text()
    assert not _clip_item(w).isEnabled()
    for metric, variant in VARIANT.items():
        weights = write_standin(tmp_path / f"{variant}.pt", variant, depth=2)
        dlg = w.enable_network_dialog(metric, spec=standin_spec(variant, 2))
        assert dlg.source.url.startswith("https://openaipublic.azureedge.net/clip/models/")
        assert dlg.source.sha256 in dlg.source.url and "SHA-256" in dlg.text.text()
        with qtbot.waitSignal(dlg.enabled, timeout=120_000):
            dlg.start(str(weights))
        assert dlg.outcome == "enabled"
        model = find_model(MODEL_FILE[metric])
        assert model is not None and str(model).startswith(str(tmp_path / "appdata"))
        assert w.options.checks[metric].isEnabled() and w.options.checks[metric].isChecked()
        assert not w.options.enable_buttons[metric].isVisibleTo(w)
    assert _clip_item(w).isEnabled()

    # a run with KID in the CLIP space: CLIP-FID and CMMD beside FID, as the engine gives them
    ref = write_set(tmp_path / "ref", base_images(5, seed=1))
    gen = write_set(tmp_path / "gen", base_images(5, seed=2), noise=20)
    set_sources(qtbot, w, ref, [gen])
    w.options.set_metrics(("fid", "clip_fid", "cmmd", "kid"))
    w.options.space.select("clip", None)
    opts = w.options.options()
    assert opts.feature_space == "clip"
    result = run_and_wait(qtbot, w, w.start_run)
    engine = run(ref, [gen], opts).results[0].metrics     # the engine's run (the GUI's cached features)
    got = result.results[0].metrics
    for key in ("clip_fid", "cmmd", "kid_mean"):        # (KID, unbiased, may be below 0 here)
        assert got[key] == pytest.approx(engine[key], rel=1e-9) and got[key] is not None
    assert got["clip_fid"] > 0 and got["cmmd"] > 0
    headers = [c.header for c in w.results_tab.table.columns]
    assert any(h.startswith("CLIP-FID") for h in headers) and any(h.startswith("CMMD") for h in headers)
    assert any("KID" in h and "CLIP" in h for h in headers)
    view = w.history_view
    view.refresh()
    qtbot.waitUntil(lambda: view.runs.rowCount() == 1, timeout=30_000)
    cols = [view.runs.horizontalHeaderItem(c).text() for c in range(view.runs.columnCount())]
    assert view.runs.item(0, cols.index("Best CLIP-FID")).text() == f"{got['clip_fid']:.3f}"
    assert view.runs.item(0, cols.index("Best CMMD")).text() == f"{got['cmmd']:.4f}"
