"""GAN-train / GAN-test in the window and the reports (pytest-qt, offscreen, real engine and
ONNX model, small real images in class sub-folders): availability, the validation-folder
picker, a run that fills the table, the per-class table and the diversity sweep, and the
PDF / CSV exports."""
from __future__ import annotations

import csv
import dataclasses
import math

import numpy as np
import pytest
from pdf_text import pdf_text
from test_gui_support import base_images, make_window, single_blas_thread, write_set

from engine.errors import CancelToken
from engine.run.job import run as engine_run
from engine.run.options import Options
from reports.result_format import BY_KEY, cell

pytestmark = pytest.mark.skipif(__import__("models").find_model() is None,
                                reason="needs the built ONNX model (python main.py model build)")
RUN_TIMEOUT = 240_000
COLOURS = {"blues": (40, 60, 210), "greens": (40, 190, 70), "reds": (210, 40, 40)}   # sorted names
GAN_METRICS = ("gan-train", "gan-test")


@pytest.fixture(scope="module", autouse=True)
def _blas():
    with single_blas_thread():
        yield


def class_set(folder, n, seed, noise=8.0, rotate=0):
    """``n`` 32-px images per class, each class a distinct colour; ``rotate`` shifts which
    colour lands in which folder (wrong labels)."""
    names = list(COLOURS)
    for k, name in enumerate(names):
        tint = np.array(COLOURS[names[(k + rotate) % len(names)]], dtype=float)
        imgs = [0.35 * im + 0.65 * tint for im in base_images(n, size=32, seed=seed + 17 * k)]
        write_set(folder / name, imgs, noise=noise, seed=seed + k)
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("gan_gui")
    return {"real": class_set(root / "real", 16, seed=1),
            "val": class_set(root / "val", 4, seed=50),
            "good": class_set(root / "good", 24, seed=100, noise=14),
            "wrong": class_set(root / "wrong", 24, seed=200, noise=14, rotate=1),
            "flat": write_set(root / "flat", base_images(8, size=32, seed=9)),
            "one": write_set(root / "one" / "only", base_images(8, size=32, seed=11)).parent}


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))
    return tmp_path


def set_sources(qtbot, w, ref, gens):
    w.sources.clear_generated()
    with qtbot.waitSignal(w.sources.scans_settled, timeout=30000):
        w.sources.set_reference(str(ref))
        w.sources.add_generated([str(g) for g in gens])
    qtbot.waitUntil(lambda: w.sources.pending() == 0, timeout=30000)


def test_availability_needs_class_folders_on_both_sides(qtbot, data, env):
    w = make_window(qtbot)
    checks = [w.options.checks[m] for m in GAN_METRICS]
    set_sources(qtbot, w, data["real"], [data["good"], data["flat"]])
    for cb in checks:
        assert not cb.isEnabled()
        assert "class sub-folders" in cb.toolTip() and "flat" in cb.toolTip()
    assert "GAN-train / GAN-test unavailable: flat has no class sub-folders" in w.options.hint.text()
    assert w.options.checks["fid"].isEnabled()

    set_sources(qtbot, w, data["real"], [data["good"], data["wrong"]])
    assert all(cb.isEnabled() for cb in checks)
    assert "GAN" not in w.options.hint.text()

    set_sources(qtbot, w, data["flat"], [data["good"]])          # reference without classes
    assert not checks[0].isEnabled() and "the reference has fewer than two" in checks[0].toolTip()
    assert "GAN-train / GAN-test unavailable" in w.options.hint.text()

    set_sources(qtbot, w, data["real"], [data["one"]])           # a single class is not enough
    assert not checks[1].isEnabled() and "one" in checks[1].toolTip()


def test_validation_folder_picker_is_shown_for_gan_metrics_and_kept(qtbot, data, env, monkeypatch):
    from gui import options_panel
    w = make_window(qtbot)
    set_sources(qtbot, w, data["real"], [data["good"]])
    picker = w.options.val_folder
    w.options.set_metrics(("fid",))
    assert not picker.isVisibleTo(w.options) and w.options.val_path() is None
    w.options.set_metrics(("fid", "gan-test"))
    assert picker.isVisibleTo(w.options) and w.options.val_path() is None   # optional

    class Dialog:
        @staticmethod
        def getExistingDirectory(*args):
            return str(data["val"])
    monkeypatch.setattr(options_panel, "QFileDialog", Dialog)
    picker.choose_button.click()
    assert w.options.val_path() == str(data["val"]) and picker.label.text() == "val"
    w.options.set_metrics(("fid",))
    assert w.options.val_path() is None                            # not used without a GAN metric
    w.options.set_metrics(GAN_METRICS)
    w.close()

    w2 = make_window(qtbot)                                        # restart: same settings file
    assert w2.options.val_folder.path == str(data["val"])
    qtbot.waitUntil(lambda: w2.sources.pending() == 0, timeout=30000)
    set_sources(qtbot, w2, data["real"], [data["good"]])
    assert w2.options.val_path() == str(data["val"])
    w2.options.val_folder.clear_button.click()
    assert w2.options.val_path() is None


