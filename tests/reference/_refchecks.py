"""Numerical checks used by compute_references.py (reference venv only): the four trace
forms compared on the same statistics, clean-fid's KID subsets, PRDC decision margins, and a
numpy TF1 bilinear resize to cross-check TensorFlow's."""
from __future__ import annotations

import time

import numpy as np

import _refcommon as rc


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def numerics(f1: np.ndarray, f2: np.ndarray, fid_tool: float) -> dict:
    mu1, s1 = rc.stats(f1)
    mu2, s2 = rc.stats(f2)
    t0 = time.time()
    fid_sqrtm = rc.fid_pytorch_fid(mu1, s1, mu2, s2)
    t_sqrtm = time.time() - t0
    tr_eig, imag = rc.trace_sqrt_eig(s1, s2)
    fid_eig = rc.fid_from_trace(mu1, s1, mu2, s2, tr_eig)
    fid_sym = rc.fid_from_trace(mu1, s1, mu2, s2, rc.trace_sqrt_sym(s1, s2))
    fid_nuc = rc.fid_from_trace(mu1, s1, mu2, s2, rc.trace_sqrt_nuclear(f1, f2))
    return {
        "fid_scipy_sqrtm": fid_sqrtm,
        "fid_eig_S1S2": fid_eig,
        "fid_symmetric_sqrtS1_S2_sqrtS1": fid_sym,
        "fid_exact_lowrank_nuclear_norm": fid_nuc,
        "rel_diff_sqrtm_vs_eig": _rel(fid_eig, fid_sqrtm),
        "rel_diff_sqrtm_vs_symmetric": _rel(fid_sym, fid_sqrtm),
        "rel_diff_sqrtm_vs_exact": _rel(fid_sqrtm, fid_nuc),
        "rel_diff_eig_vs_exact": _rel(fid_eig, fid_nuc),
        "rel_diff_symmetric_vs_exact": _rel(fid_sym, fid_nuc),
        "rel_diff_tool_vs_sqrtm_on_saved_features": _rel(fid_tool, fid_sqrtm),
        "max_abs_imag_eig_S1S2": imag,
        "rank_cov_ref": int(np.linalg.matrix_rank(s1)),
        "rank_cov_gen": int(np.linalg.matrix_rank(s2)),
        "sqrtm_seconds": round(t_sqrtm, 1),
    }


def _kid_subsets(f1, f2, num_subsets, max_subset_size, seed):
    rng = np.random.default_rng(seed)
    n = f1.shape[1]
    m = min(len(f1), len(f2), max_subset_size)
    vals = []
    for _ in range(num_subsets):
        x = f2[rng.choice(len(f2), m, replace=False)]
        y = f1[rng.choice(len(f1), m, replace=False)]
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        vals.append(((a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m) / m)
    return np.asarray(vals)


def _prdc_margin(real, fake, k):
    """Smallest relative gap |d - r| / r between any real-fake distance and the radius it is
    compared with (float64 distances): how far the counts are from flipping."""
    from sklearn.metrics import pairwise_distances
    r = np.asarray(real, np.float64)
    f = np.asarray(fake, np.float64)
    drr = pairwise_distances(r, r)
    dff = pairwise_distances(f, f)
    drf = pairwise_distances(r, f)
    rad_r = np.sort(drr, axis=1)[:, k]
    rad_f = np.sort(dff, axis=1)[:, k]
    m_prec = np.min(np.abs(drf - rad_r[:, None]) / rad_r[:, None])
    m_rec = np.min(np.abs(drf - rad_f[None, :]) / rad_f[None, :])
    m_cov = np.min(np.abs(drf.min(axis=1) - rad_r) / rad_r)
    return {"precision_density": float(m_prec), "recall": float(m_rec),
            "coverage": float(m_cov)}


def _np_tf1_bilinear(u8: np.ndarray, size: int = 299) -> np.ndarray:
    """float32 numpy re-implementation of TF1 ResizeBilinear (align_corners=False,
    half_pixel_centers=False): src = dst * (in/out), floor / clamp, lerp x then y."""
    x = u8.astype(np.float32)
    h, w, _ = x.shape

    def axis(n_in):
        f = np.arange(size, dtype=np.float32) * np.float32(n_in / size)
        i0 = np.floor(f).astype(np.int64)
        return i0, np.minimum(i0 + 1, n_in - 1), (f - i0).astype(np.float32)

    y0, y1, ly = axis(h)
    x0, x1, lx = axis(w)
    lx = lx[None, :, None]
    ly = ly[:, None, None]
    tl, tr, bl, br = x[y0][:, x0], x[y0][:, x1], x[y1][:, x0], x[y1][:, x1]
    top = tl + (tr - tl) * lx
    bot = bl + (br - bl) * lx
    return top + (bot - top) * ly
