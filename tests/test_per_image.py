"""Per-image scores (engine.per_image): against a brute-force float64 oracle, bounded memory,
and on real images with known answers through the whole job with the real ONNX model."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from engine.metrics import prdc
from engine.per_image import scores as per_image
from engine.per_image.table import CSV_COLUMNS, to_csv_text
from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder, make_image
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)


def oracle(real, fake, k=3, eps=per_image.EPS):
    """The definitions written out on the full float64 distance matrices."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    drr = np.sqrt(((real[:, None, :] - real[None, :, :]) ** 2).sum(-1))
    dfr = np.sqrt(((fake[:, None, :] - real[None, :, :]) ** 2).sum(-1))
    srt = np.sort(drr, axis=1)
    radius, nn = srt[:, k], srt[:, 1]
    kept = np.where(radius <= np.median(radius), radius, 0.0)
    realism = (kept[None, :] / (dfr + eps)).max(axis=1)
    nearest = dfr.argmin(axis=1)
    threshold = per_image.COPY_FRACTION * np.percentile(nn, per_image.COPY_PERCENTILE)
    dist = dfr[np.arange(len(fake)), nearest]
    return realism, (dfr < radius[None, :]).any(axis=1), nearest, dist, dist < threshold


def _features(seed, n_real=70, n_fake=33, dim=24):
    rng = np.random.default_rng(seed)
    real = rng.normal(5.0, 1.0, (n_real, dim)).astype(np.float32)
    fake = rng.normal(5.2, 1.3, (n_fake, dim)).astype(np.float32)
    fake[4] = real[17]              # an exact copy
    fake[9] = real[3] + 1e-3        # a near copy
    return real, fake


def test_matches_the_brute_force_oracle_and_prdc_precision():
    real, fake = _features(0)
    got = per_image.compute(real, fake, block=16)
    realism, inside, nearest, dist, copy = oracle(real, fake)
    # a copy's realism is radius / (float32 cancellation residue + eps): not comparable
    others = ~np.isin(np.arange(len(fake)), (4, 9))
    np.testing.assert_allclose(got.realism[others], realism[others], rtol=2e-4)
    np.testing.assert_array_equal(got.in_manifold, inside)
    np.testing.assert_array_equal(got.nearest, nearest)
    np.testing.assert_allclose(got.distance, dist, rtol=1e-9, atol=1e-12)
    assert got.distance[4] == 0.0 and got.nearest[4] == 17 and got.nearest[9] == 3
    np.testing.assert_array_equal(got.possible_copy, copy)
    assert set(np.flatnonzero(got.possible_copy)) == {4, 9}
    assert got.in_manifold.mean() == prdc.compute(real, fake).precision


def test_block_size_changes_nothing():
    real, fake = _features(1, n_real=300, n_fake=130)
    a = per_image.compute(real, fake, block=256)
    b = per_image.compute(real, fake, block=37)
    for name in ("realism", "in_manifold", "nearest", "distance", "possible_copy"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-6, err_msg=name)
    np.testing.assert_array_equal(a.nearest, b.nearest)
    assert a.copy_threshold == pytest.approx(b.copy_threshold, rel=1e-6)


def test_memory_stays_bounded_without_the_distance_matrix():
    rng = np.random.default_rng(2)
    n, dim = 10000, 4
    real = rng.normal(size=(n, dim)).astype(np.float32)
    fake = rng.normal(size=(n, dim)).astype(np.float32)
    full_matrix = n * n * 4                        # 400 MB in float32
    tracemalloc.start()
    try:
        per_image.compute(real, fake)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < full_matrix / 8, peak


