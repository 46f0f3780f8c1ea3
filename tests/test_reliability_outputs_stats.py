"""Outputs never overwrite inputs; statistics read from files must be a mean and a covariance;
``stats --merge`` refuses overlapping sets by content; stats files as sources give nulls with
reasons, never tracebacks. Every hostile file is made here, in tmp_path."""
import json
import os
import shutil

import numpy as np
import pytest

from cli import main
from cli_here import cli_here, one_line_error
from engine.features import stats_check
from engine.inputs.sources import load_stats
from engine.run import suites
from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)


def _valid_stats(path, n=40, seed=0, dim=2048, **extra):
    """A real mean/covariance (of random features) in pytorch-fid's layout."""
    feats = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    np.savez(path, mu=feats.mean(0), sigma=np.cov(feats, rowvar=False), **extra)
    return path


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("outs")
    return {"root": root, "ref": make_folder(root / "ref", 8, seed=1, size=(32, 32)),
            "gen": make_folder(root / "gen", 7, seed=2, size=(32, 32), shift=60)}


@pytest.fixture(scope="module")
def common(model_path):
    return ["--device", "cpu", "--model", model_path, "--batch-size", "8", "--no-cache"]


# -- 1. an output that is an input -------------------------------------------------------------------
def test_an_output_onto_an_input_is_refused_before_any_work(sets, common, tmp_path, capfd):
    ref_stats = _valid_stats(tmp_path / "ref.npz")
    batch = tmp_path / "gen.npz"
    np.savez(batch, np.random.default_rng(3).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8))
    before = {p: p.read_bytes() for p in (ref_stats, batch)}
    (tmp_path / "link.json").symlink_to(ref_stats)
    os.link(batch, tmp_path / "hard.csv")
    sub = sets["gen"] / "sub"
    cases = [("compute", ref_stats, batch, "--json", ref_stats),
             ("compute", ref_stats, batch, "--csv", batch),
             ("compute", ref_stats, batch, "--json", tmp_path / "link.json"),      # via a symbolic link
             ("compute", ref_stats, batch, "--csv", tmp_path / "hard.csv"),        # a hard link
             ("compute", sets["ref"], sets["gen"], "--per-image", sub / "p.csv"),  # inside an input folder
             ("compute", sets["ref"], sets["gen"], "--pdf", sets["ref"] / ".." / "ref" / "r.pdf"),
             ("compute", ref_stats, batch, "--json", common[3]),                   # the model file
             ("stats", batch, "-o", batch),
             ("stats", sets["gen"], "-o", sets["gen"] / "s.npz"),
             ("stats", "--merge", ref_stats, tmp_path / "other.npz", "-o", ref_stats)]
    for args in cases:
        out = cli_here(capfd, *args, *common)
        line = one_line_error(out)
        assert "must not overwrite or be written among the inputs" in line, line
        assert "img/s" not in out.stderr                          # refused before any work
    assert {p: p.read_bytes() for p in before} == before
    assert not sub.exists() and not (sets["ref"] / "r.pdf").exists()
    assert not (sets["gen"] / "s.npz").exists()


def test_an_output_beside_an_input_with_a_similar_name_is_fine(sets, common, tmp_path, capfd):
    # "ref2/" starts with the input folder's name "ref" but is not inside it
    out_dir = sets["root"] / "ref2"
    ref_stats = _valid_stats(tmp_path / "ref.npz")
    out = cli_here(capfd, "compute", ref_stats, sets["gen"], "--metrics", "fid",
               "--json", out_dir / "r.json", "--csv", tmp_path / "ref.npz.csv", *common)
    assert out.returncode == 0, out.stderr
    assert json.loads((out_dir / "r.json").read_text())["results"][0]["metrics"]["fid"] is not None


