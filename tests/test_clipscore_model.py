"""CLIPScore's model side equals the reference tools on the seeded stand-ins
(tests/fixtures/clipscore, made by tests/reference/make_clipscore_reference.py): token ids per
convention, the ONNX image and text features (<= 1e-4 abs), and the score (<= 1e-5 relative):
torchmetrics 1.9 CLIPScore on a converted ViT-L/14 stand-in, jmhessel/clipscore on a ViT-B/32
stand-in. The full-size ViT-L/14 stand-in, added with `model add clip-vitl14 --weights`, is
in the slow tier."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.features.clip_preprocess import preprocess
from engine.features.clip_text import tokenize_prompts
from engine.metrics.clip_score import CONVENTION_NETWORK, clip_score
from models.clip.standin import standin_images

FIX = Path(__file__).parent / "fixtures" / "clipscore"
META = json.loads((FIX / "reference.json").read_text())
REF = np.load(FIX / "reference.npz")
CASES = META["cases"]
KEY = {"torchmetrics": "torchmetrics_d2", "hessel": "hessel_d2"}


def _run(path, name, x):
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(["features"], {name: x})[0]


@pytest.fixture(scope="module")
def features(clipscore_models, clip_vocab_path):
    """Per convention: our (image, text) features of the fixture's pairs."""
    images = [a for _, a in standin_images(0)]
    out = {}
    for conv, variant in CONVENTION_NETWORK.items():
        image_onnx, text_onnx = clipscore_models[variant]
        x = np.stack([preprocess(a, conv) for a in images])
        tokens = tokenize_prompts(CASES, conv, vocab_path=clip_vocab_path)
        out[conv] = (_run(image_onnx, "images", x), _run(text_onnx, "tokens", tokens.ids), tokens)
    return out


@pytest.mark.parametrize("convention", ["torchmetrics", "hessel"])
def test_tokens_equal_the_reference(convention, features):
    tokens = features[convention][2]
    ref = REF[f"{convention}_ids"]
    width = ref.shape[1]   # torchmetrics: the batch padded to its longest prompt, cut at 77
    assert np.array_equal(tokens.ids[:, :width], ref)
    if width < 77:
        assert (tokens.ids[:, width:] == 49407).all()   # the pad token, as HF pads
    assert np.flatnonzero(tokens.truncated).tolist() == META["truncated"][convention] == [1]
    assert len(tokens.warnings) == 1 and tokens.warnings[0].startswith("prompt 1:")


@pytest.mark.parametrize("convention", ["torchmetrics", "hessel"])
def test_features_and_score_equal_the_reference(convention, features):
    img, txt, _ = features[convention]
    key = KEY[convention]
    assert np.abs(img - REF[f"{key}_img"]).max() <= 1e-4
    assert np.abs(txt - REF[f"{key}_txt"]).max() <= 1e-4
    got = clip_score(img, txt, convention)
    ref = META["conventions"][key]
    assert got.value == pytest.approx(ref["value"], rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(got.per_image, REF[f"{key}_per"], rtol=1e-5, atol=1e-5)
    if convention == "torchmetrics":   # the stand-in's mean is below 0: the clamp shows
        assert ref["value"] == got.value == 0.0
        assert float(np.mean(got.per_image)) == pytest.approx(ref["mean_before_clamp"], rel=1e-5)
        assert any("longer than max_position_embeddings=77" in w for w in ref["warnings"])


def test_preprocessing_was_bit_exact_in_the_reference():
    checks = META["checks"]
    assert checks["preprocess_torchmetrics_max_abs_diff"] == 0.0
    assert checks["preprocess_hessel_max_abs_diff"] == checks["preprocess_hessel_rgb_arrays_max_abs_diff"] == 0.0


def test_text_encoder_takes_the_argmax_row(clipscore_models):
    """A cut prompt has no end token: the feature is the largest id's row (first occurrence),
    and padding after the end token changes nothing (the causal mask)."""
    _, text_onnx = clipscore_models["vitb32"]
    ids = np.zeros((3, 77), np.int64)
    ids[0, :4] = [49406, 320, 1125, 49407]
    ids[1] = ids[0]
    ids[1, 4:] = 49407                       # padded with the end token instead of 0
    ids[2, :4] = [49406, 320, 1125, 320]     # no end token: argmax is 1125 at position 2
    f = _run(text_onnx, "tokens", ids)
    np.testing.assert_array_equal(f[0], f[1])
    g = _run(text_onnx, "tokens", ids[2:3, :].copy())
    np.testing.assert_array_equal(f[2], g[0])
    assert not np.allclose(f[0], f[2])


@pytest.mark.slow
def test_full_size_vitl14_added_by_model_add_equals_torchmetrics(tmp_path, capfd, monkeypatch, clip_vocab_path):
    from cli_here import cli_here
    from models.clip.standin import write_standin
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    weights = write_standin(tmp_path / "ViT-L-14-standin.pt", "vitl14", depth=None)
    got = cli_here(capfd, "model", "add", "clip-vitl14", "--weights", str(weights))
    assert got.returncode == 0, got.stderr
    prov = json.loads(got.stdout)
    images = np.stack([preprocess(a, "torchmetrics") for _, a in standin_images(0)])
    tokens = tokenize_prompts(CASES, "torchmetrics", vocab_path=clip_vocab_path)
    img = _run(prov["model_path"], "images", images)
    txt = _run(prov["text_model"]["path"], "tokens", tokens.ids)
    assert np.abs(img - REF["torchmetrics_d24_img"]).max() <= 1e-4
    assert np.abs(txt - REF["torchmetrics_d24_txt"]).max() <= 1e-4
    got = clip_score(img, txt, "torchmetrics")
    ref = META["conventions"]["torchmetrics_d24"]
    assert got.value == pytest.approx(ref["value"], rel=1e-5, abs=1e-6)
    assert float(np.mean(got.per_image)) == pytest.approx(ref["mean_before_clamp"], rel=1e-5)
