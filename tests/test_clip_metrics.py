"""CLIP-FID and CMMD in the engine: CMMD's blocked float64 value against the direct formula, and
both metrics end to end through one in-process run on stand-in models of the CLIP IO
(tests/clip_standin.py), checked against the engine's metric functions applied to the same
models' features; KID / precision-recall / per-image scores in the CLIP space; one decode pass
for every space; the missing-model reasons; History schema 3 -> 4; CSV / JSON / PDF columns.

The stand-ins are not CLIP (a pool and a projection), so these tests are about the plumbing;
the numbers of the real networks are MODEL's parity tests.
"""
from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest

from cli_here import cli_here, one_line_error
from tests.clip_standin import SMALL, clip_opts, clip_standins, folders, model_features  # noqa: F401
from engine.metrics import cmmd, kid, prdc
from engine.metrics import fid as fid_metric
from engine.per_image import scores as per_image_scores
from engine.run.job import run
from engine.run.options import Options

MISSING_B = "CLIP ViT-B/32 model not added (python main.py model add clip-vitb32 --download)"
MISSING_L = "CLIP ViT-L/14@336 model not added (python main.py model add clip-vitl14-336 --download)"


def direct_cmmd(x, y) -> float:
    """The definition, in one piece: 1000 (mean k(x,x') + mean k(y,y') - 2 mean k(x,y)) with
    k(a, b) = exp(-‖a - b‖² / (2 · 10²)) on L2-normalised float64 rows."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)

    def k(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * 10.0 ** 2)).mean()
    return 1000.0 * (k(x, x) + k(y, y) - 2.0 * k(x, y))


# ---------------------------------------------------------------- the math

def test_cmmd_blocked_equals_the_direct_formula_at_any_block_size():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((37, 24)).astype(np.float32)
    y = (rng.standard_normal((29, 24)) + 0.8).astype(np.float32)    # another distribution
    want = direct_cmmd(x, y)
    assert want > 1.0
    values = [cmmd.compute(x, y, block=b).cmmd for b in (1, 5, 16, 29, 37, 64, cmmd.BLOCK)]
    for v in values:
        assert v == pytest.approx(want, rel=1e-12)
    assert cmmd.compute(x, y).n_x == 37 and cmmd.compute(x, y).n_y == 29
    # the embeddings are normalised by the metric: (exactly) scaled rows change nothing
    assert cmmd.compute(x * 4.0, y * 0.5, block=8).cmmd == pytest.approx(want, rel=1e-12)
    # a set against itself: the three means cancel
    assert abs(cmmd.compute(x, x, block=5).cmmd) < 1e-9


def test_cmmd_refuses_what_it_cannot_normalise_or_compare():
    x = np.ones((4, 8), np.float32)
    with pytest.raises(ValueError, match="zero or not finite"):
        cmmd.compute(x, np.zeros((3, 8), np.float32))
    with pytest.raises(ValueError, match="do not match"):
        cmmd.compute(x, np.ones((3, 6), np.float32))
    with pytest.raises(ValueError, match="block"):
        cmmd.compute(x, x, block=0)


# ---------------------------------------------------------------- end to end

@pytest.fixture(scope="module")
def clip_run(folders, clip_opts, fast_model_path):
    """CLIP-FID + CMMD in one pass; KID, precision/recall, per-image in the CLIP space (no
    Inception FID: its 2048-d eigendecompositions would be most of this module's time)."""
    opts = Options(metrics=("clip_fid", "cmmd", "kid", "pr"), feature_space="clip",
                   per_image=True, **clip_opts)
    return run(folders[0], [folders[1]], opts, model_path=fast_model_path)


def test_clip_fid_and_cmmd_equal_the_metric_functions_on_the_models_features(clip_run, folders,
                                                                            clip_standins):
    (res,) = clip_run.results
    m = res.metrics
    b = [model_features(clip_standins["vitb32"], f, "clean-fid") for f in folders]
    stats = [fid_metric.GaussianStats(f.astype(np.float64).mean(0), np.cov(f.astype(np.float64), rowvar=False),
                                      len(f)) for f in b]
    assert m["clip_fid"] == pytest.approx(fid_metric.compute(*stats).fid, rel=1e-6)
    l336 = [model_features(clip_standins["vitl14-336"], f, "cmmd") for f in folders]
    assert m["cmmd"] == pytest.approx(cmmd.compute(*l336).cmmd, rel=1e-6)
    assert m["cmmd"] == pytest.approx(direct_cmmd(*l336), rel=1e-6)
    assert m["cmmd"] > 0 and m["clip_fid"] > 0 and clip_run.model is None
    assert res.extras["clip_fid"] == {"n_reference": 7, "n_generated": 5, "space": "clip/clean-fid"}
    assert res.extras["cmmd"]["n_reference"] == 7 and res.extras["cmmd"]["space"] == "clip-l14-336/cmmd"
    assert res.extras["cmmd"]["dtype"] == "float64" and res.extras["cmmd"]["sigma"] == 10.0
    assert any(w.startswith("CLIP-FID is biased upward with fewer than 1024 images") for w in res.warnings)
    for name, variant in (("clip", "vitb32"), ("clip-l14-336", "vitl14-336")):
        prov = json.loads((clip_standins[variant].parent / (clip_standins[variant].name + ".json")).read_text())
        assert clip_run.spaces[name]["weights_sha256"] == prov["source_sha256"]
    assert clip_run.spaces["clip"]["convention"] == "clean-fid"
    assert clip_run.spaces["clip-l14-336"]["convention"] == "cmmd"
    data = clip_run.to_dict()["results"][0]["metrics"]
    assert (data["clip_fid"], data["cmmd"]) == (m["clip_fid"], m["cmmd"])


def test_feature_space_clip_moves_kid_pr_and_per_image(clip_run, folders, clip_standins):
    ref, gen = (model_features(clip_standins["vitb32"], f, "clean-fid") for f in folders)
    (res,) = clip_run.results
    m = res.metrics
    kv = kid.compute(ref, gen, SMALL["kid_subsets"], SMALL["kid_subset_size"], 0)
    assert (m["kid_mean"], m["kid_std"]) == pytest.approx((kv.mean, kv.std), rel=1e-5)
    pv = prdc.compute(ref, gen, SMALL["pr_k"], SMALL["dc_k"])
    assert (m["precision"], m["recall"], m["density"], m["coverage"]) == \
        (pv.precision, pv.recall, pv.density, pv.coverage)
    sc = per_image_scores.compute(ref, gen, k=SMALL["pr_k"])
    assert np.array_equal(res.per_image.scores.nearest, sc.nearest)
    assert res.extras["spaces"] == {"clip_fid": "clip/clean-fid",
                                    "cmmd": "clip-l14-336/cmmd", "kid": "clip/clean-fid",
                                    "pr": "clip/clean-fid", "per_image": "clip/clean-fid"}
    from reports.result_format import columns_for
    headers = {c.key: c.header for c in columns_for(clip_run)}
    assert headers["kid"] == "KID (CLIP ViT-B/32)" and headers["clip_fid"] == "CLIP-FID"
    assert headers["cmmd"] == "CMMD"


def test_every_space_is_fed_from_one_decode_pass(folders, clip_opts, fast_model_path, monkeypatch):
    """ViT-B/32 (CLIP-FID, KID) and ViT-L/14@336 (CMMD) get their inputs from one read of each
    file (Inception is left out: its live FID's 2048-d eigendecompositions cost seconds; that it
    shares the pass is tests/test_fd_dinov2.py's)."""
    import engine.features.pipeline as pipeline
    real, reads = pipeline.reader_for, []

    def counting(source):
        read = real(source)

        def each(name):
            reads.append((source.label, name))
            return read(name)
        if hasattr(read, "finish"):
            each.finish = read.finish
        return each
    monkeypatch.setattr(pipeline, "reader_for", counting)
    result = run(folders[0], [folders[1]], Options(metrics=("kid", "clip_fid", "cmmd"), feature_space="clip",
                                                   use_cache=False, **clip_opts), model_path=fast_model_path)
    m = result.results[0].metrics
    assert None not in (m["kid_mean"], m["clip_fid"], m["cmmd"])
    assert set(result.spaces) == {"clip", "clip-l14-336"}
    assert len(reads) == len(set(reads)) == 7 + 5


def test_missing_models_give_null_with_the_reason(folders, monkeypatch, tmp_path):
    import models
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path))
    assert models.find_model("clip_vitb32.onnx") is None and models.find_model("clip_vitl14_336.onnx") is None
    result = run(folders[0], [folders[1]], Options(metrics=("clip_fid", "cmmd"), **SMALL))
    (res,) = result.results
    assert res.metrics["clip_fid"] is None and res.metrics["cmmd"] is None
    assert f"CLIP-FID not computed: {MISSING_B}" in res.warnings
    assert f"CMMD not computed: {MISSING_L}" in res.warnings
    assert result.spaces["clip"]["unavailable"] == MISSING_B
    assert result.spaces["clip-l14-336"]["unavailable"] == MISSING_L