# -- 3. statistics that are no covariance ------------------------------------------------------------
def _hostile_stats(tmp_path):
    good = np.load(_valid_stats(tmp_path / "good.npz"))
    mu, sigma = good["mu"], good["sigma"]
    bad = {}
    bad["negdef.npz"] = (dict(mu=mu, sigma=-np.eye(2048)), "not positive semi-definite")
    tilted = sigma.copy()
    tilted[0, 1] += 10 * np.abs(sigma).max()
    bad["asym.npz"] = (dict(mu=mu, sigma=tilted), "not symmetric")
    indefinite = sigma.copy()
    indefinite[5, 5] = -0.5 * np.abs(sigma).max()
    bad["negdiag.npz"] = (dict(mu=mu, sigma=indefinite), "not positive semi-definite")
    bad["nan_mu.npz"] = (dict(mu=np.where(np.arange(2048) == 3, np.nan, mu), sigma=sigma), "non-finite")
    bad["inf_sigma.npz"] = (dict(mu=mu, sigma=np.where(np.eye(2048) > 0, np.inf, sigma)), "non-finite")
    bad["rect.npz"] = (dict(mu=mu, sigma=sigma[:, :2000]), "do not fit together")
    bad["n_frac.npz"] = (dict(mu=mu, sigma=sigma, n=np.float64(7.9)), "whole number")
    bad["n_one.npz"] = (dict(mu=mu, sigma=sigma, n=np.int64(1)), "at least 2")
    bad["n_array.npz"] = (dict(mu=mu, sigma=sigma, n=np.array([4, 5])), "one number")
    bad["text_mu.npz"] = (dict(mu=np.array(["a"] * 2048), sigma=sigma), "real numbers")
    for name, (arrays, _) in bad.items():
        np.savez(tmp_path / name, **arrays)
    return {name: why for name, (_, why) in bad.items()}


def test_statistics_that_are_no_covariance_are_refused_naming_the_check(sets, common, tmp_path, capfd):
    for name, why in _hostile_stats(tmp_path).items():
        for order in ((sets["ref"], tmp_path / name), (tmp_path / name, sets["gen"])):
            out = cli_here(capfd, "compute", *order, "--metrics", "fid", *common)
            line = one_line_error(out)
            assert name in line and why in line, (name, line)
            assert "img/s" not in out.stderr


def test_adm_batch_statistics_are_checked_too(sets, common, tmp_path, capfd):
    images = np.random.default_rng(4).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8)
    good = np.load(_valid_stats(tmp_path / "g.npz"))
    feats_s = np.random.default_rng(5).normal(size=(30, 2023))
    sigma_s = np.cov(feats_s, rowvar=False)
    np.savez(tmp_path / "neg_ref.npz", images, mu=good["mu"], sigma=-np.eye(2048))
    asym_s = sigma_s.copy()
    asym_s[2, 1] = 5.0
    np.savez(tmp_path / "asym_s_ref.npz", images, mu=good["mu"], sigma=good["sigma"],
             mu_s=feats_s.mean(0), sigma_s=asym_s)
    for name, what in (("neg_ref.npz", "'sigma' is not positive semi-definite"),
                       ("asym_s_ref.npz", "'sigma_s' is not symmetric")):
        line = one_line_error(cli_here(capfd, "compute", tmp_path / name, sets["gen"], "--metrics", "fid", *common))
        assert name in line and what in line, line


def test_statistics_from_the_reference_tools_still_load(tmp_path):
    """The layouts pytorch-fid 0.3.0 and clean-fid 0.1.35 write (np.cov of their float32 features,
    float64 or cast to float32), from the parity fixtures' real features: accepted."""
    fixtures = os.path.join(os.path.dirname(__file__), "fixtures", "parity")
    feats = np.load(os.path.join(fixtures, "features_pytorch-fid.npz"))["ref"]
    spatial = np.load(os.path.join(fixtures, "sfid_tensorflow.npz"))["ref"]
    made = {"pytorch_fid.npz": dict(mu=np.mean(feats.astype(np.float64), 0),
                                    sigma=np.cov(feats.astype(np.float64), rowvar=False)),
            "clean_fid.npz": dict(mu=np.mean(feats, 0), sigma=np.cov(feats, rowvar=False)),
            "float32.npz": dict(mu=np.mean(feats, 0), sigma=np.cov(feats, rowvar=False, dtype=np.float32),
                                n=np.int64(len(feats))),
            "adm.npz": dict(mu=feats.mean(0), sigma=np.cov(feats, rowvar=False),
                            mu_s=spatial.mean(0), sigma_s=np.cov(spatial, rowvar=False))}
    for name, arrays in made.items():
        np.savez_compressed(tmp_path / name, **arrays)
        src = load_stats(tmp_path / name)
        assert src.stats["sigma"].shape == (2048, 2048) and src.stats["sigma"].dtype == np.float64
        sigma = arrays["sigma"].astype(np.float64)
        # what the tolerances have to let through (measured, not assumed)
        assert np.abs(sigma - sigma.T).max() <= stats_check.SYMMETRY_RTOL * np.abs(sigma).max()
    assert "sigma_s" in load_stats(tmp_path / "adm.npz").stats


