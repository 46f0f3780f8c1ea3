"""Metric modules against independent oracles and the reference packages themselves."""
import math

import numpy as np
import pytest
from scipy import linalg

from engine.metrics import fid, inception_score, kid, paired, prdc as prdc_metric
from engine.features.stats import MomentAccumulator


def _stats(x):
    return fid.GaussianStats(x.mean(0), np.cov(x, rowvar=False), len(x))


def _fid_oracle(s1, s2):
    # the pytorch-fid / clean-fid formula with scipy.linalg.sqrtm (the old implementation)
    covmean = linalg.sqrtm(s1.sigma @ s2.sigma)
    covmean = covmean.real
    d = s1.mu - s2.mu
    return d @ d + np.trace(s1.sigma) + np.trace(s2.sigma) - 2 * np.trace(covmean)


def test_fid_matches_sqrtm_oracle_full_rank():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 32)) @ rng.normal(size=(32, 32))
    b = rng.normal(size=(300, 32)) @ rng.normal(size=(32, 32)) + 0.3
    s1, s2 = _stats(a), _stats(b)
    ours = fid.compute(s1, s2)
    assert ours.fid == pytest.approx(_fid_oracle(s1, s2), rel=1e-10)
    assert ours.residue < 1e-8 and ours.warnings() == []


def test_fid_identical_is_zero_and_nan_is_reported():
    rng = np.random.default_rng(1)
    s = _stats(rng.normal(size=(100, 8)))
    assert abs(fid.compute(s, s).fid) < 1e-9
    bad = fid.GaussianStats(s.mu.copy(), s.sigma.copy())
    bad.sigma[0, 0] = np.nan
    value = fid.compute(s, bad)
    assert math.isnan(value.fid) and "not finite" in value.warnings()[0]


def test_streaming_moments_equal_np_cov_and_ignore_batching():
    rng = np.random.default_rng(2)
    x = (rng.normal(size=(1000, 64)) * 0.1 + 5.0).astype(np.float32)  # large mean: cancellation test
    results = []
    for chunk in (1, 7, 256, 1000):
        acc = MomentAccumulator(64)
        for s in range(0, len(x), chunk):
            acc.add(x[s:s + chunk])
        results.append(acc.stats())
    ref_cov = np.cov(x.astype(np.float64), rowvar=False)
    np.testing.assert_allclose(results[0].sigma, ref_cov, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(results[0].mu, x.astype(np.float64).mean(0), rtol=1e-12)
    for r in results[1:]:
        assert np.array_equal(r.sigma, results[0].sigma) and np.array_equal(r.mu, results[0].mu)


def _kid_oracle(x, y, subsets, size, seed):
    # loop-by-element definition of the unbiased MMD² with the same subset draws
    rng = np.random.default_rng(seed)
    vals = []
    d = x.shape[1]
    for _ in range(subsets):
        gi = np.sort(rng.choice(len(y), size, replace=False))
        ri = np.sort(rng.choice(len(x), size, replace=False))
        g, r = y[gi], x[ri]
        k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
        kxx = sum(k(g[i], g[j]) for i in range(size) for j in range(size) if i != j) / (size * (size - 1))
        kyy = sum(k(r[i], r[j]) for i in range(size) for j in range(size) if i != j) / (size * (size - 1))
        kxy = sum(k(g[i], r[j]) for i in range(size) for j in range(size)) / (size * size)
        vals.append(kxx + kyy - 2 * kxy)
    return np.mean(vals), np.std(vals)


def test_kid_matches_elementwise_oracle_and_is_seeded():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 6))
    y = rng.normal(size=(35, 6)) + 0.5
    v = kid.compute(x, y, subsets=4, subset_size=12, seed=7)
    m, s = _kid_oracle(x, y, 4, 12, 7)
    assert v.mean == pytest.approx(m, rel=1e-10) and v.std == pytest.approx(s, rel=1e-8)
    assert kid.compute(x, y, 4, 12, 7) == v
    assert kid.compute(x, y, 4, 12, 8).mean != v.mean
    shrunk = kid.compute(x, y, 2, 1000, 0)
    assert shrunk.subset_size == 35 and "shrunk" in shrunk.warnings(1000)[0]


def test_inception_score_matches_definition():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(100, 1008)) * 3
    v = inception_score.compute(logits, "ttur")   # 10 equal splits in file order
    scores = []
    for k in range(10):
        p = np.exp(logits[k * 10:(k + 1) * 10])
        p /= p.sum(1, keepdims=True)
        py = p.mean(0)
        scores.append(np.exp(np.mean([np.sum(pi * np.log(pi / py)) for pi in p])))
    assert v.mean == pytest.approx(np.mean(scores), rel=1e-10)
    assert v.std == pytest.approx(np.std(scores), rel=1e-8)
    assert inception_score.compute(logits, "ttur") == v  # deterministic
    # one-hot confident and uniform predictions: IS equals the number of classes used
    onehot = np.full((50, 1008), -30.0)   # off-class probabilities ~1e-13: no 0·log 0
    onehot[np.arange(50), np.arange(50) % 5] = 0
    assert inception_score.compute(onehot, "ttur").mean == pytest.approx(5.0, rel=1e-6)


