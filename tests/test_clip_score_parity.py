"""CLIPScore through ``compute``: the committed reference images and prompts (tests/fixtures/
clipscore, made by tests/reference/make_clipscore_reference.py with torchmetrics 1.9 and
jmhessel/clipscore on the same 2-block stand-ins) written as a folder with ``prompts.csv`` beside
it, the towers where ``model add`` puts them; the value and every per-image score equal the
tools' within 1e-5 relative, in both conventions. The prompts include one longer than 77 tokens,
non-ASCII text, an empty prompt, white space and a line break."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli_here import cli_here
from test_clip_score_run import install

FIX = Path(__file__).parent / "fixtures" / "clipscore"
META = json.loads((FIX / "reference.json").read_text())
REF = np.load(FIX / "reference.npz")
KEY = {"torchmetrics": "torchmetrics_d2", "hessel": "hessel_d2"}


@pytest.fixture(scope="module")
def t2i_folder(tmp_path_factory):
    """(reference folder, generated folder with prompts.csv, file names in the reference's order)."""
    from models.clip.standin import standin_images
    root = tmp_path_factory.mktemp("clipscore_e2e")
    gen, ref = root / "gen", root / "ref"
    gen.mkdir()
    ref.mkdir()
    names = []
    for k, (name, arr) in enumerate(standin_images(0)):
        Image.fromarray(arr, "RGB").save(gen / f"{name}.png")
        Image.fromarray(arr[::-1].copy(), "RGB").save(ref / f"r{k}.png")
        names.append(f"{name}.png")
    with open(gen / "prompts.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "prompt"])
        w.writerows(zip(names, META["cases"]))
    return ref, gen, names


@pytest.fixture
def added(clipscore_models, clip_vocab_path, tmp_path, monkeypatch):
    """Both variants' towers and the vocabulary where `model add` puts them."""
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    install([*clipscore_models["vitl14"], *clipscore_models["vitb32"], clip_vocab_path], tmp_path / "data")


def _check(out, names, convention):
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)["results"][0]
    ref = META["conventions"][KEY[convention]]
    assert res["metrics"]["clip_score"] == pytest.approx(ref["value"], rel=1e-5, abs=1e-6)
    info = res["extras"]["clip_score"]
    assert (info["n_images"], info["n_truncated"], info["convention"]) == (len(names), 1, convention)
    assert info["prompts_from"] == "prompts.csv"
    return res


@pytest.mark.parametrize("convention", ["torchmetrics", "hessel"])
def test_compute_equals_the_tools(t2i_folder, added, capfd, tmp_path, convention):
    ref_dir, gen, names = t2i_folder
    per_csv = tmp_path / "per_image.csv"
    out = cli_here(capfd, "compute", ref_dir, gen, "--metrics", "clip_score", "--clip-score-convention",
                   convention, "--device", "cpu", "--no-cache", "--per-image", per_csv)
    _check(out, names, convention)
    rows = {r["file"]: r for r in csv.DictReader(per_csv.open(encoding="utf-8"))}
    got = np.array([float(rows[n]["clip_score"]) for n in names])
    np.testing.assert_allclose(got, REF[f"{KEY[convention]}_per"], rtol=1e-5, atol=1e-5)
    assert [rows[n]["prompt"] for n in names] == META["cases"]
    assert [rows[n]["prompt_truncated"] == "true" for n in names] == [i in META["truncated"][convention]
                                                                       for i in range(len(names))]
    if convention == "torchmetrics":     # the stand-in's mean is below 0: torchmetrics clamps it
        assert float(got.mean()) == pytest.approx(META["conventions"]["torchmetrics_d2"]["mean_before_clamp"],
                                                  rel=1e-5)


@pytest.mark.slow
def test_compute_fid_and_clip_score_in_one_pass(t2i_folder, added, capfd):
    """The issue's command as written: FID and CLIPScore from one compute (FID's 2048-d square
    root on the stand-in Inception costs seconds, hence the slow tier)."""
    ref_dir, gen, names = t2i_folder
    out = cli_here(capfd, "compute", ref_dir, gen, "--metrics", "fid,clip_score", "--device", "cpu", "--no-cache")
    res = _check(out, names, "torchmetrics")
    assert res["metrics"]["fid"] is not None
