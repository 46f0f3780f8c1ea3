"""FID∞ and the bootstrap interval on constructed Gaussian features whose behaviour is known.

The reference statistics are the exact population moments, so all the finite-N bias is on
the generated side, which is the side both methods treat. Seeds are fixed: the values are
deterministic, and each assertion holds with a wide margin (values measured when written
are in the comments).
"""
import numpy as np
import pytest

from engine.metrics import fid as fid_metric
from engine.metrics import fid_bootstrap, fid_infinity
from engine.metrics.fid_resample import WeightedFid


def _stats(x) -> fid_metric.GaussianStats:
    x = np.asarray(x, np.float64)
    return fid_metric.GaussianStats(x.mean(0), np.cov(x, rowvar=False), len(x))


def _population(d, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((d, d)) / np.sqrt(d)
    sigma = a @ a.T + 0.5 * np.eye(d)
    return sigma, np.linalg.cholesky(sigma)


@pytest.mark.parametrize("distinct", [5, 60])  # 5 < d: k x k route; 60 >= d: d x d route
def test_weighted_fid_equals_fid_of_the_repeated_rows(distinct):
    rng = np.random.default_rng(3)
    d, n = 16, 60
    feats = rng.standard_normal((n, d)).astype(np.float32) * 2 + 1
    ref = _stats(rng.standard_normal((200, d)))
    w = np.zeros(n)
    w[rng.choice(n, distinct, replace=False)] = rng.integers(1, 4, distinct)
    explicit = np.repeat(feats, w.astype(int), axis=0)
    expected = fid_metric.compute(ref, _stats(explicit)).fid
    assert WeightedFid(ref, feats)(w) == pytest.approx(expected, rel=1e-9)


def test_weighted_fid_refuses_bad_weights():
    f = WeightedFid(_stats(np.eye(4) + 1), np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match="at least 2"):
        f(np.array([1.0, 0, 0, 0]))
    with pytest.raises(ValueError, match="3 weights for 4"):
        f(np.ones(3))


def test_fid_inf_of_two_samples_of_one_gaussian_is_near_zero():
    d = 32
    sigma, chol = _population(d, 1)
    ref = fid_metric.GaussianStats(np.zeros(d), sigma)
    gen = (np.random.default_rng(2).standard_normal((3000, d)) @ chol.T).astype(np.float32)
    fid_n = fid_metric.compute(ref, _stats(gen)).fid
    v = fid_infinity.compute(ref, gen, points=15, seed=0)
    # measured: FID_N 0.118, FID∞ 0.0022, slope 357
    assert fid_n > 0.1
    assert abs(v.fid_inf) < 0.1 * fid_n
    assert v.slope > 0  # FID falls as N grows
    assert len(v.sizes) == 15 and v.sizes[0] == 300 and v.sizes[-1] == 3000
    assert fid_infinity.compute(ref, gen, 15, seed=0) == v  # seeded
    assert fid_infinity.compute(ref, gen, 15, seed=1).fid_inf != v.fid_inf


def test_fid_inf_keeps_a_real_difference():
    d = 16
    sigma, chol = _population(d, 4)
    shift = np.full(d, 0.25)  # true FID = |shift|^2 = 1.0 (same covariance)
    ref = fid_metric.GaussianStats(np.zeros(d), sigma)
    gen = (np.random.default_rng(5).standard_normal((2000, d)) @ chol.T + shift).astype(np.float32)
    v = fid_infinity.compute(ref, gen, 15, seed=0)
    assert v.fid_inf == pytest.approx(1.0, abs=0.15)  # measured 1.047 (FID_N 1.096)
    assert fid_metric.compute(ref, _stats(gen)).fid > v.fid_inf


def test_fid_inf_refuses_too_few_images():
    ref = _stats(np.random.default_rng(0).standard_normal((50, 4)))
    with pytest.raises(ValueError, match="at least 20"):
        fid_infinity.compute(ref, np.zeros((10, 4), np.float32))


def _expected_fid_n(ref, d, n, shift, draws=300, seed=7):
    """E[FID_N] and its spread, by Monte Carlo over independent draws of N images."""
    rng = np.random.default_rng(seed)
    values = [fid_metric.compute(ref, _stats(rng.standard_normal((n, d)) + shift)).fid
              for _ in range(draws)]
    return float(np.mean(values)), float(np.std(values))


def test_bootstrap_interval_covers_the_expected_fid_and_narrows_with_n():
    d = 8
    shift = np.full(d, 0.3)
    ref = fid_metric.GaussianStats(np.zeros(d), np.eye(d))
    widths = {}
    for n in (300, 1200):
        truth, spread = _expected_fid_n(ref, d, n, shift)
        rng = np.random.default_rng(100 + n)
        covered = 0
        w = []
        for _ in range(20):
            gen = (rng.standard_normal((n, d)) + shift).astype(np.float32)
            full = fid_metric.compute(ref, _stats(gen)).fid
            ci = fid_bootstrap.compute(ref, gen, full, resamples=100, seed=0)
            assert ci.low < full < ci.high
            covered += ci.low <= truth <= ci.high
            w.append(ci.high - ci.low)
        # nominal 95%: measured 19/20 (n=300) and 20/20 (n=1200)
        assert covered >= 16, f"n={n}: the interval covered E[FID_N] in {covered}/20 data sets"
        widths[n] = float(np.median(w))
        # the width matches the real spread of FID_N over draws (2 x 1.96 sd): measured 0.99, 1.02
        assert 0.6 < widths[n] / (2 * 1.96 * spread) < 1.5
    assert widths[1200] < 0.7 * widths[300]


def test_bootstrap_is_seeded():
    rng = np.random.default_rng(0)
    ref = _stats(rng.standard_normal((100, 4)))
    gen = rng.standard_normal((80, 4)).astype(np.float32) + 0.2
    full = fid_metric.compute(ref, _stats(gen)).fid
    a = fid_bootstrap.compute(ref, gen, full, 20, seed=3)
    assert a == fid_bootstrap.compute(ref, gen, full, 20, seed=3)
    assert a != fid_bootstrap.compute(ref, gen, full, 20, seed=4)
    assert a.resamples == 20 and a.fid == full


def test_both_stop_when_cancelled():
    from engine.errors import CancelToken, Cancelled
    rng = np.random.default_rng(0)
    ref = _stats(rng.standard_normal((100, 4)))
    gen = rng.standard_normal((80, 4)).astype(np.float32)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        fid_bootstrap.compute(ref, gen, 1.0, 20, seed=0, cancel=token)
    with pytest.raises(Cancelled):
        fid_infinity.compute(ref, gen, 15, seed=0, cancel=token)
