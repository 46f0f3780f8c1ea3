"""FD_DINOv2 in the engine: one decode pass feeds Inception and DINOv2, the result equals the
reference code's FD under both conventions, FID does not move, ``feature_space`` moves KID /
precision-recall / per-image scores into DINOv2 space, and the feature cache keeps one entry
per space + convention + model.

The model is the 2-block stand-in (conftest ``dinov2_model_path``); the images are the
reference set pair ``files_vs_files`` of tests/fixtures/dinov2/reference.json (its synthetic
stand-in images saved as PNG), whose FDs the reference code computed for depth 2. One job run
per convention, in-process, shared by the tests of this module.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from cli_here import cli_here, one_line_error
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)
from engine.features.dinov2_preprocess import preprocess
from engine.features.pipeline import SpaceRequest, extract_spaces
from engine.features.presets import get_preset
from engine.features.spaces import SPACES
from engine.inputs.sources import open_source
from engine.metrics import kid, prdc
from engine.per_image import scores as per_image_scores
from engine.run.job import run
from engine.run.options import Options
from models.dinov2.standin import standin_images

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = json.loads((FIXTURES / "dinov2" / "reference.json").read_text())
PAIR = "files_vs_files"
FD_RTOL = 1e-5
MISSING = "DINOv2 model not added (python main.py model add dinov2-vitl14 --download)"
SMALL = dict(device="cpu", kid_subsets=5, kid_subset_size=3, pr_k=2, dc_k=2)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """The pair's two sets as folders: parity files copied, the stand-in images as PNG."""
    root = tmp_path_factory.mktemp("fd_dinov2")
    synthetic = dict(zip(["standin_448x448", "standin_300x257"], standin_images()))
    out = []
    for side, indices in zip(("ref", "gen"), REFERENCE["pairs"][PAIR]):
        folder = root / side
        folder.mkdir()
        for i in indices:
            name = REFERENCE["images"][i]
            if name in synthetic:
                Image.fromarray(synthetic[name], "RGB").save(folder / f"{name}.png")
            else:
                shutil.copy(FIXTURES / "parity" / name, folder / Path(name).name)
        out.append(folder)
    return tuple(out)


@pytest.fixture(scope="module")
def dgm_run(folders, dinov2_model_path):
    """FID + FD_DINOv2 (dgm-eval) in one pass, with KID, precision/recall and per-image scores
    in DINOv2 space."""
    opts = Options(metrics=("fid", "fd_dinov2", "kid", "pr"), feature_space="dinov2", per_image=True,
                   dinov2_model_path=str(dinov2_model_path), **SMALL)
    return run(folders[0], [folders[1]], opts)


@pytest.fixture(scope="module")
def edm2_run(folders, dinov2_model_path):
    """FD_DINOv2 alone (edm2): no Inception model runs."""
    opts = Options(metrics=("fd_dinov2",), dinov2_convention="edm2",
                   dinov2_model_path=str(dinov2_model_path), **SMALL)
    return run(folders[0], [folders[1]], opts)


def _want(convention: str) -> float:
    return REFERENCE["depths"]["2"]["fd"][f"{convention}/{PAIR}"]["exact_low_rank"]


@pytest.mark.parametrize("convention", ["dgm-eval", "edm2"])
def test_fd_dinov2_equals_the_reference_code(convention, dgm_run, edm2_run):
    result = dgm_run if convention == "dgm-eval" else edm2_run
    (res,) = result.results
    got = res.metrics["fd_dinov2"]
    print(f"{convention}: FD_DINOv2 {got:.9g}, reference {_want(convention):.9g}, "
          f"rel {abs(got - _want(convention)) / _want(convention):.1e}")
    assert got == pytest.approx(_want(convention), rel=FD_RTOL)
    assert res.extras["fd_dinov2"] == {"n_reference": 4, "n_generated": 4,
                                       "space": f"dinov2/{convention}"}
    assert any("FD_DINOv2 is biased upward" in w and "1024" in w for w in res.warnings)
    record = result.spaces["dinov2"]
    prov = json.loads(Path(record["model"] + ".json").read_text())
    assert record["convention"] == convention and record["weights_sha256"] == prov["source_sha256"]
    assert record["depth"] == 2 and record["network"] == "dinov2-vitl14"
    data = result.to_dict()
    assert data["results"][0]["metrics"]["fd_dinov2"] == got
    assert data["spaces"]["dinov2"]["weights_sha256"] == prov["source_sha256"]


