"""Exports: the PDF report (Qt, selectable text, works without a window), CSV and JSON,
all atomic; a failed export says so and leaves no file."""
from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pdf_text import page_count as pdf_pages
from pdf_text import page_text, pdf_text
from test_gui_support import base_images, single_blas_thread, write_set

from engine.run.options import Options
from engine.run.result import RunResult

ROOT = Path(__file__).resolve().parents[1]
needs_model = pytest.mark.skipif(__import__("models").find_model() is None,
                                 reason="needs the built ONNX model (python main.py model build)")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_data")
    imgs = base_images(12, seed=3)
    ref = write_set(root / "ref", imgs)
    g1 = write_set(root / "gen" / "step_100", imgs[:10], noise=60, seed=1)
    g2 = write_set(root / "gen" / "step_200", imgs[:10], noise=20, seed=2)
    (g1 / "broken.png").write_bytes(b"\x89PNG truncated")
    return root, ref, [g1, g2]


@pytest.fixture(scope="module")
def result(folders):
    from engine.run.job import run
    _, ref, gens = folders
    with single_blas_thread():
        return run(str(ref), [str(g) for g in gens],
                   Options(metrics=("fid", "kid", "ssim", "mse", "psnr"), batch_size=8, workers=2))


@needs_model
def test_pdf_report_pages_and_text(result, tmp_path, qapp):
    from reports.charts import charts_for
    from reports.pdf import CHARTS_PER_PAGE, write_pdf
    path = tmp_path / "report.pdf"
    pages = write_pdf(path, result)
    n_charts = len(charts_for(result))
    assert n_charts >= 3          # FID sweep, KID sweep, SSIM histogram (+ running FID)
    expected = 1 + math.ceil(n_charts / CHARTS_PER_PAGE) + 1
    assert pages == expected == pdf_pages(path)
    assert path.read_bytes().startswith(b"%PDF-") and not list(tmp_path.glob(".*.part"))
    first = page_text(path, 1)
    for needle in ("FID Studio report", "Results", "Settings and provenance", result.model["sha256"],
                   "clean", "step_100", "step_200", "Seed", result.versions["numpy"]):
        assert needle in first, needle
    best = min(result.results, key=lambda r: r.metrics["fid"])
    assert f"{best.metrics['fid']:.3f}" in first
    assert "Plots" in page_text(path, 2)
    last = page_text(path, pages)
    assert "Skipped files and warnings" in last and "broken.png" in last
    for i in range(1, pages + 1):
        assert f"page {i} of {pages}" in page_text(path, i)


@needs_model
def test_csv_parses_back_to_the_same_numbers(result, tmp_path):
    from gui.exporting import export
    path = tmp_path / "r.csv"
    export(result, path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["source"] for r in rows] == [r.path for r in result.results]
    for row, src in zip(rows, result.results):
        for key, value in src.to_dict()["metrics"].items():
            if key not in row:
                continue
            assert (row[key] == "") if value is None else float(row[key]) == value, key
        assert int(row["n_images"]) == src.n_images and int(row["skipped"]) == len(src.skipped)


@needs_model
def test_json_export_is_the_cli_schema(result, tmp_path):
    from gui.exporting import export
    path = tmp_path / "r.json"
    export(result, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(result.to_dict()))
    assert RunResult.from_dict(data).to_dict() == data


@needs_model
def test_failed_export_says_so_and_leaves_no_file(result, tmp_path, qtbot, monkeypatch):
    from gui import crash
    from reports import pdf as report_pdf
    from gui.exporting import export_with_message
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    for name in ("x.pdf", "x.csv", "x.json"):
        assert not export_with_message(None, result, blocker / name)
        box = crash.last_dialog()
        assert "Could not write" in box.text() and "Nothing was written" in box.text()
        box.close()
    # a failure in the middle of writing the PDF: the half-written temp file is removed
    target = tmp_path / "half.pdf"

    def broken_render(path, *_):
        Path(path).write_bytes(b"%PDF-1.4 half")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(report_pdf, "_render", broken_render)
    assert not export_with_message(None, result, target)
    assert "No space left on device" in crash.last_dialog().text()
    assert not target.exists() and os.listdir(tmp_path) == ["not_a_folder"]


def test_pdf_without_any_window_and_cli_pdf(folders, tmp_path):
    """The CLI's --pdf path: a fresh process, no QApplication, no display."""
    _, ref, gens = folders
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONPATH"] = str(ROOT)
    out = tmp_path / "cli.pdf"
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "compute", str(ref), str(gens[1]),
                           "--metrics", "ssim,mse,psnr", "--pdf", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = pdf_text(out)
    assert "FID Studio report" in text and "SSIM" in text and "PSNR" in text
    assert pdf_pages(out) == 3      # results + settings, the SSIM histogram, problems


def test_the_report_writers_load_no_window_code():
    """The command line writes its PDF through reports/: loading the writers (and the CLI)
    brings in neither gui/ nor pyqtgraph, only Qt's painting classes."""
    code = ("import sys, cli, reports.pdf, reports.charts, reports.samples_pages, reports.plot_data;"
            "tops = {m.split('.')[0] for m in sys.modules};"
            "print(sorted(tops & {'gui', 'pyqtgraph', 'PySide6'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "['PySide6']", out.stdout
