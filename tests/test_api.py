"""The Python API (fid_studio.Evaluator) against the CLI on the same pixels, the reference
processed once, inputs in every accepted form, thread safety and the training-run log."""
from __future__ import annotations

import json
import sqlite3
import threading

import numpy as np
import pytest
from imagegen import make_image
from PIL import Image

import fid_studio
from cli import main as cli_main
from engine.outputs.training_log import TrainingLog
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

METRICS = ("fid", "kid", "pr")


def images(n, seed, size=(40, 48)):
    rng = np.random.default_rng(seed)
    return np.stack([np.asarray(make_image(rng, size, shift=seed)) for _ in range(n)])


def write_pngs(folder, arr):
    folder.mkdir(parents=True)
    for i, a in enumerate(arr):
        Image.fromarray(a).save(folder / f"img_{i:03d}.png")
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("api")
    ref, gen = images(20, 1), images(16, 2)
    return {"ref": ref, "gen": gen, "ref_dir": write_pngs(root / "ref", ref),
            "gen_dir": write_pngs(root / "gen", gen), "root": root}


@pytest.fixture(scope="module")
def cli_metrics(data, model_path):
    out = data["root"] / "cli.json"
    rc = cli_main(["compute", str(data["ref_dir"]), str(data["gen_dir"]), "--metrics", ",".join(METRICS),
                   "--device", "cpu", "--model", str(model_path), "--no-cache", "--json", str(out)])
    assert rc == 0
    return json.loads(out.read_text())["results"][0]["metrics"]


@pytest.fixture(scope="module")
def evaluator(data, model_path):
    with fid_studio.Evaluator(data["ref_dir"], metrics=METRICS, device="cpu", model=model_path) as ev:
        yield ev


@pytest.fixture(scope="module")
def kid_evaluator(data, model_path):
    """No FID: its 2048x2048 eigen-decomposition dominates small sets' cost on a busy CPU."""
    with fid_studio.Evaluator(data["ref"], metrics=("kid", "pr"), device="cpu", model=model_path) as ev:
        yield ev


def same(scores, cli):
    keys = ("fid", "kid_mean", "kid_std", "precision", "recall", "density", "coverage")
    return {k: scores.metrics[k] for k in keys} == {k: cli[k] for k in keys}


def test_array_equals_png_folder_through_the_cli(evaluator, data, cli_metrics):
    nhwc = evaluator.score(data["gen"])
    assert nhwc.n_images == 16 and nhwc.n_reference == 20 and nhwc.preset == "clean"
    assert same(nhwc, cli_metrics), (nhwc.metrics, cli_metrics)
    assert nhwc.fid == cli_metrics["fid"] and nhwc.kid == cli_metrics["kid_mean"]
    assert any("fewer than 2048" in w for w in nhwc.warnings)


def test_every_input_form_gives_the_same_numbers(kid_evaluator, data, tmp_path):
    gen, ev = data["gen"], kid_evaluator
    expected = dict(ev.score(gen).metrics)
    assert expected["kid_mean"] is not None and expected["precision"] is not None
    assert dict(ev.score(gen.transpose(0, 3, 1, 2).copy()).metrics) == expected      # N×3×H×W
    assert dict(ev.score(b for b in (gen[:5], gen[5:13], gen[13:])).metrics) == expected  # batches
    assert dict(ev.score([gen[:7], gen[7:]]).metrics) == expected
    assert dict(ev.score(str(data["gen_dir"])).metrics) == expected                   # PNG folder
    samples = tmp_path / "samples.npz"
    np.savez(samples, arr_0=gen)                       # guided-diffusion's sample format
    assert dict(ev.score(samples).metrics) == expected


def test_in_memory_reference_equals_folder_reference(data, model_path, cli_metrics):
    ev = fid_studio.Evaluator(data["ref"], metrics=METRICS, device="cpu", model=model_path)
    assert ev.reference_label == "in-memory images (20)"
    assert same(ev.score(data["gen"]), cli_metrics)


def test_reference_is_processed_once(data, model_path):
    for reference in (data["ref"], data["ref_dir"]):
        ev = fid_studio.Evaluator(reference, metrics=("kid",), device="cpu", model=model_path,
                                  use_cache=False, batch_size=16)
        assert ev.images_run == 20
        firsts = [ev.score(data["gen"][:6]).kid for _ in range(4)]
        assert ev.images_run == 20 + 4 * 6           # only the generated images ran
        assert len(set(firsts)) == 1
        ev.close()