def test_merge_inputs_are_checked(tmp_path, capfd):
    d = dict(np.load(_valid_stats(tmp_path / "a.npz")))
    for name, change, why in (("bad_sigma.npz", {"sigma": -np.eye(2048)}, "not positive semi-definite"),
                              ("frac_n.npz", {"n": np.float64(7.9)}, "whole number"),
                              ("arr_n.npz", {"n": np.array([3, 4])}, "one number"),
                              ("nan_sum.npz", {"sum": np.full(2048, np.nan)}, "finite")):
        arrays = dict(d, n=np.int64(40), sum=d["mu"] * 40, sum_outer=np.eye(2048))
        arrays.update(change)
        np.savez(tmp_path / name, **arrays)
        line = one_line_error(cli_here(capfd, "stats", "--merge", tmp_path / name, tmp_path / name,
                                    "-o", tmp_path / "m.npz"))
        assert name in line and why in line, line
    assert not (tmp_path / "m.npz").exists()


# -- 4. stats --merge judges overlap by content -------------------------------------------------------
@pytest.fixture(scope="module")
def shard_stats(tmp_path_factory, common):
    root = tmp_path_factory.mktemp("merge")
    a = make_folder(root / "a", 12, seed=21, size=(32, 32))
    b = make_folder(root / "b", 12, seed=22, size=(32, 32), shift=90)       # same names, other images
    renamed = root / "renamed"
    renamed.mkdir()
    for i, f in enumerate(sorted(a.iterdir())[:3]):
        shutil.copy(f, renamed / f"other_{i}.png")                            # a's images, other names
    dup = make_folder(root / "dup", 6, seed=23, size=(32, 32))
    shutil.copy(dup / "img_0000.png", dup / "img_0005.png")                   # one image stored twice
    out = {}

    def stats(name, folder, *extra):
        out[name] = root / f"{name}.npz"
        assert main(["stats", str(folder), "-o", str(out[name]), *map(str, common), *extra]) == 0

    stats("a_all", a)
    stats("a_1of2", a, "--shard", "1/2")
    stats("a_2of2", a, "--shard", "2/2")
    stats("a_1of3", a, "--shard", "1/3")
    stats("b_all", b)
    stats("renamed", renamed)
    stats("dup_1of2", dup, "--shard", "1/2")
    stats("dup_2of2", dup, "--shard", "2/2")
    stats("dup_all", dup)
    return root, out


def test_merge_refuses_overlapping_shards_and_accepts_disjoint_sets(shard_stats, capfd):
    root, f = shard_stats
    for pair, what in (((f["a_1of2"], f["a_1of3"]), "overlapping parts of the same source"),
                       ((f["a_1of2"], f["a_all"]), "overlapping parts of the same source"),
                       ((f["a_all"], f["renamed"]), "3 of the same images"),
                       ((f["a_1of2"], f["a_1of2"]), "overlapping parts")):
        line = one_line_error(cli_here(capfd, "stats", "--merge", *pair, "-o", root / "x.npz"))
        assert what in line and "twice" in line, line
    assert not (root / "x.npz").exists()
    # two folders whose files share names but not content: disjoint, merged
    out = cli_here(capfd, "stats", "--merge", f["a_all"], f["b_all"], "-o", root / "ab.npz")
    assert out.returncode == 0, out.stderr
    with np.load(root / "ab.npz") as m:
        assert int(m["n"]) == 24 and m["content_sha256"].shape == (24, 32)
    # shards of one folder holding an image twice: disjoint parts, the copy counted as one run counts it
    out = cli_here(capfd, "stats", "--merge", f["dup_1of2"], f["dup_2of2"], "-o", root / "dup.npz")
    assert out.returncode == 0, out.stderr
    with np.load(root / "dup.npz") as m, np.load(f["dup_all"]) as whole:
        assert int(m["n"]) == int(whole["n"]) == 6
        np.testing.assert_allclose(m["sigma"], whole["sigma"], rtol=1e-9, atol=1e-12)
        assert m["slices"].tolist() == [[0, 3], [3, 6]]
    # a merged file merges on, and still refuses what it already holds
    out = cli_here(capfd, "stats", "--merge", f["a_1of2"], f["a_2of2"], "-o", root / "a12.npz")
    assert out.returncode == 0, out.stderr
    line = one_line_error(cli_here(capfd, "stats", "--merge", root / "a12.npz", f["a_1of3"], "-o", root / "x.npz"))
    assert "overlapping parts" in line


def test_stats_files_without_content_hashes_are_not_merged(shard_stats, capfd, tmp_path):
    root, f = shard_stats
    for key in ("content_sha256",):
        with np.load(f["a_1of2"]) as z:
            old = {k: z[k] for k in z.files if k not in (key, "source_sha256", "slices", "source_count")}
        np.savez(tmp_path / "old.npz", **old)
        line = one_line_error(cli_here(capfd, "stats", "--merge", tmp_path / "old.npz", f["a_2of2"],
                                    "-o", tmp_path / "x.npz"))
        assert "no per-image content hashes" in line and "recompute" in line


