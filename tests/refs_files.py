"""Tiny valid reference files of each published layout (2048-d statistics of a few random
feature rows), for the standard-reference tests."""
from __future__ import annotations

import io
import pickle

import numpy as np

DIM = 2048


def served(entry) -> str:
    """The name under which tests/httpserve.py's /file/ route serves a catalogue entry: its
    published HOST/PATH (the mirror's layout)."""
    host, path = entry.host_path
    return host + path


def gaussian(seed: int, dim: int = DIM, rows: int = 12):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, dim))
    return x.mean(0), np.cov(x, rowvar=False)


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def moments_npz(seed: int = 0) -> bytes:
    """clean-fid's / EDM's layout: mu (float64), sigma."""
    mu, sigma = gaussian(seed)
    return npz_bytes(mu=mu, sigma=sigma.astype(np.float32))


def adm_batch(seed: int = 0, images: int = 4, spatial: bool = True) -> bytes:
    mu, sigma = gaussian(seed)
    arrays = dict(arr_0=np.random.default_rng(seed).integers(0, 256, (images, 16, 16, 3), dtype=np.uint8),
                  mu=mu, sigma=sigma)
    if spatial:
        mu_s, sigma_s = gaussian(seed + 1, 2023)
        arrays.update(mu_s=mu_s, sigma_s=sigma_s)
    return npz_bytes(**arrays)


def edm2_pickle(seed: int = 0) -> bytes:
    """EDM2's calculate_metrics.py layout: dict(num_images, fid=dict(mu, sigma), fd_dinov2=...)."""
    mu, sigma = gaussian(seed)
    mu_d, sigma_d = gaussian(seed + 1, 1024)
    return pickle.dumps(dict(num_images=12, fid=dict(mu=mu, sigma=sigma.astype(np.float32)),
                             fd_dinov2=dict(mu=mu_d, sigma=sigma_d.astype(np.float32))))


class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os
        return (os.mkdir, (self.marker,))


def hostile_pickle(marker) -> bytes:
    """A pickle that would create the folder ``marker`` if it were loaded with pickle.load."""
    return pickle.dumps(dict(num_images=12, fid=_RunsCode(marker)))
