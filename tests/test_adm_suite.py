"""The diffusion-paper evaluation end to end: ADM-layout batches, the ``adm`` suite, and the
same FID as the same images in folders (real ONNX model, real files, the real CLI)."""
import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from engine.features.pipeline import extract
from engine.features.presets import get_preset
from engine.inputs.sources import open_source
from engine.metrics import pr_adm
from engine.outputs.history import History
from engine.outputs.report_csv import to_csv_text
from engine.run import suites
from engine.run.job import run
from engine.run.options import ALL_METRICS, Options
from imagegen import make_image
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

N = 8


def _cli(*args):
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)


def _images(rng, shift):
    return np.stack([np.asarray(make_image(rng, (32, 32), shift)) for _ in range(N)])


def _folder(path, images):
    path.mkdir()
    for i, im in enumerate(images):
        Image.fromarray(im).save(path / f"img_{i:03d}.png")    # lossless: the same pixels
    return path


@pytest.fixture(scope="module")
def batches(tmp_path_factory, inference_model):
    """An ADM reference batch whose mu/sigma come from OTHER images than its arr_0, so a test
    can tell which of the two the FID used; samples as .npz and as a folder."""
    d = tmp_path_factory.mktemp("adm")
    rng = np.random.default_rng(7)
    ref_images, stats_images, samples = _images(rng, 0), _images(rng, 25), _images(rng, 80)
    stats_folder = _folder(d / "stats_images", stats_images)
    metrics = ("fid", "sfid") if "sfid" in ALL_METRICS else ("fid",)
    opts = Options(metrics=metrics, preset="tensorflow", device="cpu")
    ext = extract(open_source(stats_folder), get_preset("tensorflow"), inference_model, opts)
    arrays = {"arr_0": ref_images, "mu": ext.stats.mu, "sigma": ext.stats.sigma}
    if getattr(ext, "spatial_stats", None) is not None:
        arrays.update(mu_s=ext.spatial_stats.mu, sigma_s=ext.spatial_stats.sigma)
    np.savez(d / "ref_batch.npz", **arrays)
    np.savez(d / "samples.npz", samples)
    np.savez_compressed(d / "samples_nchw.npz", samples.transpose(0, 3, 1, 2))
    return {"dir": d, "ref": d / "ref_batch.npz", "samples": d / "samples.npz",
            "samples_nchw": d / "samples_nchw.npz", "stats_folder": stats_folder,
            "ref_folder": _folder(d / "ref_images", ref_images),
            "sample_folder": _folder(d / "sample_images", samples)}


def test_cli_adm_suite_on_adm_batches_matches_folders(batches, inference_model):
    out = _cli("compute", batches["ref"], batches["samples"], "--suite", "adm", "--device", "cpu")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["preset"] == "tensorflow" and data["options"]["suite"] == "adm"
    r = data["results"][0]
    m = r["metrics"]
    assert m["fid"] > 0 and 0 <= m["precision"] <= 1 and 0 <= m["recall"] <= 1
    assert m["density"] is None and r["extras"]["pr_convention"] == "adm"
    stats = data["reference"]["statistics"]
    assert stats["fid"] == "precomputed mu, sigma in ref_batch.npz"
    assert stats["pr"] == f"computed from {N} images"
    if "sfid" in ALL_METRICS:
        assert m["sfid"] > 0 and stats["sfid"] == "precomputed mu_s, sigma_s in ref_batch.npz"
    else:
        assert "sfid: not available in this build of FID Studio (part of the adm suite)" in r["warnings"]
    assert any("fid from its precomputed statistics" in w for w in r["warnings"])
    # the same generated images in a folder, against a folder of the images the stats came from
    folders = run(batches["stats_folder"], [batches["sample_folder"]],
                  Options(metrics=("fid",), preset="tensorflow", device="cpu"), model=inference_model)
    want = folders.results[0].metrics["fid"]
    assert abs(m["fid"] - want) <= 1e-9 * want
    # precision/recall used the reference batch's images (arr_0), not the stats images
    tf = get_preset("tensorflow")
    opts = Options(metrics=("pr",), preset="tensorflow", device="cpu")
    real = extract(open_source(batches["ref_folder"]), tf, inference_model, opts).features
    fake = extract(open_source(batches["sample_folder"]), tf, inference_model, opts).features
    pv = pr_adm.compute(real, fake, 3)
    assert (m["precision"], m["recall"]) == (pv.precision, pv.recall)


def test_layout_and_compression_change_nothing(batches, inference_model, tmp_path):
    opts = suites.apply("adm", Options(device="cpu"))
    plain = run(batches["ref"], [batches["samples"]], opts, model=inference_model)
    nchw = run(batches["ref"], [batches["samples_nchw"]], opts, model=inference_model)
    for key in ("fid", "precision", "recall"):
        assert nchw.results[0].metrics[key] == plain.results[0].metrics[key], key
    assert nchw.results[0].n_images == N
    # an array run goes into the history and the CSV like a folder run
    with History(tmp_path / "h.sqlite3") as h:
        back = h.load(h.add(nchw))
    assert back.reference["statistics"] == nchw.reference["statistics"]
    assert back.results[0].metrics["fid"] == nchw.results[0].metrics["fid"]
    row = next(csv.DictReader(io.StringIO(to_csv_text(nchw))))
    assert row["source"].endswith("samples_nchw.npz") and float(row["fid"]) == nchw.results[0].metrics["fid"]


def test_precomputed_statistics_with_another_preset_warn(batches, inference_model):
    res = run(batches["ref"], [batches["samples"]], Options(metrics=("fid",), preset="clean", device="cpu"),
              model=inference_model)
    r = res.results[0]
    assert r.metrics["fid"] > 0 and res.reference["n_images"] == 0   # FID alone: arr_0 not read
    assert any("FID/sFID are not comparable" in w for w in r.warnings)


def test_suite_fixes_preset_and_metrics_on_the_cli(batches):
    out = _cli("compute", batches["ref"], batches["samples"], "--suite", "adm", "--preset", "clean")
    assert out.returncode == 2 and "--suite adm fixes the preset and the metrics" in out.stderr


def test_stats_in_adm_layout(batches):
    out_path = batches["dir"] / "adm_stats.npz"
    out = _cli("stats", batches["sample_folder"], "-o", out_path, "--format", "adm", "--device", "cpu")
    if "sfid" not in ALL_METRICS:
        assert out.returncode == 2 and "mu_s, sigma_s" in out.stderr and not out_path.exists()
        return
    assert out.returncode == 0, out.stderr
    with np.load(out_path, allow_pickle=False) as z:
        assert set(z.files) == {"mu", "sigma", "mu_s", "sigma_s"}
        assert z["sigma"].shape == (2048, 2048) and z["sigma_s"].shape == (2023, 2023)
    # and it reads back as a reference with precomputed statistics for FID and sFID
    assert open_source(out_path).kind == "stats"
