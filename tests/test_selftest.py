"""`--selftest` from source (the bundle runs the same module; CI runs it there too)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import selftest

ROOT = Path(__file__).resolve().parents[1]


def test_selftest_passes_from_source(model_path, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FID_STUDIO_MODEL=str(model_path),
               FID_STUDIO_CACHE_DIR=str(tmp_path / "cache"), FID_STUDIO_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--selftest", "--device", "cpu",
                           "--keep", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-test passed" in proc.stdout
    assert (tmp_path / "out" / "selftest.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "out" / "selftest.csv").is_file()


def test_selftest_says_when_the_model_is_missing(monkeypatch, capsys, tmp_path):
    import models
    monkeypatch.setattr(models, "find_model", lambda: None)
    assert selftest.main(["--keep", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "SELFTEST FAILED" in err and "model was not found" in err


def test_shipped_images_are_present_and_paired():
    d = selftest.images_dir()
    ref = sorted(p.name for p in (d / "reference").glob("*.png"))
    gen = sorted(p.name for p in (d / "generated").glob("*.png"))
    assert ref == gen and len(ref) == selftest.N_PAIRS


def test_pdf_text_reads_qt_pdf(qapp, tmp_path):
    from PySide6.QtGui import QPdfWriter, QTextDocument
    doc = QTextDocument()
    doc.setHtml("<h1>FID Studio</h1><table><tr><td>FID</td><td>227.1071</td></tr>"
                "<tr><td>SSIM</td><td><b>0.7785</b></td></tr></table>")
    path = tmp_path / "t.pdf"
    doc.print_(QPdfWriter(str(path)))
    text = selftest.pdf_text(path.read_bytes())
    assert "FID Studio" in text and "227.1071" in text and "0.7785" in text


@pytest.mark.parametrize("value, printed", [(227.1070868819225, "227.11"), (0.7785385827854023, "0.7785"),
                                            (0.7785385827854023, "0.778539")])
def test_number_forms_cover_common_roundings(value, printed):
    assert printed in selftest.number_forms(value)
