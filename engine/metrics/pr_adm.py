"""Precision / recall as the ADM evaluator computes them (guided-diffusion
``evaluations/evaluator.py``, ``ManifoldEstimator``, after Kynkäänniemi et al. 2019).

Its conventions, which differ from the ``prdc`` package's (metrics/prdc.py):
- distances are *squared* Euclidean distances, ``max(|u|² - 2 u·v + |v|², 0)``;
- the radius of a sample is the k-th smallest squared distance of its row *including itself*
  (index k of the sorted row, index 0 being the sample's own distance), k = 3;
- a point is inside a ball when its squared distance is ``<=`` the radius (inclusive);
- every image is used (no subsample): precision = share of samples inside some reference
  ball, recall = share of reference images inside some sample ball.

ADM computes the distance blocks in float16 on the GPU (falling back to float32 when a block
overflows). We compute them in float32, after centring both sets on the reference mean (the
distances do not change; the rounding does, less); bench/pr_float16.py measures what float16
changes on one set. Memory stays bounded: distances are formed in ROWS×COLS blocks and each row
keeps only its k+1 smallest values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .prdc import shifted

ROWS = 1024
COLS = 8192


@dataclass(frozen=True)
class PrValue:
    precision: float
    recall: float
    n_real: int
    n_fake: int


def _sq_norms(x):
    return np.einsum("ij,ij->i", x, x)


def sq_distances(a, a2, b, b2) -> np.ndarray:
    d = a @ b.T
    d *= -2.0
    d += a2[:, None]
    d += b2[None, :]
    return np.maximum(d, 0.0, out=d)


def radii(x: np.ndarray, k: int) -> np.ndarray:
    """Squared k-NN radius per row of ``x`` (float32), its own zero distance counted."""
    x2 = _sq_norms(x)
    n = len(x)
    out = np.empty(n, np.float32)
    for rs in range(0, n, ROWS):
        best = None
        for cs in range(0, n, COLS):
            d = sq_distances(x[rs:rs + ROWS], x2[rs:rs + ROWS], x[cs:cs + COLS], x2[cs:cs + COLS])
            if d.shape[1] > k + 1:
                d = np.partition(d, k, axis=1)[:, :k + 1]
            best = d if best is None else np.concatenate([best, d], axis=1)
            if best.shape[1] > k + 1:
                best = np.partition(best, k, axis=1)[:, :k + 1]
        out[rs:rs + ROWS] = best.max(axis=1)
    return out


def inside(points, balls, ball_radii) -> np.ndarray:
    """For each row of ``points``: is it within (<=) the radius of some row of ``balls``?"""
    p2, b2 = _sq_norms(points), _sq_norms(balls)
    hit = np.zeros(len(points), bool)
    for rs in range(0, len(points), ROWS):
        for cs in range(0, len(balls), COLS):
            d = sq_distances(points[rs:rs + ROWS], p2[rs:rs + ROWS], balls[cs:cs + COLS], b2[cs:cs + COLS])
            hit[rs:rs + ROWS] |= (d <= ball_radii[None, cs:cs + COLS]).any(axis=1)
    return hit


def _mean(x) -> np.ndarray:
    total = np.zeros(x.shape[1], np.float64)
    for s in range(0, len(x), COLS):
        total += np.asarray(x[s:s + COLS], np.float64).sum(axis=0)
    return total / len(x)


def compute(real, fake, k: int = 3) -> PrValue:
    """``real`` / ``fake``: (n, d) features, arrays or memory maps."""
    if len(real) <= k or len(fake) <= k:
        raise ValueError(f"precision/recall needs more than {k} images per set")
    centre = _mean(real)
    real, fake = shifted(real, centre, COLS), shifted(fake, centre, COLS)
    r_real, r_fake = radii(real, k), radii(fake, k)
    precision = float(inside(fake, real, r_real).mean())
    recall = float(inside(real, fake, r_fake).mean())
    return PrValue(precision, recall, len(real), len(fake))
