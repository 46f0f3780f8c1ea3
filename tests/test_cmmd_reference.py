"""CMMD's reference embeddings kept in a stats file (``stats --cmmd``): written in the same decode
pass as the Inception statistics, used by a run instead of images (same CMMD as from the images),
refused in one line when they do not match the run (model, shape, norm), merged across shards;
a stats file without them leaves CMMD and CLIP-FID null with the reason. Stand-in models of the
CLIP IO (tests/clip_standin.py), placed where `model add` puts them.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from cli_here import cli_here, one_line_error
from tests.clip_standin import SMALL, clip_standins, folders, model_features  # noqa: F401
from engine.errors import InputError
from engine.features import stats_file
from engine.metrics import cmmd
from engine.run.job import run
from engine.run.options import Options


@pytest.fixture()
def added(clip_standins, monkeypatch, tmp_path):
    """The stand-ins where `model add` puts them (a fresh data folder per test)."""
    import models
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    for path in clip_standins.values():
        target = models.user_model_path(path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
        shutil.copy(str(path) + ".json", str(target) + ".json")
    return clip_standins


@pytest.fixture(scope="module")
def want(folders, clip_standins) -> float:
    """CMMD of the two folders from the stand-in's features on the images."""
    return cmmd.compute(*(model_features(clip_standins["vitl14-336"], f, "cmmd") for f in folders)).cmmd


def _write(path, **changes):
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    stats_file.write(path, arrays)


def test_stats_cmmd_file_gives_the_cmmd_of_the_images(folders, added, want, fast_model_path, tmp_path, capfd):
    ref = tmp_path / "ref.npz"
    out = cli_here(capfd, "stats", folders[0], "-o", ref, "--cmmd", "--device", "cpu")
    assert out.returncode == 0, out.stderr
    with np.load(ref) as z:
        emb, sha = z["cmmd_embeddings"], str(z["cmmd_model_sha256"])
        assert z["mu"].shape == (2048,) and str(z["cmmd_convention"]) == "cmmd"
    assert emb.shape == (7, 768) and emb.dtype == np.float32
    assert np.allclose(np.linalg.norm(emb.astype(np.float64), axis=1), 1.0, atol=1e-6)
    opts = Options(metrics=("clip_fid", "cmmd"), **SMALL)
    result = run(ref, [folders[1]], opts, model_path=fast_model_path)
    (res,) = result.results
    assert res.metrics["cmmd"] == pytest.approx(want, rel=1e-6)
    assert res.extras["cmmd"]["reference_embeddings"].endswith("ref.npz") and res.extras["cmmd"]["n_reference"] == 7
    assert result.spaces["clip-l14-336"]["model_sha256"] == sha
    assert res.metrics["clip_fid"] is None
    assert any(w.startswith("CLIP-FID not computed: the reference side is a stats file") for w in res.warnings)
    # shards written with --cmmd merge into the same embeddings (rows concatenated)
    parts = [tmp_path / f"part{i}.npz" for i in (1, 2)]
    for i, part in enumerate(parts, 1):
        assert cli_here(capfd, "stats", folders[0], "-o", part, "--cmmd", "--shard", f"{i}/2",
                        "--device", "cpu").returncode == 0
    merged = tmp_path / "merged.npz"
    assert cli_here(capfd, "stats", "--merge", *parts, "-o", merged).returncode == 0
    with np.load(merged) as z:
        assert z["cmmd_embeddings"].shape == (7, 768) and str(z["cmmd_model_sha256"]) == sha
    again = run(merged, [folders[1]], Options(metrics=("cmmd",), **SMALL))
    assert again.results[0].metrics["cmmd"] == pytest.approx(want, rel=1e-6)


def test_embeddings_that_do_not_match_the_run_are_refused(folders, added, tmp_path, capfd):
    from engine.features import embeddings_file
    from engine.features.spaces import get_space
    ref = tmp_path / "ref.npz"
    assert cli_here(capfd, "stats", folders[0], "-o", ref, "--cmmd", "--device", "cpu").returncode == 0
    with np.load(ref) as z:
        emb, sha = z["cmmd_embeddings"], str(z["cmmd_model_sha256"])
    cases = [(dict(cmmd_model_sha256=np.str_("0" * 64)), "were made with model sha256 0000"),
             (dict(cmmd_convention=np.str_("clean-fid")), "were made with convention clean-fid"),
             (dict(cmmd_embeddings=emb * 1.01), "not L2-normalised"),
             (dict(cmmd_embeddings=emb[:, :512]), "expected (n, 768)"),
             (dict(cmmd_embeddings=np.where(np.arange(768) == 3, np.nan, emb).astype(np.float32)),
              "NaN or infinity")]
    for i, (change, message) in enumerate(cases):
        bad = tmp_path / f"bad{i}.npz"
        shutil.copy(ref, bad)
        _write(bad, **change)
        with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
            embeddings_file.load(bad, "cmmd", space=get_space("clip-l14-336"), convention="cmmd",
                                 model_sha256=sha)
    # in a run: refused before any image is read, in one line
    out = cli_here(capfd, "compute", tmp_path / "bad0.npz", folders[1], "--metrics", "cmmd", "--device", "cpu")
    assert "were made with model sha256" in one_line_error(out)
    assert embeddings_file.load(ref, "cmmd", space=get_space("clip-l14-336"), convention="cmmd",
                                model_sha256=sha).n == 7


def test_stats_without_embeddings_and_the_refusals_of_stats(folders, added, fast_model_path, monkeypatch,
                                                           tmp_path, capfd):
    import models
    plain = tmp_path / "plain.npz"
    assert cli_here(capfd, "stats", folders[0], "-o", plain, "--device", "cpu").returncode == 0
    result = run(plain, [folders[1]], Options(metrics=("cmmd",), **SMALL), model_path=fast_model_path)
    (res,) = result.results
    assert res.metrics["cmmd"] is None
    assert any(w.startswith("CMMD not computed: the reference side is a stats file without CMMD embeddings")
               for w in res.warnings)
    out = cli_here(capfd, "stats", folders[0], "-o", tmp_path / "a.npz", "--cmmd", "--format", "adm")
    assert "--format pytorch-fid" in one_line_error(out)
    models.user_model_path("clip_vitl14_336.onnx").unlink()
    out = cli_here(capfd, "stats", folders[0], "-o", tmp_path / "b.npz", "--cmmd", "--device", "cpu")
    assert "CLIP ViT-L/14@336 model not added" in one_line_error(out)
    assert not (tmp_path / "b.npz").exists()