def test_concurrent_scores_from_threads_equal_sequential(kid_evaluator, data):
    evaluator = kid_evaluator
    parts = [data["gen"][:8], data["gen"][6:], data["gen"][3:12]]
    expected = [evaluator.score(p).metrics for p in parts]
    got, errors = [None] * 4, []

    def work(i):
        try:
            got[i] = evaluator.score(parts[i % 3]).metrics
        except Exception as exc:  # reported below with the thread's index
            errors.append((i, exc))
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [dict(g) for g in got] == [dict(expected[i % 3]) for i in range(4)]


def test_stats_reference(data, cli_metrics, model_path, tmp_path):
    stats = tmp_path / "ref_stats.npz"
    assert cli_main(["stats", str(data["ref_dir"]), "-o", str(stats), "--device", "cpu",
                     "--model", str(model_path)]) == 0
    ev = fid_studio.Evaluator(stats, metrics=("fid", "kid"), device="cpu", model=model_path)
    s = ev.score(data["gen"])
    assert s.n_reference == 20
    assert s.fid == pytest.approx(cli_metrics["fid"], rel=1e-9)
    assert s.kid is None and any("KID need reference images" in w for w in s.warnings)


def test_bad_inputs_say_what_to_do(evaluator, data, model_path):
    with pytest.raises(ValueError, match="must be uint8"):
        evaluator.score(data["gen"].astype(np.float32) / 255)
    with pytest.raises(ValueError, match=r"one image .*x\[None\]"):
        evaluator.score(data["gen"][0])
    with pytest.raises(ValueError, match="3 colour channels"):
        evaluator.score(np.zeros((2, 5, 8, 8), np.uint8))
    with pytest.raises(TypeError, match="iterable of such batches"):
        evaluator.score(42)
    with pytest.raises(fid_studio.OptionError, match="ssim.*use the CLI"):
        fid_studio.Evaluator(data["ref"], metrics=("fid", "ssim"), device="cpu", model=model_path)
    with pytest.raises(fid_studio.OptionError, match="unknown preset"):
        fid_studio.Evaluator(data["ref"], preset="tf", device="cpu", model=model_path)
    with pytest.raises(fid_studio.InputError, match="source not found"):
        evaluator.score(str(data["root"] / "missing"))


def test_grayscale_batches_match_rgb(kid_evaluator, data):
    evaluator = kid_evaluator
    gray = data["gen"][:6, :, :, :1]
    assert evaluator.score(gray).metrics == evaluator.score(np.repeat(gray, 3, axis=3)).metrics


def test_log_writes_training_points_in_wal_mode(data, model_path, tmp_path):
    db = tmp_path / "history.sqlite3"
    ev = fid_studio.Evaluator(data["ref"], metrics=("fid",), device="cpu", model=model_path, history=db)
    s = ev.score(data["gen"])
    for step in (100, 300, 200):
        ev.log(step, s, run="exp1")
    ev.log(300, s, run="exp1")                         # a resumed run re-logs: replaced
    other = fid_studio.Evaluator(data["ref_dir"], metrics=("fid",), device="cpu", model=model_path, history=db)
    with pytest.raises(ValueError, match="another run name"):     # same name, another reference
        other.log(5, s, run="exp1")
    other.close()
    ev.close()
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with TrainingLog(db) as log:
        (run,) = log.runs()
        assert (run.name, run.n_points, run.last_step, run.best_fid) == ("exp1", 3, 300, s.fid)
        result = log.as_result("exp1")
    assert [r.path for r in result.results] == ["step_100", "step_200", "step_300"]
    assert result.options["metrics"] == ["fid"] and result.reference["n_images"] == 20
    assert all(r.metrics["fid"] == s.fid for r in result.results)


def test_log_refuses_a_run_of_another_reference(data, model_path, tmp_path):
    db = tmp_path / "h.sqlite3"
    a = fid_studio.Evaluator(data["ref"], metrics=("kid",), device="cpu", model=model_path, history=db)
    b = fid_studio.Evaluator(data["ref"][:12], metrics=("kid",), device="cpu", model=model_path, history=db)
    s = a.score(data["gen"][:4])
    a.log(1, s, run="x")
    with pytest.raises(ValueError, match="another run name"):
        b.log(2, b.score(data["gen"][:4]), run="x")
    with pytest.raises(ValueError, match="step must be"):
        a.log(-1, s, run="x")