def test_stats_files_stay_readable_by_the_reference_tools(shard_stats):
    """pytorch-fid reads f['mu'][:], f['sigma'][:]; the extra arrays need no pickle."""
    _, f = shard_stats
    with np.load(f["a_all"], allow_pickle=False) as z:
        mu, sigma = z["mu"][:], z["sigma"][:]
        assert mu.shape == (2048,) and sigma.shape == (2048, 2048)
        assert z["content_sha256"].dtype == np.uint8 and z["content_sha256"].shape == (12, 32)
        assert int(z["source_count"]) == 12 and z["slices"].tolist() == [[0, 12]]


# -- 9. merge inputs that cannot be read ---------------------------------------------------------------
def test_merge_of_truncated_or_odd_files_is_one_line(shard_stats, tmp_path, capfd):
    _, f = shard_stats
    raw = f["a_1of2"].read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with np.load(f["a_1of2"]) as z:
        arrays = {k: z[k] for k in z.files}
    np.savez(tmp_path / "n_arr.npz", **dict(arrays, n=np.array([6, 6])))
    np.savez(tmp_path / "n_frac.npz", **dict(arrays, n=np.float64(7.9)))
    for name, why in (("cut.npz", "cannot read stats file"), ("n_arr.npz", "one number"),
                      ("n_frac.npz", "whole number")):
        line = one_line_error(cli_here(capfd, "stats", "--merge", tmp_path / name, f["a_2of2"],
                                    "-o", tmp_path / "x.npz"))
        assert name in line and why in line, line


# -- 6, 7. metrics that need images, with a stats file or too few images ------------------------------
def test_a_stats_file_as_generated_source_gives_fid_and_nulls_with_reasons(sets, model_path, tmp_path):
    gen_stats = _valid_stats(tmp_path / "gen_stats.npz", n=50, seed=9)
    for opts in (Options(device="cpu", use_cache=False),                              # fid, kid
                 Options(device="cpu", use_cache=False, metrics=("fid", "kid", "pr", "gan-train")),
                 suites.apply("adm", Options(device="cpu", use_cache=False))):
        res = run(sets["ref"], [gen_stats], opts, model_path=model_path).results[0]
        assert isinstance(res.metrics["fid"], float) and np.isfinite(res.metrics["fid"])
        for key in ("kid_mean", "precision", "is_mean"):
            assert res.metrics.get(key) is None
        assert any("need generated images, not a stats file" in w for w in res.warnings), res.warnings
        assert not any("not a finite number" in w for w in res.warnings), res.warnings
        if "gan-train" in opts.metrics:
            assert any("GAN-train/test need generated images" in w for w in res.warnings)


def test_precision_recall_with_few_images_is_null_with_the_reason(sets, model_path, tmp_path, capfd, common):
    few = make_folder(tmp_path / "few", 3, seed=31, size=(32, 32))
    for extra in (("--metrics", "fid,kid,pr"), ("--suite", "adm")):
        out = cli_here(capfd, "compute", sets["ref"], few, *extra, *common)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr[-3000:]
        r = json.loads(out.stdout)["results"][0]
        assert r["metrics"]["precision"] is None and r["metrics"]["recall"] is None
        assert any("precision/recall not computed" in w and "images per set" in w for w in r["warnings"])
        assert not any("not a finite number" in w for w in r["warnings"]), r["warnings"]


# -- 14. the smaller ones ---------------------------------------------------------------------------
def test_json_dash_is_stdout_and_other_dashes_are_refused(sets, common, tmp_path, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ref_stats = _valid_stats(tmp_path / "ref.npz")
    out = cli_here(capfd, "compute", ref_stats, sets["gen"], "--metrics", "fid", "--json", "-", *common)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["results"][0]["metrics"]["fid"] is not None
    assert not (tmp_path / "-").exists()
    for flag in ("--csv", "--per-image", "--pdf"):
        line = one_line_error(cli_here(capfd, "compute", ref_stats, sets["gen"], flag, "-", *common))
        assert f"{flag} -" in line and "standard output" in line
    assert "-o -" in one_line_error(cli_here(capfd, "stats", sets["gen"], "-o", "-", *common))
    assert not (tmp_path / "-").exists() and not (tmp_path / "-.npz").exists()


def test_stats_output_without_npz_gets_it_and_compute_reads_it(sets, common, tmp_path, capfd):
    out = cli_here(capfd, "stats", sets["ref"], "-o", tmp_path / "noext", *common)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "noext.npz").is_file() and not (tmp_path / "noext").exists()
    assert f"wrote {tmp_path / 'noext.npz'}" in out.stderr
    out = cli_here(capfd, "compute", tmp_path / "noext.npz", sets["gen"], "--metrics", "fid", *common)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["results"][0]["metrics"]["fid"] is not None