def test_fd_alone_runs_no_inception_model(edm2_run):
    assert edm2_run.model is None and set(edm2_run.spaces) == {"dinov2"}
    (res,) = edm2_run.results
    assert res.n_images == 4 and res.metrics["fid"] is None
    assert res.extras["spaces"] == {"fd_dinov2": "dinov2/edm2"}


def test_fid_is_bit_identical_with_and_without_fd_dinov2(folders, dgm_run, model_path):
    alone = run(folders[0], [folders[1]], Options(metrics=("fid",), use_cache=False, **SMALL),
                model_path=model_path)
    assert dgm_run.results[0].metrics["fid"] == alone.results[0].metrics["fid"]
    assert dgm_run.results[0].extras["spaces"]["fid"] == "inception/clean"
    assert dgm_run.model["sha256"] == alone.model["sha256"]


def _cached(folders, dinov2_model_path, model_path):
    """Each set's features per space + convention, as the cache holds them (all hits)."""
    from engine.features.inference import InferenceModel
    dinov2 = InferenceModel(dinov2_model_path, "cpu")
    inception = InferenceModel(model_path, "cpu")
    space = SPACES["dinov2"]
    requests = [SpaceRequest(SPACES["inception"], get_preset("clean"), inception),
                SpaceRequest(space, space.convention("dgm-eval"), dinov2),
                SpaceRequest(space, space.convention("edm2"), dinov2)]
    opts = Options(metrics=("fid", "fd_dinov2"), **SMALL)
    return [extract_spaces(open_source(f), requests, opts) for f in folders]


def test_cache_holds_one_entry_per_space_and_convention(folders, dgm_run, edm2_run, dinov2_model_path,
                                                        model_path):
    for exts in _cached(folders, dinov2_model_path, model_path):
        assert [e.from_cache for e in exts] == [True, True, True]
        assert len({e.cache_key for e in exts}) == 3
        assert [e.features.shape[1] for e in exts] == [2048, 1024, 1024]
    # the runs recorded the DINOv2 entries (the per-image scores' space) for the Samples tab
    ref, gen = _cached(folders, dinov2_model_path, model_path)
    assert dgm_run.results[0].extras["features_key"] == gen[1].cache_key
    assert dgm_run.reference["features_key"] == ref[1].cache_key


def test_feature_space_dinov2_moves_kid_pr_and_per_image(folders, dgm_run, dinov2_model_path, model_path):
    ref, gen = (exts[1] for exts in _cached(folders, dinov2_model_path, model_path))
    # the engine's DINOv2 features are the model's on the dgm-eval inputs (a plain numpy path)
    sess = ort.InferenceSession(str(dinov2_model_path), providers=["CPUExecutionProvider"])
    for folder, ext in zip(folders, (ref, gen)):
        inputs = []
        for f in sorted(folder.iterdir()):
            with Image.open(f) as im:
                inputs.append(preprocess(im.convert("RGB"), "dgm-eval"))
        feats = sess.run(["features"], {"images": np.stack(inputs)})[0]
        assert float(np.abs(feats - ext.features).max()) <= 1e-4
    (res,) = dgm_run.results
    m = res.metrics
    kv = kid.compute(ref.features, gen.features, SMALL["kid_subsets"], SMALL["kid_subset_size"], 0)
    assert (m["kid_mean"], m["kid_std"]) == (kv.mean, kv.std)
    pv = prdc.compute(np.asarray(ref.features), np.asarray(gen.features), SMALL["pr_k"], SMALL["dc_k"])
    assert (m["precision"], m["recall"], m["density"], m["coverage"]) == \
        (pv.precision, pv.recall, pv.density, pv.coverage)
    sc = per_image_scores.compute(ref.features, gen.features, k=SMALL["pr_k"])
    assert np.array_equal(res.per_image.scores.realism, sc.realism)
    assert np.array_equal(res.per_image.scores.nearest, sc.nearest)
    assert res.extras["spaces"] == {"fid": "inception/clean", "fd_dinov2": "dinov2/dgm-eval",
                                    "kid": "dinov2/dgm-eval", "pr": "dinov2/dgm-eval",
                                    "per_image": "dinov2/dgm-eval"}


