"""The command line as a user runs it: a subprocess, JSON on stdout, one-line errors."""
import csv
import json
import subprocess
import sys

from conftest import ROOT
from imagegen import make_folder
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

KEYS = {"version", "preset", "device", "seed", "model", "reference", "results"}
METRIC_KEYS = {"fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall", "density",
               "coverage", "ssim", "mse", "psnr", "n_pairs"}


def _cli(*args):
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_compute_prints_json_with_stable_keys(tmp_path, model_path):
    ref = make_folder(tmp_path / "ref", 6, seed=1, size=(32, 32))
    gen = make_folder(tmp_path / "gen", 6, seed=2, size=(32, 32), shift=50)
    out = _cli("compute", ref, gen, "--metrics", "fid,is,ssim", "--device", "cpu",
               "--json", tmp_path / "r.json", "--csv", tmp_path / "r.csv")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert KEYS <= set(data) and data["preset"] == "clean" and data["device"] == "cpu"
    assert {"path", "sha256", "body_sha256", "has_logits", "is_head_sha256", "precision",
            "provider_options", "has_spatial"} <= set(data["model"])
    assert len(data["model"]["sha256"]) == 64 and data["model"]["body_sha256"] == data["model"]["sha256"]
    r = data["results"][0]
    assert {"path", "n_images", "skipped", "warnings", "metrics"} <= set(r)
    assert METRIC_KEYS <= set(r["metrics"])
    assert r["metrics"]["fid"] > 0 and r["metrics"]["kid_mean"] is None and r["metrics"]["is_mean"] is None
    assert any("Inception Score needs the 1008-class classifier head" in w for w in r["warnings"])
    assert json.loads((tmp_path / "r.json").read_text()) == data
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert float(rows[0]["fid"]) == r["metrics"]["fid"] and rows[0]["is_mean"] == ""
    assert "Running on CPU" in out.stderr and "img/s" in out.stderr


def test_fatal_problems_exit_nonzero_with_one_line(tmp_path):
    out = _cli("compute", tmp_path / "nope", tmp_path / "nope2")
    assert out.returncode == 2 and out.stderr.strip().count("\n") == 0
    assert out.stderr.startswith("error: source not found")
    (tmp_path / "empty").mkdir()
    make_folder(tmp_path / "ok", 2, seed=1)
    out = _cli("compute", tmp_path / "ok", tmp_path / "empty")
    assert out.returncode == 2 and "no images found" in out.stderr
    out = _cli("compute", tmp_path / "ok", tmp_path / "ok", "--metrics", "fid,lpips")
    assert out.returncode == 2 and "unknown metric" in out.stderr


def test_help_everywhere():
    for args in ((), ("compute",), ("stats",), ("model", "build"), ("model", "add-is-head")):
        out = _cli(*args, "--help")
        assert out.returncode == 0 and "usage:" in out.stdout