def test_gan_run_fills_table_per_class_and_sweep(qtbot, data, env):
    w = make_window(qtbot)
    set_sources(qtbot, w, data["real"], [data["good"], data["wrong"]])
    w.options.set_metrics(GAN_METRICS)
    w.options.val_folder.set_path(str(data["val"]))
    w.options.batch.setValue(16)
    opts = w.options.options()
    with qtbot.waitSignal(w.run_ended, timeout=RUN_TIMEOUT) as blocker:
        assert w.start_run()
    assert blocker.args[0] == "finished", w.last_error
    assert any(r.role == "validation" for r in w.runner.state.rows)

    expected = engine_run(str(data["real"]), w.sources.generated(), opts, val_path=str(data["val"]),
                          cancel=CancelToken())
    table = w.table
    assert {"gan_train", "gan_test", "real_baseline"} <= set(table.header_keys())
    for row, src in enumerate(expected.results):
        assert src.extras["gan_split"]["mode"] == "separate real validation set"
        for key in ("gan_train", "gan_test", "real_baseline"):
            text, raw, _ = cell(BY_KEY[key], src)
            assert table.text(row, key) == text == f"{100 * raw:.1f}%"
            assert table.raw(row, key) == pytest.approx(raw, rel=1e-12)
    good, wrong = expected.results
    assert good.metrics["gan_train"] >= 0.9 and wrong.metrics["gan_train"] <= 0.5

    page = w.classes
    assert w.results_tab.views.currentWidget() is page and page.isVisible()
    assert "Linear probe" in page.method.text() and "separate folder" in page.method.text()
    assert page.method.isVisible()
    # per-class table: one row per (source, class), the engine's values
    assert page.table.rowCount() == 2 * len(COLOURS)
    for row in range(page.table.rowCount()):
        src, name = page.raw(row, "source"), page.raw(row, "class")
        for key in ("gan_train", "gan_test", "real_baseline"):
            assert page.raw(row, key) == pytest.approx(expected.results[src].metrics["per_class"][name][key])
    # diversity sweep: one pair of curves per source, a point for each measured size, log x
    assert len(page.curves) == 4
    assert page.plot.getPlotItem().getAxis("bottom").logMode
    for curve in page.curves:
        sweep = expected.results[curve.source].metrics["sweep"]
        want = [(s, v) for s, v in zip(sweep["sizes"], sweep[curve.kind]) if v is not None]
        assert curve.xs == [s for s, _ in want] and curve.ys == pytest.approx([v for _, v in want])
    n_points = {c.kind: len(c.xs) for c in page.curves if c.source == 0}
    assert n_points == {"gan_train": 6, "real": 5}      # sizes 10, 11, 13, 14, 16 + 24 generated/class
    drawn = [item for item in page.plot.getPlotItem().listDataItems()]
    assert sorted(len(item.getData()[0]) for item in drawn) == sorted(len(c.xs) for c in page.curves)

    # the memorisation flag, when the engine sets it, is a visible line
    flagged = dataclasses.replace(w.current, results=[dataclasses.replace(
        w.current.results[0], extras={**w.current.results[0].extras, "gan_memorisation_flag": True})])
    w.show_result(flagged)
    assert page.flags.isVisible() and "Possible memorisation" in page.flags.text()
    assert len(page.curves) == 2


@pytest.fixture(scope="module")
def gan_result(data):
    return engine_run(str(data["real"]), [str(data["good"]), str(data["wrong"])],
                      Options(metrics=("fid",) + GAN_METRICS, batch_size=16, workers=2))


def test_pdf_has_gan_scores_method_per_class_and_sweep(gan_result, tmp_path, qapp):
    from reports.charts import charts_for
    from reports.pdf import write_pdf
    titles = [t for t, _ in charts_for(gan_result)]
    assert "GAN-train diversity sweep" in titles
    path = tmp_path / "gan.pdf"
    write_pdf(path, gan_result)
    text = pdf_text(path)
    flat = " ".join(text.split())
    assert "GAN-train" in text and "GAN-test" in text and "Real baseline" in text
    assert "linear probe" in flat.lower() and "not the CNN" in flat
    assert "Accuracy per class" in text and all(name in text for name in COLOURS)
    assert "stratified 80/20 split" in flat                       # no validation folder given
    for r in gan_result.results:
        assert f"{100 * r.metrics['gan_train']:.1f}%" in text


def test_csv_has_the_gan_columns(gan_result, tmp_path):
    from gui.exporting import export
    path = tmp_path / "gan.csv"
    export(gan_result, path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 2
    for row, src in zip(rows, gan_result.results):
        for key in ("gan_train", "gan_test", "real_baseline"):
            assert float(row[key]) == src.metrics[key] and 0.0 <= float(row[key]) <= 1.0
        assert math.isfinite(float(row["fid"]))


def test_sweep_chart_and_notes_without_a_window(gan_result, qapp):
    from reports import class_format as cf
    from reports.charts import gan_sweep_chart
    img = gan_sweep_chart(gan_result)
    assert img is not None and not img.isNull()
    assert len(cf.sweep_curves(gan_result)) == 4
    assert cf.chance_line(gan_result) == "Chance level: 33.3% (3 classes)."
    no_gan = dataclasses.replace(gan_result, options={**gan_result.options, "metrics": ["fid"]})
    assert not cf.has_class_results(no_gan) and gan_sweep_chart(no_gan) is None
