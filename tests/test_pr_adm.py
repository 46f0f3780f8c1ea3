"""Precision / recall in the ADM evaluator's convention, against a direct oracle."""
import numpy as np
import pytest

from engine.metrics import pr_adm, prdc


def _oracle(real, fake, k=3):
    """ADM's definitions written out on full float64 matrices (no blocks, no centring)."""
    def sq(a, b):
        return ((a[:, None, :].astype(np.float64) - b[None, :, :]) ** 2).sum(-1)
    r_real = np.sort(sq(real, real), axis=1)[:, k]      # index 0 is the point itself
    r_fake = np.sort(sq(fake, fake), axis=1)[:, k]
    d = sq(real, fake)
    precision = (d <= r_real[:, None]).any(axis=0).mean()
    recall = (d <= r_fake[None, :]).any(axis=1).mean()
    return precision, recall


def test_matches_the_oracle_and_does_not_depend_on_blocks(monkeypatch):
    rng = np.random.default_rng(3)
    real = rng.normal(size=(150, 16)).astype(np.float32)
    fake = (rng.normal(size=(120, 16)) * 1.3 + 0.4).astype(np.float32)
    want = _oracle(real, fake)
    got = pr_adm.compute(real, fake, 3)
    assert (got.precision, got.recall) == want and 0 < got.precision < 1 and 0 < got.recall < 1
    monkeypatch.setattr(pr_adm, "ROWS", 7)
    monkeypatch.setattr(pr_adm, "COLS", 5)
    small = pr_adm.compute(real, fake, 3)
    assert (small.precision, small.recall) == want


def test_ball_boundaries_count_as_inside_unlike_prdc():
    # real points -2..2 on a line: the k=3 squared radius of the point at 2 is 9, and the
    # samples at +5 and -5 lie exactly on it (all values exact in float32)
    def pts(xs):
        a = np.zeros((len(xs), 4), np.float32)
        a[:, 0] = xs
        return a
    real, fake = pts([-2, -1, 0, 1, 2]), pts([5, -5, 100, 101])
    adm = pr_adm.compute(real, fake, 3)
    assert adm.precision == 0.5
    assert prdc.compute(real, fake, 3, 3).precision == 0.0   # strict < with the neighbour after self


def test_too_few_images_is_a_clear_error():
    with pytest.raises(ValueError, match="more than 3 images"):
        pr_adm.compute(np.zeros((3, 4), np.float32), np.zeros((9, 4), np.float32))