def test_tables_name_the_space_of_every_number(dgm_run):
    from reports.result_format import columns_for, settings_rows
    headers = {c.key: c.header for c in columns_for(dgm_run)}
    assert headers["fid"] == "FID" and headers["fd_dinov2"] == "FD_DINOv2"
    assert headers["kid"] == "KID (DINOv2)" and headers["precision"] == "Precision (DINOv2)"
    rows = dict(settings_rows(dgm_run))
    assert rows["DINOv2 weights SHA-256"] == dgm_run.spaces["dinov2"]["weights_sha256"]
    assert rows["Feature space"].startswith("dinov2")


def test_missing_model_gives_null_with_the_reason(folders, monkeypatch, tmp_path):
    import models
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path))
    assert models.find_model("dinov2_vitl14.onnx") is None
    result = run(folders[0], [folders[1]], Options(metrics=("fd_dinov2",), **SMALL))
    (res,) = result.results
    assert res.metrics["fd_dinov2"] is None
    assert f"FD_DINOv2 not computed: {MISSING}" in res.warnings
    assert result.spaces["dinov2"]["unavailable"] == MISSING


def test_stats_file_gives_null_with_the_reason(folders, dgm_run, dinov2_model_path, model_path, tmp_path,
                                               capfd):
    stats = tmp_path / "ref_stats.npz"
    assert cli_here(capfd, "stats", folders[0], "-o", stats, "--device", "cpu").returncode == 0
    result = run(stats, [folders[1]], Options(metrics=("fid", "fd_dinov2"),
                                              dinov2_model_path=str(dinov2_model_path), **SMALL),
                 model_path=model_path)
    (res,) = result.results
    assert res.metrics["fd_dinov2"] is None and res.metrics["fid"] == dgm_run.results[0].metrics["fid"]
    assert any(w.startswith("FD_DINOv2 not computed: the reference side is a stats file") for w in res.warnings)


def test_cli_flags_and_the_fatal_error_without_model(folders, dgm_run, edm2_run, dinov2_model_path,
                                                     monkeypatch, tmp_path, capfd):
    import models
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path))
    out = cli_here(capfd, "compute", *folders, "--feature-space", "dinov2", "--device", "cpu")
    assert MISSING in one_line_error(out)
    # "model add" puts the model here; both sets' features then come from the cache
    target = models.user_model_path("dinov2_vitl14.onnx")
    target.parent.mkdir(parents=True)
    shutil.copy(dinov2_model_path, target)
    shutil.copy(str(dinov2_model_path) + ".json", str(target) + ".json")
    out = cli_here(capfd, "compute", *folders, "--metrics", "fid,fd_dinov2", "--dinov2-convention", "edm2",
                   "--device", "cpu")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    metrics = data["results"][0]["metrics"]
    assert metrics["fd_dinov2"] == edm2_run.results[0].metrics["fd_dinov2"]
    assert metrics["fid"] == dgm_run.results[0].metrics["fid"]
    assert data["spaces"]["dinov2"]["convention"] == "edm2"


def test_decode_processes_feed_every_space_the_same_inputs(folders):
    """The process pool's shared ring carries one preprocessed array per space, bit for bit
    what the threads make."""
    from contextlib import closing
    from engine.features.process_pool import ordered_decode
    from engine.inputs.decode import reader_for
    src = open_source(folders[1])
    targets = [("inception", "clean"), ("dinov2", "edm2")]
    prepares = [SPACES[s].convention(c).prepare for s, c in targets]
    read = reader_for(src)
    with closing(ordered_decode(src, targets, workers=1, depth=2)) as items:
        got = list(items)
    assert [d.name for d, _ in got] == list(src.files)
    for (decoded, xs), name in zip(got, src.files):
        want = [p(read(name).array) for p in prepares]
        assert [x.shape for x in xs] == [(3, 299, 299), (3, 224, 224)]
        assert all(np.array_equal(x, w) for x, w in zip(xs, want))
