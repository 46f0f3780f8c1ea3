"""The Python API speaks the other feature spaces as the CLI does: ``Evaluator`` takes
``fd_dinov2`` (and ``feature_space``), decodes each input once for every network, and gives
the numbers a ``compute`` run gives; a missing model is a null with the reason, or a
ModelError when the space is the chosen ``feature_space``. The training log keeps the value.

The DINOv2 network is the 2-block stand-in (conftest ``dinov2_model_path``) and the images are
the set pair of tests/test_fd_dinov2.py, whose FD the reference code computed.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)
from tests.test_fd_dinov2 import FD_RTOL, MISSING, _want, dgm_run, folders  # noqa: F401 (fixtures)
from engine.api.evaluator import API_METRICS, Evaluator
from engine.errors import ModelError
from engine.metrics import kid

def _images(folder) -> list:
    return [np.asarray(Image.open(p).convert("RGB"))[None] for p in sorted(folder.iterdir())]


def test_the_other_spaces_distances_are_api_metrics():
    assert {"fd_dinov2", "clip_fid", "cmmd"} <= set(API_METRICS)


def test_evaluator_fd_dinov2_equals_the_reference_and_the_cli(folders, dinov2_model_path, dgm_run):
    ref, gen = folders
    with Evaluator(ref, metrics=("fid", "fd_dinov2"), device="cpu",
                   dinov2_model_path=str(dinov2_model_path)) as ev:
        scores = ev.score(gen)
        before = ev.images_run
        from_arrays = ev.score(_images(gen))     # in-memory batches of one image each (never cached)
        images_run = ev.images_run - before
    want = _want("dgm-eval")
    assert scores["fd_dinov2"] == pytest.approx(want, rel=FD_RTOL)
    assert from_arrays["fd_dinov2"] == pytest.approx(scores["fd_dinov2"], rel=1e-9)
    assert scores.extras["spaces"] == {"fid": "inception/clean", "fd_dinov2": "dinov2/dgm-eval"}
    assert images_run == 2 * len(list(gen.iterdir()))   # each image decoded once, run by both networks
    cli = dgm_run.results[0]       # compute's run of the same folders (module test_fd_dinov2)
    assert scores["fd_dinov2"] == cli.metrics["fd_dinov2"]
    assert scores.fid == cli.metrics["fid"]


def test_feature_space_dinov2_moves_kid(folders, dinov2_model_path):
    ref, gen = folders
    with Evaluator(ref, metrics=("kid",), device="cpu", feature_space="dinov2",
                   dinov2_model_path=str(dinov2_model_path)) as ev:
        scores = ev.score(gen)
        ref_feats = ev._ref_all["dinov2"].features
    assert "inception" not in ev._spaces.models     # KID alone in DINOv2 space: no Inception
    gen_feats = Evaluator(ref, metrics=("fd_dinov2",), device="cpu",
                          dinov2_model_path=str(dinov2_model_path))._features(gen, "generated", False)[1]
    want = kid.compute(ref_feats, gen_feats["dinov2"].features, subsets=100, subset_size=1000, seed=0)
    assert scores.kid == pytest.approx(want.mean, rel=1e-12)
    assert scores.extras["spaces"]["kid"] == "dinov2/dgm-eval"


def test_missing_model_is_null_with_the_reason_or_a_model_error(folders, tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path))     # no DINOv2 model added here
    ref, gen = folders
    with Evaluator(ref, metrics=("fid", "fd_dinov2"), device="cpu") as ev:
        scores = ev.score(gen)
    assert scores.fid is not None and scores["fd_dinov2"] is None
    assert f"FD_DINOv2 not computed: {MISSING}" in scores.warnings
    with pytest.raises(ModelError, match="feature space dinov2: DINOv2 model not added"):
        Evaluator(ref, metrics=("kid",), feature_space="dinov2")


def test_unknown_keyword_is_refused(folders):
    with pytest.raises(TypeError, match="bogus_option"):
        Evaluator(folders[0], metrics=("fid",), bogus_option=1)


def test_training_log_keeps_fd_dinov2(folders, dinov2_model_path, tmp_path):
    from engine.outputs.training_log import TrainingLog
    ref, gen = folders
    db = tmp_path / "history.sqlite"
    with Evaluator(ref, metrics=("fd_dinov2",), device="cpu", history=db,
                   dinov2_model_path=str(dinov2_model_path)) as ev:
        scores = ev.score(gen)
        ev.log(10, scores, run="dino")
    log = TrainingLog(db)
    try:
        (step, metrics, n, _), = log.points("dino")
    finally:
        log.close()
    assert (step, n) == (10, scores.n_images)
    assert metrics["fd_dinov2"] == scores["fd_dinov2"]
