"""Precision / recall (Kynkäänniemi et al. 2019, k=3) and density / coverage (Naeem et al.
2020, k=5) from k-nearest-neighbour balls, computed in float32 blocks.

Same definitions as the ``prdc`` package: the radius of a sample is the distance to its k-th
nearest neighbour within its own set (itself excluded); comparisons are strict (<).
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass

import numpy as np

BLOCK = 1024
# A block of distances holds at most this many float32 values (64 MB) whatever the set size:
# with 1M real images a block is 16 rows, not 1024 (4 GB).
BLOCK_ELEMENTS = 1 << 24


def block_rows(n_cols: int, block: int = BLOCK) -> int:
    """Rows per block against ``n_cols`` columns: ``block``, fewer for very wide sets (a
    function of the set size only, so results never depend on batch size or workers)."""
    return max(8, min(block, BLOCK_ELEMENTS // max(n_cols, 1)))


@dataclass(frozen=True)
class PrdcValue:
    precision: float
    recall: float
    density: float
    coverage: float
    n_real: int
    n_fake: int


def sq_norms(x):
    return np.einsum("ij,ij->i", x, x)


def distances(a, a2, b, b2):
    """Euclidean distances between the rows of ``a`` and ``b`` (float32), given their
    squared norms ``a2`` and ``b2``."""
    d = a @ b.T                 # in place from here: one block-sized array, no temporaries
    d *= -2.0
    d += a2[:, None]
    d += b2[None, :]
    np.maximum(d, 0.0, out=d)
    return np.sqrt(d, out=d)


def radii(x, x2, ks, block: int = BLOCK, cancel=None):
    """Distance to the k-th neighbour (self excluded) for each k in ks, per row; ``block``
    rows at a time (memory: block x len(x) float32)."""
    out = np.empty((len(ks), len(x)), np.float32)
    kk = [k for k in ks]  # index k in a sorted row is the k-th neighbour (index 0 is self)
    for s in range(0, len(x), block):
        if cancel is not None:
            cancel.check()
        d = distances(x[s:s + block], x2[s:s + block], x, x2)
        part = np.partition(d, kk, axis=1)
        for i, k in enumerate(kk):
            out[i, s:s + block] = part[:, k]
    return out


# Centred copies larger than this go to an unlinked temporary file, memory-mapped, instead of
# the heap: the heap then stays flat with N (a 1M x 2048 set is 8 GB), and the pages are the
# OS's to drop and re-read. Below it (prdc's 10k subsamples) the copy stays in memory.
SPILL_BYTES = 256 << 20


def float32_rows(shape) -> np.ndarray:
    """An empty float32 array of ``shape``: on the heap, or file-backed when it is large."""
    if int(np.prod(shape)) * 4 <= SPILL_BYTES:
        return np.empty(shape, np.float32)
    with tempfile.TemporaryFile(prefix="fid-studio-rows-") as fh:   # unlinked: gone with the map
        return np.memmap(fh, np.float32, mode="w+", shape=tuple(shape))


def shifted(x, centre, chunk: int = 4096) -> np.ndarray:
    """float32 copy of ``x`` minus ``centre`` (float64 arithmetic), a chunk at a time."""
    out = float32_rows(x.shape)
    for s in range(0, len(x), chunk):
        out[s:s + chunk] = np.asarray(x[s:s + chunk], np.float64) - centre
    return out


def centred(real, fake, chunk: int = 4096):
    """Both sets minus the real mean, as float32: centring keeps the float32 distance
    arithmetic accurate. Works through memory-mapped features a chunk at a time (the mean
    in float64), so no float64 copy of a whole set is made, and large copies are file-backed."""
    n, dim = real.shape
    centre = np.zeros(dim, np.float64)
    for s in range(0, n, chunk):
        centre += np.asarray(real[s:s + chunk], np.float64).sum(axis=0)
    centre /= n
    return shifted(real, centre, chunk), shifted(fake, centre, chunk)


def compute(real, fake, k_pr: int = 3, k_dc: int = 5) -> PrdcValue:
    if len(real) <= max(k_pr, k_dc) or len(fake) <= k_pr:
        raise ValueError(f"precision/recall needs more than {max(k_pr, k_dc)} images per set")
    real, fake = centred(real, fake)
    r2, f2 = sq_norms(real), sq_norms(fake)
    r_radii = radii(real, r2, (k_pr, k_dc))
    f_radius = radii(fake, f2, (k_pr,))[0]
    r_pr, r_dc = r_radii[0], r_radii[1]
    precise = np.zeros(len(fake), bool)
    density_counts = np.zeros(len(fake), np.int64)
    recalled = np.zeros(len(real), bool)
    nearest_fake = np.full(len(real), np.inf, np.float32)
    for s in range(0, len(fake), BLOCK):
        d = distances(real, r2, fake[s:s + BLOCK], f2[s:s + BLOCK])  # (n_real, block)
        precise[s:s + BLOCK] = (d < r_pr[:, None]).any(axis=0)
        density_counts[s:s + BLOCK] = (d < r_dc[:, None]).sum(axis=0)
        recalled |= (d < f_radius[None, s:s + BLOCK]).any(axis=1)
        np.minimum(nearest_fake, d.min(axis=1), out=nearest_fake)
    return PrdcValue(
        precision=float(precise.mean()),
        recall=float(recalled.mean()),
        density=float(density_counts.sum() / (k_dc * len(fake))),
        coverage=float((nearest_fake < r_dc).mean()),
        n_real=len(real), n_fake=len(fake))