def test_cli_clip_space_fatal_without_model_then_json_csv_pdf(folders, clip_run, clip_standins, monkeypatch,
                                                             tmp_path, capfd):
    import models
    from pdf_text import pdf_text
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    out = cli_here(capfd, "compute", *folders, "--feature-space", "clip", "--device", "cpu")
    assert MISSING_B in one_line_error(out)
    for path in clip_standins.values():       # where `model add` puts them
        target = models.user_model_path(path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
        shutil.copy(str(path) + ".json", str(target) + ".json")
    csv_path, pdf_path = tmp_path / "r.csv", tmp_path / "r.pdf"
    out = cli_here(capfd, "compute", *folders, "--metrics", "clip_fid,cmmd", "--feature-space", "clip",
                   "--device", "cpu", "--csv", csv_path, "--pdf", pdf_path)
    assert out.returncode == 0, out.stderr
    want = clip_run.results[0].metrics
    got = json.loads(out.stdout)["results"][0]["metrics"]
    assert (got["clip_fid"], got["cmmd"]) == (want["clip_fid"], want["cmmd"])
    header, row = csv_path.read_text().splitlines()[:2]
    cols = dict(zip(header.split(","), row.split(",")))
    assert float(cols["clip_fid"]) == want["clip_fid"] and float(cols["cmmd"]) == want["cmmd"]
    text = pdf_text(pdf_path)
    assert "CLIP-FID" in text and "CMMD" in text
    assert f"{want['clip_fid']:.3f}" in text and f"{want['cmmd']:.4f}" in text


def test_history_schema_3_is_migrated_to_4(clip_run, tmp_path):
    from engine.outputs.history import SCHEMA_VERSION, History
    assert SCHEMA_VERSION >= 4
    old = tmp_path / "old.sqlite3"
    with History(old) as h:
        h.add(clip_run)
    con = sqlite3.connect(old)
    con.executescript("ALTER TABLE sources DROP COLUMN clip_fid; ALTER TABLE sources DROP COLUMN cmmd; "
                      "PRAGMA user_version = 3;")
    con.close()
    with History(old) as h:
        assert h.runs()[0].best_clip_fid is None and h.runs()[0].best_cmmd is None   # old rows: unknown
        run_id = h.add(clip_run)
        newest = h.runs()[0]
        assert (newest.best_clip_fid, newest.best_cmmd) == (clip_run.results[0].metrics["clip_fid"],
                                                            clip_run.results[0].metrics["cmmd"])
        assert h.load(run_id).results[0].metrics["cmmd"] == clip_run.results[0].metrics["cmmd"]
    con = sqlite3.connect(old)
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.close()