def test_a_folder_given_as_weights_is_said_to_be_a_folder(tmp_path, capfd, model_path):
    folder = tmp_path / "weights_dir"
    folder.mkdir()
    model = tmp_path / "m.onnx"
    shutil.copy(model_path, model)
    for args in (("model", "build", "--weights", folder, "--out", tmp_path / "out.onnx"),
                 ("model", "add-is-head", "--weights", folder, "--model", model)):
        line = one_line_error(cli_here(capfd, *args))
        assert "is a folder" in line and "no such file" not in line, line
    assert not (tmp_path / "out.onnx").exists()
    assert model.read_bytes() == model_path.read_bytes()


def test_weights_and_output_of_a_model_build_must_differ(tmp_path, capfd):
    weights = tmp_path / "pt_inception.pth"
    weights.write_bytes(b"not really weights")
    line = one_line_error(cli_here(capfd, "model", "build", "--weights", weights, "--out", weights))
    assert "must not overwrite" in line
    assert weights.read_bytes() == b"not really weights"


def test_stats_reference_with_pr_gives_only_the_true_reason(sets, model_path, tmp_path):
    ref_stats = _valid_stats(tmp_path / "ref.npz")
    res = run(ref_stats, [sets["gen"]], Options(metrics=("fid", "pr"), device="cpu", use_cache=False),
              model_path=model_path).results[0]
    assert res.metrics["precision"] is None
    assert any("precision/recall need reference images" in w for w in res.warnings), res.warnings
    assert not any("not a finite number" in w for w in res.warnings), res.warnings


def test_gui_export_onto_an_input_is_refused(sets, model_path, tmp_path):
    pytest.importorskip("PySide6")
    from gui.exporting import export
    result = run(sets["ref"], [sets["gen"]], Options(metrics=("fid",), device="cpu", use_cache=False),
                 model_path=model_path)
    with pytest.raises(ValueError, match="among the run's inputs"):
        export(result, sets["gen"] / "report.csv")
    assert not (sets["gen"] / "report.csv").exists()
    export(result, tmp_path / "report.csv")
    assert (tmp_path / "report.csv").read_text().count("\n") == 2


def test_ray_local_instance_keeps_its_token_out_of_home(tmp_path, monkeypatch):
    """Without starting Ray: the token file Ray would write to ~/.ray goes under the app's data
    folder, mode 0600, and Ray is pointed at it (the Ray run itself is in test_ray_executor)."""
    from engine.distributed import cluster
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    for var in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE"):
        monkeypatch.delenv(var, raising=False)
    cluster.keep_token_in_app_folder()
    path = tmp_path / "data" / "ray" / "auth_token"
    assert os.environ["RAY_AUTH_TOKEN_PATH"] == str(path)
    token = path.read_text()
    assert len(token) == 64 and int(token, 16) >= 0
    assert (path.stat().st_mode & 0o777) == 0o600
    cluster.keep_token_in_app_folder()          # a second start reuses it
    assert path.read_text() == token
    assert not (tmp_path / "home").exists()
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "mine"))
    cluster.keep_token_in_app_folder()          # the user's own setting wins
    assert os.environ["RAY_AUTH_TOKEN_PATH"] == str(tmp_path / "mine")


@pytest.mark.slow   # starts a real Ray instance: the slow tier
def test_a_ray_run_leaves_nothing_in_home(sets, model_path, tmp_path):
    """A real local Ray instance started by the CLI: Ray's token is under the app's data
    folder, and nothing appears under $HOME/.ray."""
    pytest.importorskip("ray")
    import subprocess
    import sys
    from conftest import ROOT
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), FID_STUDIO_DATA_DIR=str(data),
               FID_STUDIO_CACHE_DIR=str(tmp_path / "cache"))
    for var in ("RAY_ADDRESS", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, "main.py", "compute", str(sets["ref"]), str(sets["gen"]),
                           "--metrics", "fid", "--executor", "ray", "--device", "cpu", "--no-cache",
                           "--model", str(model_path)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["results"][0]["metrics"]["fid"] > 0
    assert not (home / ".ray").exists(), sorted(str(p) for p in (home / ".ray").rglob("*"))
    token = data / "ray" / "auth_token"
    assert len(token.read_text()) == 64 and (token.stat().st_mode & 0o777) == 0o600
