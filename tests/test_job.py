"""The whole job with the real ONNX model: determinism, cache, cancel, bad input, pairs."""
import json
import os
import shutil

import numpy as np
import pytest

from badinput import BAD, make_bad_folder
from engine.features import cache as feature_cache
from engine.errors import Cancelled, CancelToken
from engine.run.events import Progress
from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    ref = make_folder(root / "ref", 24, seed=1, size=(40, 36))
    gen = make_folder(root / "gen", 20, seed=2, size=(40, 36), shift=60)
    return ref, gen


def _values(result):
    return result.results[0].metrics


def test_results_do_not_depend_on_batch_size_or_workers(folders, model_path):
    ref, gen = folders
    runs = []
    for batch, workers in ((1, 1), (7, 3), (32, 2)):
        opts = Options(metrics=("fid", "kid", "pr"), batch_size=batch, workers=workers, use_cache=False,
                       kid_subsets=10, device="cpu")
        runs.append(_values(run(ref, [gen], opts)))
    for other in runs[1:]:
        for key in ("fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage"):
            assert other[key] == pytest.approx(runs[0][key], rel=1e-9, abs=1e-15), key
    assert runs[0]["fid"] > 1.0


def test_feature_cache_hit_and_corrupt_entry_rebuilt(folders, model_path, tmp_path):
    ref, gen = folders
    opts = Options(metrics=("fid",), device="cpu")
    first = run(ref, [gen], opts, cache_root=tmp_path)
    entries = list((tmp_path / "features").iterdir())
    assert len(entries) == 2 and not list((tmp_path / "tmp").iterdir())
    events = []
    second = run(ref, [gen], opts, cache_root=tmp_path, on_event=events.append)
    assert _values(second)["fid"] == _values(first)["fid"]
    assert not [e for e in events if isinstance(e, Progress) and e.images_per_s > 0]  # nothing recomputed
    for e in entries:  # damage every entry: a truncated feature file must be detected
        with open(e / "features.f32", "r+b") as fh:
            fh.truncate(100)
    third = run(ref, [gen], opts, cache_root=tmp_path)
    assert _values(third)["fid"] == pytest.approx(_values(first)["fid"], rel=1e-12)
    assert any("damaged" in w for w in third.results[0].warnings)


def test_cancel_stops_and_leaves_no_partial_cache(folders, model_path, tmp_path):
    ref, gen = folders
    token = CancelToken()
    seen = []

    def on_event(e):
        seen.append(e)
        if isinstance(e, Progress):
            token.cancel()
    with pytest.raises(Cancelled):
        run(ref, [gen], Options(metrics=("fid",), batch_size=4, device="cpu"), on_event=on_event,
            cancel=token, cache_root=tmp_path)
    assert sum(isinstance(e, Progress) for e in seen) == 1
    assert not (tmp_path / "features").exists() or not list((tmp_path / "features").iterdir())
    assert not list((tmp_path / "tmp").iterdir())


def test_bad_input_folder_runs_to_completion(folders, model_path, tmp_path):
    ref, _ = folders
    bad = make_bad_folder(tmp_path / "bad")
    result = run(ref, [bad], Options(metrics=("fid", "kid"), device="cpu", use_cache=False))
    r = result.results[0]
    reasons = {s["file"]: s["reason"] for s in r.skipped}
    assert set(reasons) == set(BAD)
    for name, fragment in BAD.items():
        assert fragment in reasons[name]
    assert r.n_images == 11 and np.isfinite(r.metrics["fid"])
    joined = " ".join(r.warnings)
    assert "16-bit" in joined and "EXIF orientation ignored" in joined and "non-image" in joined
    json.dumps(result.to_dict())  # non-UTF-8 names must serialise


def test_running_fid_progress_and_stats_reference(folders, model_path, tmp_path):
    ref, gen = folders
    opts = Options(metrics=("fid", "kid"), device="cpu")
    events = []
    full = run(ref, [gen], opts, on_event=events.append, cache_root=tmp_path)
    fids = [e.running_fid for e in events if isinstance(e, Progress) and e.role == "generated" and e.running_fid]
    assert fids and fids[-1] == pytest.approx(_values(full)["fid"], rel=1e-12)
    from cli import main as cli
    assert cli(["stats", str(ref), "-o", str(tmp_path / "ref.npz"), "--device", "cpu"]) == 0
    from_stats = run(tmp_path / "ref.npz", [gen], opts, cache_root=tmp_path)
    assert _values(from_stats)["fid"] == pytest.approx(_values(full)["fid"], rel=1e-12)
    assert _values(from_stats)["kid_mean"] is None
    assert any("KID need reference images" in w for w in from_stats.results[0].warnings)


def test_paired_metrics_match_by_name(tmp_path):
    from PIL import Image
    ref = make_folder(tmp_path / "ref", 4, seed=5, size=(24, 20))
    gen = tmp_path / "gen"
    shutil.copytree(ref, gen)
    Image.open(gen / "img_0000.png").save(gen / "img_0000.jpg", quality=70)  # same stem, other extension
    (gen / "img_0000.png").unlink()
    Image.open(ref / "img_0001.png").resize((10, 10)).save(gen / "img_0001.png")  # size mismatch
    (gen / "img_0003.png").unlink()
    make_folder(gen, 1, seed=9, size=(24, 20), prefix="extra")
    events = []
    r = run(ref, [gen], Options(metrics=("ssim", "mse", "psnr"), device="cpu"), on_event=events.append).results[0]
    first = next(e for e in events if isinstance(e, Progress))
    assert first.done == 0 and {f for f, _ in first.new_skipped} >= {"extra_0000.png", "img_0003.png"}
    problems = {p["file"]: p["reason"] for p in r.extras["pair_problems"]}
    assert "size mismatch" in problems["img_0001.png"]
    assert "unpaired" in problems["extra_0000.png"] and "unpaired" in problems["img_0003.png"]
    assert r.metrics["n_pairs"] == 2
    assert r.metrics["mse"] > 0  # jpg re-encoding differs from the png
    assert any("identical" in w for w in r.warnings)  # img_0002 is a byte copy