def _noised(img: Image.Image, rng, std=90.0) -> Image.Image:
    arr = np.asarray(img, np.float64) + rng.normal(0, std, (img.height, img.width, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


COPIED = (2, 11, 23)
N_CLEAN = N_NOISED = 8


@pytest.fixture(scope="module")
def known_sets(tmp_path_factory):
    """A reference of 30 images; a generated folder with 8 new clean images, 8 heavily noised
    new images and exact copies (other names) of 3 reference files."""
    root = tmp_path_factory.mktemp("per_image")
    ref = make_folder(root / "ref", 30, seed=1)
    gen = root / "gen"
    gen.mkdir()
    rng = np.random.default_rng(5)
    noise_rng = np.random.default_rng(6)
    for i in range(N_CLEAN + N_NOISED):
        img = make_image(rng)
        if i >= N_CLEAN:
            _noised(img, noise_rng).save(gen / f"noisy_{i:02d}.png")
        else:
            img.save(gen / f"clean_{i:02d}.png")
    for i in COPIED:
        shutil.copy(ref / f"img_{i:04d}.png", gen / f"copied_from_{i:04d}.png")
    return ref, gen


@pytest.fixture(scope="module")
def known_result(known_sets, inception_model_path):
    # realism ranks are about the network's features: the real Inception model
    ref, gen = known_sets
    return run(ref, [gen], Options(metrics=("fid", "pr"), per_image=True, batch_size=8, workers=2,
                                   use_cache=False, device="cpu"), model_path=inception_model_path)


def test_exact_copies_are_flagged_with_their_reference_file(known_result):
    t = known_result.results[0].per_image
    flagged = {t.files[i]: i for i in np.flatnonzero(t.scores.possible_copy)}
    assert set(flagged) == {f"copied_from_{i:04d}.png" for i in COPIED}
    for name, i in flagged.items():
        assert t.nearest_name(i) == "img_" + name.split("_")[-1]
        assert t.scores.distance[i] < 1e-3
    summary = known_result.results[0].extras["per_image"]
    assert summary["n_possible_copies"] == len(COPIED) and summary["n_images"] == len(t)
    assert {c["file"] for c in summary["possible_copies"]} == set(flagged)
    assert summary["n_in_manifold"] / len(t) == pytest.approx(known_result.results[0].metrics["precision"])
    json.dumps(known_result.to_dict())         # the summary is plain JSON


def test_noised_images_rank_least_realistic(known_result):
    t = known_result.results[0].per_image
    worst = [t.files[i] for i in t.order("realism")[:N_NOISED]]
    fraction = sum(f.startswith("noisy_") for f in worst) / N_NOISED
    print(f"noised among the {N_NOISED} least realistic: {fraction:.3f}")
    assert fraction >= 0.75       # measured here: 0.875 (7 of 8; the 8th noised image is 9th)
    ranks = {t.files[i]: r for r, i in enumerate(t.order("realism"))}
    noisy = sorted(r for f, r in ranks.items() if f.startswith("noisy_"))
    print("ranks of the noised images (0 = least realistic):", noisy)


def test_per_image_rows_identical_across_batch_size_and_workers(known_sets, known_result):
    ref, gen = known_sets
    other = run(ref, [gen], Options(metrics=("fid",), per_image=True, batch_size=3, workers=1,
                                    use_cache=False, device="cpu"), model_path=known_result.model["path"])
    assert to_csv_text([other.results[0].per_image]) == to_csv_text([known_result.results[0].per_image])


def test_cli_writes_the_per_image_csv_and_a_json_summary(tmp_path, model_path):
    ref = make_folder(tmp_path / "ref", 8, seed=1, size=(32, 32))
    gen = make_folder(tmp_path / "gen", 8, seed=1, size=(32, 32))   # the same images: paired copies
    out = subprocess.run([sys.executable, "main.py", "compute", str(ref), str(gen), "--metrics", "fid,ssim,psnr",
                          "--device", "cpu", "--per-image", str(tmp_path / "pi.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader((tmp_path / "pi.csv").open()))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 8
    assert all(r["possible_copy"] == "true" and r["nearest_real"] == r["file"] for r in rows)
    assert all(float(r["ssim"]) == 1.0 and r["psnr"] == "inf" and float(r["distance"]) < 1e-3 for r in rows)
    summary = json.loads(out.stdout)["results"][0]["extras"]["per_image"]
    assert summary["n_possible_copies"] == 8 and "percentile" in summary["copy_rule"]
    assert len(summary["least_realistic"]) == 5
