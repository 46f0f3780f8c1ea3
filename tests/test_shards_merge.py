"""Shards of a source and stats that merge: one run equals the merge of its shards."""
import zipfile

import numpy as np
import pytest

from cli import main as cli
from engine.errors import OptionError
from engine.inputs.shards import apply_shard, parse_shard
from engine.inputs.sources import open_source
from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)


def _rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_shards_partition_the_sorted_list_deterministically(tmp_path):
    folder = make_folder(tmp_path / "f", 11, seed=3, size=(16, 16))
    src = open_source(folder)
    for n in (1, 2, 3, 11, 13):
        parts = [apply_shard(src, (i, n)).files for i in range(1, n + 1)]
        assert [f for p in parts for f in p] == src.files  # contiguous, in order, each file once
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
        assert parts == [apply_shard(open_source(folder), (i, n)).files for i in range(1, n + 1)]
    zpath = tmp_path / "a.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for i in range(4):
            zf.write(folder / src.files[i], f"m{i}.png")
    zsrc = open_source(zpath)
    zsrc.refused.append(("m9.png", "refused for the test"))
    assert [apply_shard(zsrc, (i, 2)).refused for i in (1, 2)] == [[], [("m9.png", "refused for the test")]]
    assert parse_shard("") is None and parse_shard("2/5") == (2, 5)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(OptionError, match="--shard"):
            parse_shard(bad)
    with pytest.raises(OptionError):
        Options(shard="5/4")


@pytest.fixture(scope="module")
def shard_files(tmp_path_factory, model_path):
    root = tmp_path_factory.mktemp("shards")
    folder = make_folder(root / "imgs", 12, seed=7, size=(40, 32))
    common = ["--device", "cpu", "--model", str(model_path), "--batch-size", "4"]
    assert cli(["stats", str(folder), "-o", str(root / "all.npz"), *common]) == 0
    parts = []
    for i in (1, 2, 3):
        parts.append(root / f"part{i}.npz")
        assert cli(["stats", str(folder), "--shard", f"{i}/3", "-o", str(parts[-1]), *common]) == 0
    return root, folder, parts, common


def test_merged_shards_equal_one_run_over_all_files(shard_files):
    root, folder, parts, _ = shard_files
    assert cli(["stats", "--merge", *map(str, parts), "-o", str(root / "merged.npz")]) == 0
    with np.load(root / "all.npz") as a, np.load(root / "merged.npz") as m:
        assert int(m["n"]) == int(a["n"]) == 12
        assert m["sum"].dtype == m["sum_outer"].dtype == np.float64
        assert _rel(m["mu"], a["mu"]) <= 1e-12 and _rel(m["sigma"], a["sigma"]) <= 1e-12
        np.testing.assert_allclose(m["sum"], a["sum"], rtol=1e-12)
        assert str(m["preset"]) == "clean" and str(m["model_sha256"]) == str(a["model_sha256"])
    sizes = []
    for p in parts:
        with np.load(p) as z:
            sizes.append(int(z["n"]))
            assert str(z["shard"]).endswith("/3")
    assert sizes == [4, 4, 4]
    # a merged file is a stats file like any other: FID against it equals FID against the whole
    gen = make_folder(root / "gen", 6, seed=8, size=(40, 32), shift=60)
    opts = Options(metrics=("fid",), device="cpu")
    whole = run(root / "all.npz", [gen], opts).results[0].metrics["fid"]
    merged = run(root / "merged.npz", [gen], opts).results[0].metrics["fid"]
    assert merged == pytest.approx(whole, rel=1e-9)


def test_merge_refuses_what_cannot_be_merged(shard_files, capsys):
    root, folder, parts, common = shard_files
    tf = root / "tf.npz"
    assert cli(["stats", str(folder), "--shard", "1/3", "-o", str(tf), *common, "--preset", "tensorflow"]) == 0
    capsys.readouterr()
    assert cli(["stats", "--merge", str(parts[1]), str(tf), "-o", str(root / "x.npz")]) == 2
    assert "another preset" in capsys.readouterr().err
    with np.load(parts[1]) as z:
        other_model = dict(z)
    other_model["model_sha256"] = np.str_("0" * 64)
    np.savez(root / "other_model.npz", **other_model)
    assert cli(["stats", "--merge", str(parts[0]), str(root / "other_model.npz"), "-o", str(root / "x.npz")]) == 2
    assert "another model" in capsys.readouterr().err
    assert cli(["stats", "--merge", str(parts[0]), str(parts[0]), "-o", str(root / "x.npz")]) == 2
    assert "same images" in capsys.readouterr().err
    np.savez(root / "plain.npz", mu=other_model["mu"], sigma=other_model["sigma"])
    assert cli(["stats", "--merge", str(parts[0]), str(root / "plain.npz"), "-o", str(root / "x.npz")]) == 2
    assert "no moments" in capsys.readouterr().err
    assert not (root / "x.npz").exists()
    assert cli(["stats", "-o", str(root / "x.npz")]) == 2
    assert cli(["stats", str(folder), "--shard", "9/3", "-o", str(root / "x.npz")]) == 2
    assert "--shard" in capsys.readouterr().err


def test_compute_on_a_shard_scores_only_its_images_and_says_so(shard_files):
    root, folder, _, _ = shard_files
    res = run(root / "all.npz", [folder], Options(metrics=("fid",), device="cpu", shard="2/3")).results[0]
    assert res.n_images == 4 and res.extras["shard"] == "2/3"
    assert any("shard 2/3" in w and "merge" in w for w in res.warnings)
