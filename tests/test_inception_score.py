"""Inception Score: the standard convention (unbiased logits, float64 softmax, TTUR or ADM
splits) against torch-fidelity 0.4.0 itself.

tests/fixtures/parity/is_reference.json and is_logits.npz come from
tests/reference/make_is_reference.py: torch_fidelity.calculate_metrics(isc=True,
samples_shuffle=False, isc_splits=10) on the committed parity images with a stand-in head
checkpoint (genuine body + ``models.testing.is_stand_in_head()``, regenerated here from its
seed and checked against the hash the script recorded).
"""
import json
from pathlib import Path

import numpy as np
import pytest

from engine.metrics import inception_score as isc
from engine.run.job import run
from engine.run.options import Options
from engine.errors import OptionError
from models.testing import array_sha256, is_stand_in_head

PARITY = Path(__file__).parent / "fixtures" / "parity"
REF = json.loads((PARITY / "is_reference.json").read_text())


def _oracle_torch_fidelity(logits, splits=10):
    """torch-fidelity 0.4.0 isc_features_to_metric (shuffle=False), in numpy."""
    f = np.asarray(logits, np.float64)
    n = len(f)
    z = f - f.max(1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    p = np.exp(log_p)
    scores = []
    for i in range(splits):
        pc, lpc = p[i * n // splits:(i + 1) * n // splits], log_p[i * n // splits:(i + 1) * n // splits]
        q = pc.mean(0, keepdims=True)
        scores.append(np.exp((pc * (lpc - np.log(q))).sum(1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _oracle_adm(logits, split_size=5000):
    """guided-diffusion evaluator compute_inception_score: softmax, then splits of 5000."""
    z = np.asarray(logits, np.float64)
    e = np.exp(z - z.max(1, keepdims=True))
    preds = e / e.sum(1, keepdims=True)
    scores = []
    for i in range(0, len(preds), split_size):
        part = preds[i:i + split_size]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return float(np.mean(scores)), float(np.std(scores)), len(scores)


def test_stand_in_head_is_the_one_torch_fidelity_used():
    w, b = is_stand_in_head(REF["head_seed"])
    assert array_sha256(np.concatenate([w.ravel(), b])) == REF["head_sha256"]


@pytest.mark.parametrize("name", ["gen", "ref"])
def test_metric_on_torch_fidelitys_own_logits(name):
    logits = np.load(PARITY / "is_logits.npz")[f"{name}_logits_unbiased"]
    v = isc.compute(logits, "ttur")
    expected = REF["sets"][name]
    assert v.mean == pytest.approx(expected["extractor_logits_is_mean"], rel=1e-9)
    assert v.std == pytest.approx(expected["extractor_logits_is_std"], rel=1e-7)
    assert v.splits == 10 and sum(v.split_sizes) == len(logits) == 64


@pytest.fixture(scope="module")
def tf_preset_runs(is_model_path, parity_cache, parity_runs):
    # parity_runs["tensorflow"] extracted both sets' features and logits into parity_cache
    cache = parity_cache  # the body's pool3 features are shared with the parity runs
    opts = Options(metrics=("is",), preset="tensorflow", device="cpu")
    return {name: run(PARITY / "ref", [PARITY / name], opts, model_path=is_model_path,
                      cache_root=cache).results[0]
            for name in ("gen", "ref")}


@pytest.mark.parametrize("name", ["gen", "ref"])
def test_is_equals_torch_fidelity_under_tensorflow_preset(tf_preset_runs, name):
    res = tf_preset_runs[name]
    expected = REF["sets"][name]
    for key in ("is_mean", "is_std"):
        ours, theirs = res.metrics[key], expected[key]
        rel = abs(ours - theirs) / abs(theirs)
        assert rel <= 1e-5, f"{name} {key}: {ours} vs torch-fidelity {theirs} (rel {rel:.2e})"
    assert res.extras["is_splits"] == "ttur" and res.extras["is_n_splits"] == 10
    assert res.extras["is_split_sizes"] == [6, 6, 7, 6, 7, 6, 6, 7, 6, 7]
    # the bias matters on this head: the biased (non-standard) score is far away
    assert abs(res.metrics["is_mean"] - expected["biased_is_mean"]) / expected["is_mean"] > 1e-3


def test_adm_splits_on_constructed_logits():
    rng = np.random.default_rng(5)
    # 12,000 images: ADM splits of 5000, 5000, 2000; columns scaled so classes are uneven
    logits = (rng.standard_normal((12000, 1008)) * np.linspace(0.5, 3, 1008)).astype(np.float32)
    adm = isc.compute(logits, "adm")
    mean, std, k = _oracle_adm(logits)
    assert adm.split_sizes == (5000, 5000, 2000) and adm.splits == k == 3
    assert adm.mean == pytest.approx(mean, rel=1e-12) and adm.std == pytest.approx(std, rel=1e-9)
    ttur = isc.compute(logits, "ttur")
    assert ttur.split_sizes == (1200,) * 10
    assert (ttur.mean, ttur.std) == pytest.approx(_oracle_torch_fidelity(logits), rel=1e-12)
    assert abs(ttur.mean - adm.mean) > 1e-3  # the conventions really differ


def test_uneven_ttur_splits_follow_torch_fidelity():
    logits = np.random.default_rng(1).standard_normal((23, 1008)) * 4
    v = isc.compute(logits, "ttur")
    assert v.split_sizes == (2, 2, 2, 3, 2, 2, 3, 2, 2, 3)  # k*23//10 boundaries
    assert (v.mean, v.std) == pytest.approx(_oracle_torch_fidelity(logits), rel=1e-12)


def test_split_conventions_are_checked():
    with pytest.raises(ValueError, match="at least 10 images"):
        isc.compute(np.zeros((9, 1008)), "ttur")
    assert isc.compute(np.zeros((3, 1008)), "adm").split_sizes == (3,)
    with pytest.raises(OptionError, match="ttur, adm"):
        Options(is_splits="10")
    assert Options(is_splits="adm").to_dict()["is_splits"] == "adm"


def test_adm_convention_is_recorded_in_the_result(is_model_path, parity_cache):
    opts = Options(metrics=("is",), preset="tensorflow", device="cpu", is_splits="adm")
    res = run(PARITY / "ref", [PARITY / "gen"], opts, model_path=is_model_path,
              cache_root=parity_cache).results[0]
    assert res.extras["is_splits"] == "adm" and res.extras["is_split_sizes"] == [64]
    assert res.metrics["is_std"] == 0.0 and any("one split" in w for w in res.warnings)
    logits = np.load(PARITY / "is_logits.npz")["gen_logits_unbiased"]
    assert res.metrics["is_mean"] == pytest.approx(_oracle_adm(logits)[0], rel=1e-5)


def test_without_head_is_is_null_with_the_way_to_enable_it(model_path, parity_cache):
    res = run(PARITY / "ref", [PARITY / "gen"], Options(metrics=("is",), device="cpu"),
              model_path=model_path, cache_root=parity_cache).results[0]
    assert res.metrics["is_mean"] is None and res.metrics["is_std"] is None
    assert any("model add-is-head" in w for w in res.warnings)


def test_cli_is_splits_flag():
    from cli import _options_from, build_parser
    parser = build_parser()
    args = parser.parse_args(["compute", "ref", "gen", "--metrics", "is", "--is-splits", "adm"])
    assert _options_from(args).is_splits == "adm"
    assert _options_from(parser.parse_args(["compute", "ref", "gen"])).is_splits == "ttur"
    with pytest.raises(SystemExit):
        parser.parse_args(["compute", "ref", "gen", "--is-splits", "5000"])
