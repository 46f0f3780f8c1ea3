"""sFID, FID∞ and the FID interval wherever FID goes: CLI JSON, CSV, run history (old
databases migrated), GUI table, sweep plot error bars and the PDF."""
import csv
import json
import sqlite3
import subprocess
import sys

import pytest

from conftest import ROOT
from imagegen import make_folder

from engine.outputs.history import History
from engine.run.result import RunResult, SourceResult, empty_metrics
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

NEW_KEYS = ("sfid", "fid_inf", "fid_ci_low", "fid_ci_high")


@pytest.fixture(scope="module")
def cli_run(model_path, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fidfamily")
    ref = make_folder(tmp / "ref", 24, seed=1, size=(32, 32))
    gen = make_folder(tmp / "gen", 24, seed=2, size=(32, 32), shift=50)
    out = subprocess.run([sys.executable, "main.py", "compute", str(ref), str(gen), "--metrics",
                          "sfid,fid_inf,fid_ci", "--fid-ci-resamples", "10", "--device", "cpu",
                          "--csv", str(tmp / "r.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), list(csv.DictReader((tmp / "r.csv").open()))


def test_cli_json_and_csv_carry_the_new_metrics(cli_run):
    data, rows = cli_run
    r = data["results"][0]
    m = r["metrics"]
    assert all(m[k] is not None for k in NEW_KEYS), r["warnings"]
    assert m["fid"] is not None  # the interval is around the FID, so it is reported too
    assert m["fid_ci_low"] < m["fid"] < m["fid_ci_high"]
    assert m["sfid"] > 0 and m["sfid"] != m["fid"]
    assert m["fid_inf"] < m["fid"]  # the finite-N bias is positive
    ci = r["extras"]["fid_ci"]
    assert ci["resamples"] == 10 and ci["level"] == 0.95 and ci["seconds"] >= 0
    fit = r["extras"]["fid_inf_fit"]
    assert len(fit["sizes"]) == 15 and fit["sizes"][-1] == 24 and len(fit["fids"]) == 15
    assert any("FID∞ extrapolated" in w for w in r["warnings"])  # far fewer than 50,000 images
    for k in NEW_KEYS + ("fid",):
        assert float(rows[0][k]) == m[k]


def test_fid_inf_and_interval_refuse_a_stats_file_for_generated(model_path, tmp_path):
    import numpy as np
    from engine.run.job import run
    from engine.run.options import Options
    ref = make_folder(tmp_path / "ref", 4, seed=1, size=(32, 32))
    np.savez(tmp_path / "g.npz", mu=np.zeros(2048), sigma=np.eye(2048))
    res = run(ref, [tmp_path / "g.npz"], Options(metrics=("fid", "fid_inf", "fid_ci"), device="cpu"),
              cache_root=tmp_path / "c").results[0]
    assert res.metrics["fid"] is not None
    assert res.metrics["fid_inf"] is None and res.metrics["fid_ci_low"] is None
    assert any("need generated images, not a stats file" in w for w in res.warnings)


def _result(chosen=("fid", "fid_ci", "sfid", "fid_inf")):
    results = []
    for i, (fid, half) in enumerate(((14.0, 0.5), (12.0, 0.8), (12.5, 0.3))):
        m = empty_metrics()
        m.update(fid=fid, fid_ci_low=fid - half, fid_ci_high=fid + half, sfid=fid / 2, fid_inf=fid - 1)
        results.append(SourceResult(path=f"/runs/step_{(i + 1) * 1000:06d}", n_images=100, metrics=m))
    return RunResult(preset="tensorflow", device="cpu", device_line="", seed=0, model=None,
                     reference={"path": "/ref", "n_images": 100, "skipped": []}, results=results,
                     options={"metrics": list(chosen)}, created="2026-01-01T00:00:00+00:00")


def test_history_stores_sfid_and_migrates_old_databases(tmp_path):
    db = tmp_path / "h.sqlite3"
    with History(db) as h:
        run_id = h.add(_result())
        (summary,) = h.runs()
        assert summary.best_fid == 12.0 and summary.best_sfid == 6.0
        back = h.load(run_id)
    assert [r.metrics["fid_ci_low"] for r in back.results] == [13.5, 11.2, 12.2]
    # a database written before sFID (schema 1, no sfid column) is upgraded in place
    old = tmp_path / "old.sqlite3"
    with History(old) as h:
        h.add(_result())
    con = sqlite3.connect(old)
    con.executescript("ALTER TABLE sources DROP COLUMN sfid; PRAGMA user_version = 1;")
    con.close()
    with History(old) as h:
        assert h.runs()[0].best_sfid is None      # old rows: unknown
        h.add(_result())
        assert h.runs()[0].best_sfid == 6.0


def test_table_shows_the_interval_and_the_plot_its_error_bars(qtbot):
    from reports.result_format import BY_KEY, cell, columns_for
    from gui.results_table import ResultsTable
    from gui.sweep_plot import SweepPlot
    res = _result()
    keys = [c.key for c in columns_for(res)]
    assert keys[3:7] == ["fid", "fid_ci", "fid_inf", "sfid"]
    assert cell(BY_KEY["fid_ci"], res.results[1])[0] == "± 0.800 (11.200–12.800)"
    table = ResultsTable()
    qtbot.addWidget(table)
    table.show_result(res)
    assert table.text(0, "fid_ci") == "± 0.500 (13.500–14.500)"
    assert table.text(2, "sfid") == "6.250" and table.text(2, "fid_inf") == "11.500"
    plot = SweepPlot()
    qtbot.addWidget(plot)
    plot.show_result(res)
    assert plot.error_bars == [(1000, 13.5, 14.5), (2000, 11.2, 12.8), (3000, 12.2, 12.8)]
    lo, hi = plot.fid.getViewBox().viewRange()[1]
    assert lo < 11.2 and hi > 14.5  # the bars are inside the view
    plain = _result(chosen=("fid",))
    for r in plain.results:
        r.metrics.update(fid_ci_low=None, fid_ci_high=None)
    plot.show_result(plain)
    assert plot.error_bars == [] and len(plot.points) == 3


def test_pdf_has_the_new_columns(qapp):
    from reports.pdf import metrics_tables
    html = metrics_tables(_result())
    for text in ("FID 95% CI", "FID∞", "sFID", "± 0.300 (12.200–12.800)"):
        assert text in html


def test_pdf_sweep_chart_draws_the_intervals(qapp):
    from reports.charts import _fid_intervals, sweep_chart
    from reports.plot_data import sweep_points
    res = _result()
    xs, _, _, idx, _ = sweep_points(res, "fid")
    assert _fid_intervals(res, xs, idx) == [(1000, 13.5, 14.5), (2000, 11.2, 12.8), (3000, 12.2, 12.8)]
    with_bars = sweep_chart(res)
    for r in res.results:
        r.metrics.update(fid_ci_low=None, fid_ci_high=None)
    without = sweep_chart(res)
    assert with_bars is not None and without is not None and with_bars != without