def test_prdc_equals_the_prdc_package():
    prdc = pytest.importorskip("prdc")
    rng = np.random.default_rng(5)
    real = rng.normal(size=(300, 64)).astype(np.float32)
    fake = (rng.normal(size=(260, 64)) * 1.2 + 0.3).astype(np.float32)
    ours = prdc_metric.compute(real, fake, 3, 5)
    pr = prdc.compute_prdc(real, fake, nearest_k=3)
    dc = prdc.compute_prdc(real, fake, nearest_k=5)
    assert ours.precision == pytest.approx(pr["precision"], abs=1e-12)
    assert ours.recall == pytest.approx(pr["recall"], abs=1e-12)
    assert ours.density == pytest.approx(dc["density"], abs=1e-12)
    assert ours.coverage == pytest.approx(dc["coverage"], abs=1e-12)


def test_ssim_equals_scikit_image():
    skm = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(6)
    for shape in ((64, 80, 3), (11, 30, 3), (120, 97, 3)):
        a = rng.integers(0, 256, shape, dtype=np.uint8)
        b = np.clip(a.astype(int) + rng.integers(-40, 40, shape), 0, 255).astype(np.uint8)
        ref = skm.structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                        data_range=255, channel_axis=-1)
        assert abs(paired.ssim(a, b) - ref) <= 1e-6
    assert paired.ssim(a, a) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="window"):
        paired.ssim(a[:8, :8], a[:8, :8])


def test_mse_and_psnr():
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((4, 4, 3), 10, np.uint8)
    assert paired.mse(a, b) == 100.0
    assert paired.psnr_from_mse(100.0) == pytest.approx(10 * math.log10(255 ** 2 / 100))
    assert paired.psnr_from_mse(0.0) == math.inf


def test_fid_rank_deficient_equals_exact_nuclear_norm_form():
    # fewer samples than dimensions: tr sqrt(S1 S2) = ||A1 A2^T||_* / sqrt((n1-1)(n2-1)) exactly
    rng = np.random.default_rng(8)
    a = rng.normal(size=(20, 256)) ** 2
    b = rng.normal(size=(24, 256)) ** 2 + 0.1
    s1, s2 = _stats(a), _stats(b)
    nuc = np.linalg.svd((a - s1.mu) @ (b - s2.mu).T, compute_uv=False).sum() / np.sqrt(19 * 23)
    exact = np.sum((s1.mu - s2.mu) ** 2) + np.trace(s1.sigma) + np.trace(s2.sigma) - 2 * nuc
    assert fid.compute(s1, s2).fid == pytest.approx(exact, rel=1e-12)
    # and it does not move with the memory layout of the inputs (BLAS alignment paths)
    shifted = fid.GaussianStats(s2.mu, np.asfortranarray(s2.sigma).copy())
    assert fid.compute(fid.GaussianStats(s1.mu, s1.sigma.copy()), shifted).fid == pytest.approx(exact, rel=1e-12)


def test_merged_moments_equal_one_pass_over_all_rows():
    from engine.features.stats import merge_moments, moments_to_stats
    rng = np.random.default_rng(5)
    x = np.abs(rng.normal(0.3, 0.4, size=(2000, 48))).astype(np.float32)  # pool3-like: >= 0
    whole = MomentAccumulator(48)
    whole.add(x)
    parts = []
    for lo, hi in ((0, 300), (300, 301), (301, 1500), (1500, 2000)):
        acc = MomentAccumulator(48)
        for s in range(lo, hi, 37):
            acc.add(x[s:min(s + 37, hi)])
        parts.append(acc.moments())
    n, total, outer = merge_moments(parts)
    assert n == 2000 and total.dtype == outer.dtype == np.float64
    merged, one = moments_to_stats(n, total, outer), whole.stats()
    rel = lambda a, b: np.abs(a - b).max() / np.abs(b).max()  # noqa: E731
    assert rel(merged.mu, one.mu) <= 1e-12 and rel(merged.sigma, one.sigma) <= 1e-12
    ref = x.astype(np.float64)
    assert rel(merged.sigma, np.cov(ref, rowvar=False)) <= 1e-12
    np.testing.assert_allclose(total, ref.sum(0), rtol=1e-12)
    np.testing.assert_allclose(outer, ref.T @ ref, rtol=1e-12)


def test_merge_moments_refuses_other_dimensions_and_running_peek_leaves_sums_alone():
    from engine.features.stats import merge_moments
    with pytest.raises(ValueError):
        merge_moments([(2, np.zeros(3), np.zeros((3, 3))), (2, np.zeros(4), np.zeros((4, 4)))])
    with pytest.raises(ValueError):
        merge_moments([])
    x = np.random.default_rng(1).normal(size=(600, 8)).astype(np.float32)
    peeked, plain = MomentAccumulator(8), MomentAccumulator(8)
    for s in range(0, 600, 50):
        peeked.add(x[s:s + 50])
        plain.add(x[s:s + 50])
        peeked.stats()  # the running FID looks at partial sums between batches
    a, b = peeked.stats(), plain.stats()
    assert np.array_equal(a.sigma, b.sigma) and np.array_equal(a.mu, b.mu)
