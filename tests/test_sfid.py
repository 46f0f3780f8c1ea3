"""sFID against the genuine network, its cache entries, and models built before it.

tests/fixtures/parity/sfid_reference.json and sfid_tensorflow.npz were made by
tests/reference/make_sfid_reference.py: TensorFlow's TF1 bilinear resize, then the TorchScript
default_1.pt run layer by layer up to mixed_6's first branch (conv + BN + ReLU), its first 7
channels flattened channel-last as the ADM evaluator does, Fréchet distance with scipy sqrtm.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.features.inference import SPATIAL, InferenceModel
from engine.features.presets import get_preset
from engine.metrics import fid as fid_metric
from engine.metrics import sfid
from engine.run.job import run
from engine.run.options import Options
from tests.imagegen import make_folder

PARITY = Path(__file__).parent / "fixtures" / "parity"
REF = json.loads((PARITY / "sfid_reference.json").read_text())
FID_REF = json.loads((PARITY / "reference.json").read_text())["presets"]["tensorflow"]["fid"]


def _opts(*metrics):
    return Options(metrics=metrics, preset="tensorflow", device="cpu")


@pytest.fixture(scope="module")
def cached_runs(model_path, tmp_path_factory):
    """FID only (an entry without sFID moments), then FID + sFID (that entry is rebuilt),
    then FID + sFID again (served from the cache), on small made folders."""
    root = tmp_path_factory.mktemp("sfidcache")
    ref, gen = make_folder(root / "r", 6, seed=11), make_folder(root / "g", 6, seed=12)
    return [run(ref, [gen], _opts(*m), cache_root=root / "cache")
            for m in (("fid",), ("fid", "sfid"), ("fid", "sfid"))]


def test_spatial_features_equal_the_torchscript_network(inference_model):
    z = np.load(PARITY / "sfid_tensorflow.npz")
    preset = get_preset("tensorflow")
    names = list(z["ref_files"][:4])
    batch = np.stack([preset.prepare(np.asarray(Image.open(PARITY / "ref" / n).convert("RGB")))
                      for n in names])
    out = inference_model.run_outputs(batch, spatial=True)
    assert out[SPATIAL].shape == (4, sfid.DIM)
    diff = float(np.abs(out[SPATIAL] - z["ref"][:4]).max())
    assert diff <= 1e-4, f"ONNX vs TorchScript spatial features: max abs diff {diff:.3g}"
    # channel-last flattening: a channel-first order would put other values here
    assert not np.allclose(out[SPATIAL].reshape(4, 17, 17, 7).transpose(0, 3, 1, 2).reshape(4, -1),
                           z["ref"][:4], atol=1e-3)
    assert "mixed_6_conv" not in inference_model.run_outputs(batch[:1])


def test_sfid_equals_the_reference(parity_runs):
    m = parity_runs["tensorflow"].results[0].metrics  # conftest: FID + sFID, TF preset
    rel = abs(m["sfid"] - REF["sfid"]) / REF["sfid"]
    assert rel <= 1e-5, f"sFID {m['sfid']} vs reference {REF['sfid']} (rel {rel:.2e})"
    assert abs(m["fid"] - FID_REF) / FID_REF <= 1e-5
    assert m["sfid"] != pytest.approx(m["fid"], rel=0.01)  # a different feature space


def test_sfid_metric_on_the_reference_features():
    z = np.load(PARITY / "sfid_tensorflow.npz")
    s = [fid_metric.GaussianStats(a.astype(np.float64).mean(0), np.cov(a.astype(np.float64), rowvar=False))
         for a in (z["ref"], z["gen"])]
    assert sfid.compute(*s).fid == pytest.approx(REF["sfid"], rel=1e-5)
    with pytest.raises(ValueError, match="2023"):
        sfid.compute(fid_metric.GaussianStats(np.zeros(3), np.eye(3)), s[1])


def test_cache_entry_without_sfid_moments_is_rebuilt(cached_runs):
    first, second, third = (r.results[0] for r in cached_runs)
    assert first.metrics["sfid"] is None
    assert not any("sFID" in w for w in first.warnings)
    assert any("no sFID statistics" in w and "recomputed" in w for w in second.warnings)
    assert not any("recomputed" in w for w in third.warnings)
    assert third.metrics["sfid"] == second.metrics["sfid"]
    assert third.metrics["fid"] == second.metrics["fid"] == first.metrics["fid"]


def test_model_built_before_sfid_says_so(model_path, tmp_path):
    import onnx
    m = onnx.load(str(model_path))
    keep = [o for o in m.graph.output if o.name != SPATIAL]
    del m.graph.output[:]
    m.graph.output.extend(keep)
    old = tmp_path / "old.onnx"
    onnx.save(m, str(old))
    model = InferenceModel(old, "cpu")
    assert not model.has_spatial and model.describe()["has_spatial"] is False
    ref = make_folder(tmp_path / "r", 4, seed=1)
    gen = make_folder(tmp_path / "g", 4, seed=2)
    res = run(ref, [gen], _opts("fid", "sfid"), model=model, cache_root=tmp_path / "c").results[0]
    assert res.metrics["sfid"] is None and res.metrics["fid"] is not None
    assert any("sFID not available" in w and "model build" in w for w in res.warnings)


def test_stats_file_without_sfid_moments(model_path, tmp_path):
    gen = make_folder(tmp_path / "g", 4, seed=2)
    z = np.load(PARITY / "features_tensorflow.npz")
    f = z["ref"].astype(np.float64)
    np.savez(tmp_path / "ref.npz", mu=f.mean(0), sigma=np.cov(f, rowvar=False))
    res = run(tmp_path / "ref.npz", [gen], _opts("fid", "sfid"), cache_root=tmp_path / "c").results[0]
    assert res.metrics["sfid"] is None and res.metrics["fid"] is not None
    assert any("no sFID moments" in w and "reference" in w for w in res.warnings)
