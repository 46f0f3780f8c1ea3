"""Each preset against the reference tool it claims to match.

The fixtures in tests/fixtures/parity/ were produced by the real tools (pytorch-fid 0.3.0,
clean-fid 0.1.35, TensorFlow 2.21's resize for the TF preset, prdc 0.2) running on the
committed images; tests/reference/compute_references.py made them and
reference.json records the calls and versions.
"""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.metrics import fid as fid_metric
from engine.metrics import kid, prdc
from engine.features.presets import PRESETS, reference_resize

PARITY = Path(__file__).parent / "fixtures" / "parity"
REF = json.loads((PARITY / "reference.json").read_text())


@pytest.mark.parametrize("preset", list(PRESETS))
def test_preprocessing_equals_reference_resizer(preset):
    z = np.load(PARITY / f"preprocess_{preset}.npz")
    for rel in z["files"]:
        with Image.open(PARITY / rel) as im:
            ours = reference_resize(np.asarray(im.convert("RGB")), preset)
        theirs = z[Path(rel).stem]
        err = np.abs(ours - theirs).max()
        assert err <= 1e-3, f"{preset} {rel}: max |diff| {err} (0-255 units)"


@pytest.fixture(scope="module")
def runs(parity_runs):
    # conftest.parity_runs: each preset run once per session
    return parity_runs


@pytest.mark.parametrize("preset", list(PRESETS))
def test_fid_equals_reference_tool(runs, preset):
    expected = REF["presets"][preset]["fid"]
    ours = runs[preset].results[0].metrics["fid"]
    rel = abs(ours - expected) / expected
    assert rel <= 1e-5, f"{preset}: FID {ours} vs {REF['presets'][preset]['tool']} {expected} (rel {rel:.2e})"


def test_presets_really_differ(runs):
    # the three conventions must not collapse into one (this is what the presets are for)
    values = [runs[p].results[0].metrics["fid"] for p in PRESETS]
    # (on these fixtures pytorch-fid and tensorflow differ by 0.71, the closest pair)
    assert min(abs(a - b) for i, a in enumerate(values) for b in values[i + 1:]) > 0.3


def test_kid_equals_clean_fid_kernel_distance(runs):
    ours = runs["clean"].results[0].metrics["kid_mean"]
    assert ours == pytest.approx(REF["kid"]["kid_clean_fid_float32_features_run1"], rel=1e-5)


def test_prdc_equals_prdc_package(runs):
    m = runs["clean"].results[0].metrics
    expected = REF["prdc"]
    assert m["precision"] == pytest.approx(expected["k3"]["precision"])
    assert m["recall"] == pytest.approx(expected["k3"]["recall"])
    assert m["density"] == pytest.approx(expected["k5"]["density"])
    assert m["coverage"] == pytest.approx(expected["k5"]["coverage"])


@pytest.mark.parametrize("preset", list(PRESETS))
def test_metrics_on_the_reference_tools_own_features(preset):
    # the metric code alone, fed the features the reference pipeline produced
    z = np.load(PARITY / f"features_{preset}.npz")
    ref, gen = z["ref"].astype(np.float64), z["gen"].astype(np.float64)
    s1 = fid_metric.GaussianStats(ref.mean(0), np.cov(ref, rowvar=False))
    s2 = fid_metric.GaussianStats(gen.mean(0), np.cov(gen, rowvar=False))
    expected = REF["presets"][preset]["fid"]
    assert fid_metric.compute(s1, s2).fid == pytest.approx(expected, rel=1e-5)
    if preset == "clean":
        assert kid.compute(z["ref"], z["gen"], 100, 1000, 0).mean == pytest.approx(REF["kid"]["mean"], rel=1e-9)
        v = prdc.compute(z["ref"], z["gen"], 3, 5)
        assert (v.precision, v.recall) == (REF["prdc"]["k3"]["precision"], REF["prdc"]["k3"]["recall"])
