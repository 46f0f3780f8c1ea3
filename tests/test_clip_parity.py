"""CLIP-FID and CMMD from a `compute` run equal the reference tools' values: the seeded image
sets of tests/fixtures/clip/reference.json written as PNG folders exactly as the reference
script wrote them (one-channel files for the 'gray' images), scored by the engine with the
2-block stand-ins (conftest ``clip_model_paths``), against clean-fid 0.1.35's own CLIP-FID
(its `compute_fid(model_name="clip_vit_b_32")` on the CPU) and the float64 CMMD of the
reference embeddings (clip.load + cmmd's io_util preprocessing)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from cli_here import cli_here
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)
from engine.run.job import run
from engine.run.options import Options
from models.clip.standin import standin_images

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "clip" / "reference.json").read_text())


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clip_sets")
    out = {}
    for style in (0, 1):
        d = out[f"set{style}"] = root / f"set{style}"
        d.mkdir()
        for name, arr in standin_images(style):
            im = Image.fromarray(arr[..., 0], "L") if name.endswith("gray") else Image.fromarray(arr, "RGB")
            im.save(d / f"{name}.png")
    return out


@pytest.fixture(scope="module")
def result(folders, clip_model_paths):
    opts = Options(metrics=("clip_fid", "cmmd"), device="cpu",
                   clip_model_path=str(clip_model_paths["vitb32"]),
                   clip_l336_model_path=str(clip_model_paths["vitl14-336"]))
    return run(folders["set0"], [folders["set1"]], opts)


def test_clip_fid_equals_clean_fid(result):
    want = REFERENCE["variants"]["vitb32"]["depths"]["2"]["clip_fid_cleanfid"]
    (res,) = result.results
    assert res.metrics["clip_fid"] == pytest.approx(want, rel=1e-5)
    assert res.extras["spaces"]["clip_fid"] == "clip/clean-fid"
    assert result.spaces["clip"]["equals"].startswith("clean-fid 0.1.35")


def test_cmmd_equals_the_float64_reference(result):
    depth2 = REFERENCE["variants"]["vitl14-336"]["depths"]["2"]
    (res,) = result.results
    assert res.metrics["cmmd"] == pytest.approx(depth2["cmmd_float64"], rel=1e-4)
    # closer to the exact value than the reference code's own float32 computation
    assert abs(res.metrics["cmmd"] - depth2["cmmd_float64"]) < abs(depth2["cmmd_float32"] - depth2["cmmd_float64"])
    assert res.extras["cmmd"]["n_reference"] == res.extras["cmmd"]["n_generated"] == 6


def test_cli_compute_gives_the_same_numbers(folders, clip_model_paths, result, capfd, monkeypatch, tmp_path):
    """`compute` finds models in the data folder, where `model add` puts them."""
    models_dir = tmp_path / "data" / "models"
    models_dir.mkdir(parents=True)
    for variant, path in clip_model_paths.items():
        for f in (path, path.with_name(path.name + ".json")):
            (models_dir / f.name).symlink_to(f)
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    got = cli_here(capfd, "compute", str(folders["set0"]), str(folders["set1"]), "--metrics", "clip_fid,cmmd",
                   "--device", "cpu")
    assert got.returncode == 0, got.stderr
    metrics = json.loads(got.stdout)["results"][0]["metrics"]
    (res,) = result.results
    assert metrics["clip_fid"] == res.metrics["clip_fid"] and metrics["cmmd"] == res.metrics["cmmd"]
