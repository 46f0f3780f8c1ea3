"""GUI pieces on their own: the worker adapter's signal order, LiveState, formatting,
metric availability, settings versioning, the excepthook, drag and drop."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent
from test_gui_support import base_images, write_set

from engine.run.events import Message, Progress, SourceFinished, SourceStarted
from engine.run.options import Options
from engine.run.result import RunResult, SourceResult, empty_metrics


@pytest.fixture
def pair(tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))
    imgs = base_images(6, seed=2)
    return write_set(tmp_path / "ref", imgs), write_set(tmp_path / "gen", imgs, noise=10)


PAIRED = Options(metrics=("ssim", "mse", "psnr"), workers=1)


def test_worker_signal_order_finished(qtbot, pair):
    from gui.workers import JobWorker
    w = JobWorker(pair[0], [pair[1]], PAIRED)
    seen = []
    for name in ("started", "progress", "finished", "errored", "cancelled"):
        getattr(w.signals, name).connect(lambda *a, n=name: seen.append(n))
    pool = QThreadPool()
    with qtbot.waitSignals([w.signals.started, w.signals.finished], order="strict", timeout=60000):
        pool.start(w)
    assert pool.waitForDone(5000)
    assert seen[0] == "started" and seen[-1] == "finished" and "progress" in seen
    assert set(seen[1:-1]) == {"progress"}


def test_worker_cancel_and_errors_run_synchronously(qtbot, pair, monkeypatch):
    from gui import workers
    w = workers.JobWorker(pair[0], [pair[1]], PAIRED)
    w.cancel()                                     # cancelled before the first checkpoint
    with qtbot.waitSignal(w.signals.cancelled, timeout=1000):
        w.run()
    bad = workers.JobWorker(pair[0], [str(pair[1]) + "_missing"], PAIRED)
    with qtbot.waitSignal(bad.signals.errored, timeout=1000) as blocker:
        bad.run()
    assert "not found" in blocker.args[0] and blocker.args[1] == ""     # user error: no log path

    def boom(*a, **k):
        raise RuntimeError("something internal")
    monkeypatch.setattr(workers.job, "run", boom)
    crash = workers.JobWorker(pair[0], [pair[1]], PAIRED)
    with qtbot.waitSignal(crash.signals.errored, timeout=1000) as blocker:
        crash.run()
    message, log_path = blocker.args
    assert message == "RuntimeError: something internal" and "Traceback" not in message
    assert "RuntimeError: something internal" in Path(log_path).read_text()


def test_live_state_rows_and_cached_sources():
    from gui.live_state import LiveState
    s = LiveState("/d/ref", ["/d/a", "/d/b"], paired=True)
    assert [r.label for r in s.rows] == ["Reference: ref", "a", "b"]
    s.on_event(Message("Running on CPU (as requested)"))
    s.on_event(SourceStarted("reference", -1, "/d/ref", 10))
    s.on_event(Progress("reference", -1, "features", 10, 10, 0.0, 0.0, n_images=10))   # from cache
    assert s.rows[0].stage == "cached" and "cache" in s.rows[0].text()
    s.on_event(SourceStarted("generated", 0, "/d/a", 20))
    s.on_event(Progress("generated", 0, "features", 8, 20, 24.5, 0.4, running_fid=80.0, n_images=7,
                        new_skipped=(("x.png", "not a readable image"),)))
    assert s.rows[1].text() == "8 / 20 images · 24.5 images/s · ETA < 1 s"
    assert s.fid_points == {0: [(7, 80.0)]} and s.problems == [("a", "x.png", "not a readable image")]
    s.on_event(Progress("generated", 1, "pairs", 5, 5, 10.0, 0.0, ssim_values=(0.5, 0.7)))
    s.on_event(SourceFinished("generated", 1))
    assert s.ssim_values == {1: [0.5, 0.7]} and "done" in s.rows[2].text()
    s.on_event(SourceStarted("validation", -2, "/d/val", 4))      # a source the window did not list
    assert s.rows[-1].role == "validation"
    assert s.device_line.startswith("Running on CPU")


def _result(metrics, chosen, warnings=()):
    m = empty_metrics()
    m.update(metrics)
    src = SourceResult(path="/x/step_1", n_images=5, metrics=m, warnings=list(warnings))
    return RunResult(preset="clean", device="cpu", device_line="", seed=0, model=None,
                     reference={"path": "/x/ref", "n_images": 5, "skipped": []}, results=[src],
                     options={"metrics": list(chosen)}, created="2026-01-01T00:00:00+00:00")


def test_result_format_columns_and_cells():
    from reports.result_format import BY_KEY, DASH, cell, columns_for
    r = _result({"fid": 12.3456, "kid_mean": 0.0123, "kid_std": 0.002, "psnr": math.inf, "mse": 0.0,
                 "ssim": 1.0, "n_pairs": 5}, ("fid", "kid", "is", "psnr"),
                ["IS not available: Inception Score needs the classifier head"])
    keys = [c.key for c in columns_for(r)]
    assert keys == ["source", "n_images", "skipped", "fid", "kid", "is", "psnr", "n_pairs", "warnings"]
    src = r.results[0]
    assert cell(BY_KEY["fid"], src)[:2] == ("12.346", 12.3456)
    assert cell(BY_KEY["kid"], src)[0] == "0.01230 ± 0.00200"
    assert cell(BY_KEY["psnr"], src)[0] == "∞ (identical)"
    text, raw, tip = cell(BY_KEY["is"], src)
    assert text == DASH and "classifier head" in tip
    assert cell(BY_KEY["source"], src)[0] == "step_1"


def test_metric_availability(tmp_path):
    from engine.inputs.sources import open_source
    from gui.metric_availability import ModelInfo, reasons
    import numpy as np
    imgs = base_images(3)
    ref = open_source(write_set(tmp_path / "ref", imgs))
    same = open_source(write_set(tmp_path / "same", imgs))
    other = open_source(write_set(tmp_path / "other", imgs, names=["q.png", "r.png", "s.png"]))
    np.savez(tmp_path / "s.npz", mu=np.zeros(4), sigma=np.eye(4))
    stats = open_source(tmp_path / "s.npz")
    ok = ModelInfo("/m.onnx", has_logits=True, added=dict.fromkeys(("fd_dinov2", "clip_fid", "cmmd", "clip_score"), "/m"))
    assert all(v is None for k, v in reasons(ok, ref, [same]).items() if not k.startswith("gan"))
    none_added = reasons(ModelInfo("/m.onnx", has_logits=True), ref, [same])
    for metric, network in (("fd_dinov2", "dinov2-vitl14"), ("clip_fid", "clip-vitb32"), ("cmmd", "clip-vitl14-336"),
                            ("clip_score", "clip-vitl14")):
        assert none_added[metric].offer_enable == metric
        assert f"`python main.py model add {network} --download`" in none_added[metric]
    assert all(v is None for k, v in none_added.items()
               if k not in ("fd_dinov2", "clip_fid", "cmmd", "clip_score", "gan-train", "gan-test"))
    assert "class sub-folders" in reasons(ok, ref, [same])["gan-train"]
    assert "do not match" in reasons(ok, ref, [same, other])["ssim"]
    assert "classifier head" in reasons(ModelInfo("/m.onnx", False), ref, [same])["is"]
    missing = reasons(ModelInfo(None, False), ref, [same])
    assert "model build" in missing["fid"] and missing["ssim"] is None
    r = reasons(ok, stats, [same])
    assert "statistics file" in r["kid"] and "statistics file" in r["psnr"] and r["fid"] is None


def test_settings_are_versioned(tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path))
    from PySide6.QtCore import QSettings
    from gui.settings import SETTINGS_VERSION, VERSION_KEY, open_settings
    raw = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    raw.setValue("options/preset", "tensorflow")          # no version key: pre-versioning
    raw.sync()
    s = open_settings()
    assert s.value(VERSION_KEY) in (SETTINGS_VERSION, str(SETTINGS_VERSION))
    assert s.value("options/preset") is None
    s.setValue("options/preset", "clean")
    s.setValue(VERSION_KEY, SETTINGS_VERSION + 5)           # written by a newer version
    s.sync()
    assert open_settings().value("options/preset") is None


def test_excepthook_shows_plain_message_and_log(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path))
    from gui import crash
    monkeypatch.setitem(crash._state, "path", None)
    try:
        raise ValueError("bad thing happened")
    except ValueError as exc:
        crash._excepthook(type(exc), exc, exc.__traceback__)
    box = crash.last_dialog()
    assert "bad thing happened" in box.text() and "Traceback" not in box.text()
    assert str(tmp_path) in box.informativeText()
    assert "Traceback" in crash.log_path().read_text()
    box.close()


def test_drop_sets_reference_then_generated(qtbot, pair):
    from gui.main_window import MainWindow
    w = MainWindow()
    qtbot.addWidget(w)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in pair])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(w.sources.scans_settled, timeout=30000):
        w.dropEvent(ev)
    qtbot.waitUntil(lambda: w.sources.pending() == 0)
    assert w.sources.reference == str(pair[0]) and w.sources.generated() == [str(pair[1])]
    assert w.sources.ref_info.text() == "6 images"
    assert w.options.checks["ssim"].isEnabled()
    w.close()


class InlinePool(QThreadPool):
    """Runs each task inside ``start``: the task has finished before ``start`` returns, which
    a real pool does now and then with a fast scan (a small folder, a missing path)."""

    def start(self, runnable, priority=0):
        runnable.run()


def test_scans_settled_even_when_a_scan_ends_before_start_returns(qtbot, pair, tmp_path):
    from gui.sources_panel import SourcesPanel
    panel = SourcesPanel(InlinePool())
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.scans_settled, timeout=5000):
        panel.set_reference(str(pair[0]))
    with qtbot.waitSignal(panel.scans_settled, timeout=5000):
        panel.add_generated([str(pair[1]), str(tmp_path / "missing")])
    assert panel.pending() == 0 and isinstance(panel.scans[str(tmp_path / "missing")], str)


def _sweep_result(n, best_last=True):
    results = []
    for k in range(n):
        m = empty_metrics()
        fid = 100.0 - k if best_last else 50.0 + k
        m.update(fid=fid, kid_mean=0.001 * fid, kid_std=0.0)
        results.append(SourceResult(path=f"/ck/step_{(k + 1) * 1000:05d}", n_images=20, metrics=m,
                                    warnings=["KID from a single subset: both sets have 20 images",
                                              "FID is biased upward with fewer than 2048 images " * 3]))
    return RunResult(preset="clean", device="cpu", device_line="", seed=0, model=None,
                     reference={"path": "/x/ref", "n_images": 20, "skipped": []}, results=results,
                     options={"metrics": ["fid", "kid"]}, created="2026-01-01T00:00:00+00:00")


def test_kid_from_one_subset_says_so_instead_of_a_zero_spread():
    from reports.charts import value_text
    from reports.result_format import BY_KEY, cell
    r = _result({"kid_mean": 0.08815, "kid_std": 0.0}, ("kid",))
    r.results[0].extras["kid_single_subset"] = True
    assert cell(BY_KEY["kid"], r.results[0])[0] == "0.08815 (single subset)"
    assert value_text("kid_mean", 0.00123) == "0.00123" and value_text("fid", 12.345) == "12.35"


def test_sweep_labels_do_not_overlap_and_the_best_label_stays_inside(qtbot):
    from gui.sweep_plot import SweepPlot
    plot = SweepPlot()
    qtbot.addWidget(plot)
    plot.resize(420, 500)
    plot.show()
    plot.show_result(_sweep_result(12))
    qtbot.waitUntil(lambda: plot.fid.getViewBox().width() > 100)
    plot._fit_ticks(plot.fid)
    vb, axis = plot.fid.getViewBox(), plot.fid.getAxis("bottom")
    ticks = plot.shown_ticks(plot.fid)
    assert 1 < len(ticks) < 12
    from PySide6.QtGui import QFontMetrics
    fm = QFontMetrics(axis.style.get("tickFont") or plot.fid.font())
    (x0, x1), width = vb.viewRange()[0], vb.width()
    spans = [((x - x0) / (x1 - x0) * width - fm.horizontalAdvance(n) / 2,
              (x - x0) / (x1 - x0) * width + fm.horizontalAdvance(n) / 2) for x, n in ticks]
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))          # no label over the next
    label = plot.best_label.mapRectToScene(plot.best_label.boundingRect())
    frame = vb.mapRectToScene(vb.boundingRect())
    assert plot.best[0] == 11 and frame.left() <= label.left() and label.right() <= frame.right() + 1


def test_sweep_draws_fd_dinov2_of_a_logged_training_run(qtbot, tmp_path):
    """A training run logged with fd_dinov2 (Python API) plots it per step beside FID."""
    from types import MappingProxyType
    from engine.api.scores import Scores
    from engine.outputs.training_log import TrainingLog
    from gui.sweep_plot import SweepPlot
    with TrainingLog(tmp_path / "h.sqlite") as log:
        for step, (fid, fd) in zip((100, 200, 300), ((30.0, 400.0), (25.0, 350.0), (27.0, 300.0))):
            log.log("exp", step, Scores(metrics=MappingProxyType({"fid": fid, "fd_dinov2": fd}), n_images=8,
                                        n_reference=8, preset="clean", seed=0), reference="ref")
        result = log.as_result("exp")
    plot = SweepPlot()
    qtbot.addWidget(plot)
    plot.show()
    plot.show_result(result)
    dino = plot.space_plots["fd_dinov2"]
    assert dino.isVisible() and plot.fid.isVisible() and not plot.kid.isVisible()
    (curve,) = [i for i in dino.listDataItems()]
    xs, ys = curve.getData()
    assert list(xs) == [100, 200, 300] and list(ys) == [400.0, 350.0, 300.0]
    plot.show_result(_sweep_result(3))          # a run without it hides the plot again
    assert not dino.isVisible()


def test_warnings_cell_wraps_and_its_tooltip_lists_every_warning(qtbot):
    from gui.results_table import ResultsTable
    table = ResultsTable()
    qtbot.addWidget(table)
    r = _sweep_result(2)
    table.show_result(r)
    item = table.item(0, table.header_keys().index("warnings"))
    tip = item.toolTip()
    assert table.wordWrap() and tip.startswith("<qt>")
    assert all(w.split(":")[0] in tip for w in r.results[0].warnings)


def test_executor_is_an_advanced_setting_saved_with_the_others(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path))
    from gui.options_panel import OptionsPanel
    from gui.settings import open_settings
    panel = OptionsPanel()
    qtbot.addWidget(panel)
    assert panel.options().executor == "local" and not panel.ray_address.isEnabled()
    panel.executor.setCurrentIndex(panel.executor.findData("ray"))   # Ray is installed for the tests
    assert panel.ray_address.isEnabled()
    panel.ray_address.setText(" 10.0.0.5:6379 ")
    opts = panel.options()
    assert (opts.executor, opts.ray_address) == ("ray", "10.0.0.5:6379")
    s = open_settings()
    panel.save_settings(s)
    again = OptionsPanel()
    qtbot.addWidget(again)
    again.restore_settings(s)
    assert (again.options().executor, again.options().ray_address) == ("ray", "10.0.0.5:6379")
