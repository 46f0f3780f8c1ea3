"""Per-image scores of generated images against real ones, from pool3 features.

- realism: Kynkäänniemi et al. 2019, §5: R(g) = max over real r of radius_k(r) / ||g - r||,
  over the real samples whose k-NN radius is at most the median radius (the paper drops the
  half with the largest radii, as its code's ``clamp_to_percentile=50`` does). Distances are
  Euclidean, as in the paper. The ADM evaluator's ``max_realism_score`` is the same ratio of
  *squared* distances without the median rule; both rank samples alike when no radius is
  dropped.
- in_manifold: inside at least one real k-NN ball (strict <), i.e. the image's contribution
  to precision: its mean equals ``metrics.prdc`` precision on the same sets.
- nearest real image and its distance: the argmin is found in the float32 blocks, the
  distance itself is recomputed in float64 from the two feature vectors (an exact copy
  reads 0).
- possible copy: distance to the nearest real image below COPY_FRACTION times the
  COPY_PERCENTILE-th percentile of the real images' distances to their own nearest other
  real image (``copy_rule`` says it in words).

The real k-NN pass is ``metrics.prdc.radii``; every pass works on BLOCK rows at a time (fewer
for very large real sets: ``prdc.block_rows``, at most 64 MB of distances), so 50,000 x 50,000
never exists, and the centred copies of large sets are file-backed. The block size depends on
the set sizes only, not on the run's batch size: the result does not depend on batch size or
worker count.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..metrics import prdc

BLOCK = 256
K = 3
EPS = 1e-5
COPY_PERCENTILE = 1.0
COPY_FRACTION = 0.5


def copy_rule(threshold: float | None = None) -> str:
    tail = f" (here {threshold:.3g})" if threshold is not None else ""
    return (f"possible copy: distance to the nearest real image below {COPY_FRACTION:g} x the "
            f"{COPY_PERCENTILE:g}st percentile of real-to-real nearest-neighbour distances{tail}")


@dataclass
class PerImageScores:
    realism: np.ndarray         # (n_fake,) float64
    in_manifold: np.ndarray     # (n_fake,) bool
    nearest: np.ndarray         # (n_fake,) int64 index into the real set
    distance: np.ndarray        # (n_fake,) float64 distance to that real image
    possible_copy: np.ndarray   # (n_fake,) bool
    copy_threshold: float
    real_nn_median: float       # median real-to-real nearest-neighbour distance, for context
    k: int = K


def compute(real, fake, *, k: int = K, block: int = BLOCK, cancel=None) -> PerImageScores:
    """Per-image scores of ``fake`` (n_fake, d) against ``real`` (n_real, d)."""
    if len(real) <= k:
        raise ValueError(f"per-image scores need more than {k} real images")
    if len(fake) == 0:
        raise ValueError("per-image scores need at least one generated image")
    block = prdc.block_rows(len(real), block)
    real_c, fake_c = prdc.centred(real, fake)
    r2, f2 = prdc.sq_norms(real_c), prdc.sq_norms(fake_c)
    nn_real, radius = prdc.radii(real_c, r2, (1, k), block=block, cancel=cancel)
    kept = np.where(radius <= np.median(radius), radius, 0.0).astype(np.float32)
    n = len(fake_c)
    realism = np.empty(n, np.float64)
    inside = np.empty(n, bool)
    nearest = np.empty(n, np.int64)
    for s in range(0, n, block):
        if cancel is not None:
            cancel.check()
        d = prdc.distances(fake_c[s:s + block], f2[s:s + block], real_c, r2)   # (block, n_real)
        inside[s:s + block] = (d < radius[None, :]).any(axis=1)
        nearest[s:s + block] = d.argmin(axis=1)
        d += EPS
        np.divide(kept[None, :], d, out=d)
        realism[s:s + block] = d.max(axis=1)
    distance = np.empty(n, np.float64)
    for s in range(0, n, 4096):
        diff = np.asarray(fake[s:s + 4096], np.float64) - np.asarray(real[nearest[s:s + 4096]], np.float64)
        distance[s:s + 4096] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    threshold = COPY_FRACTION * float(np.percentile(nn_real.astype(np.float64), COPY_PERCENTILE))
    return PerImageScores(realism=realism, in_manifold=inside, nearest=nearest, distance=distance,
                          possible_copy=distance < threshold, copy_threshold=threshold,
                          real_nn_median=float(np.median(nn_real)), k=k)
