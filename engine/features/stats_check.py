"""Checks on statistics read from a file: a mean and a covariance that can be compared.

A stats file is trusted only when its numbers can be a Gaussian's: FID's formula takes a
matrix square root of sigma₁·sigma₂ and reads one triangle of each sigma, so a non-symmetric
or indefinite "covariance" gives a number (even a negative FID) that means nothing.

The rules (each failure is one InputError naming the file, the array and the check):

- ``mu`` is one row of numbers, ``sigma`` square and of the same size, both finite;
- ``sigma`` symmetric: max |sigma − sigmaᵀ| ≤ SYMMETRY_RTOL · max |sigma|;
- ``sigma`` positive semi-definite: no eigenvalue below −EIGEN_RTOL · max |sigma| (checked
  by a Cholesky factorisation of sigma + that tolerance · I, which succeeds exactly then,
  up to rounding far below the tolerance);
- ``n``, when present, one whole number ≥ 2.

Why these tolerances: covariances written by pytorch-fid 0.3.0 and clean-fid 0.1.35
(``np.cov`` in float64, from float32 features) are exactly symmetric, also after a cast to
float32; their smallest eigenvalues, measured on the 64-image parity sets (rank 63 of 2048),
are −6e-15 · max |sigma| (float64), −8e-8 (cast to float32) and −4.4e-7 (covariance computed in
float32). The tolerances leave a margin of over 200 for float32 rounding on larger sets while
any covariance with a materially negative direction is refused.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

SYMMETRY_RTOL = 1e-5
EIGEN_RTOL = 1e-4


def count_problem(n) -> str | None:
    """Why ``n`` (as read from a file) is not one whole number >= 2; None when it is."""
    a = np.asarray(n)
    if a.shape != ():
        return f"'n' must be one number, got an array of shape {a.shape}"
    if a.dtype == np.bool_ or not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        return f"'n' must be a number, got dtype {a.dtype}"
    if not np.isfinite(a) or a != np.floor(a):
        return f"'n' must be a whole number, got {a.item()!r}"
    if a < 2:
        return f"'n' must be at least 2 (statistics of {a.item()!r} image(s) have no covariance)"
    return None


def check_count(n, label: str) -> int:
    why = count_problem(n)
    if why:
        raise InputError(f"stats file {label}: {why}")
    return int(np.asarray(n))


def gaussian_problem(mu, sigma, names=("mu", "sigma")) -> str | None:
    """Why (mu, sigma) cannot be a mean and covariance; None when they can."""
    m_name, s_name = names
    mu, sigma = np.asarray(mu), np.asarray(sigma)
    for name, a in ((m_name, mu), (s_name, sigma)):
        if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a) or a.dtype == np.bool_:
            return f"'{name}' must hold real numbers, got dtype {a.dtype}"
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
        return (f"{m_name} {mu.shape} and {s_name} {sigma.shape} do not fit together "
                f"({s_name} must be square, of {m_name}'s size)")
    for name, a in ((m_name, mu), (s_name, sigma)):
        if not np.isfinite(a).all():
            return f"'{name}' holds non-finite values (NaN or infinity)"
    sigma = sigma.astype(np.float64, copy=False)
    scale = float(np.abs(sigma).max()) if sigma.size else 0.0
    if scale == 0.0:
        return None     # all-zero covariance (constant features): symmetric and semi-definite
    asym = float(np.abs(sigma - sigma.T).max())
    if asym > SYMMETRY_RTOL * scale:
        return (f"'{s_name}' is not symmetric (max |{s_name} - {s_name}ᵀ| = {asym:.3g}, more than "
                f"{SYMMETRY_RTOL:g} of max |{s_name}| = {scale:.3g}): not a covariance matrix")
    if float(np.diag(sigma).min()) < -EIGEN_RTOL * scale or not _semidefinite(sigma, EIGEN_RTOL * scale):
        return (f"'{s_name}' is not positive semi-definite (an eigenvalue below -{EIGEN_RTOL:g} of "
                f"max |{s_name}| = {scale:.3g}): not a covariance matrix")
    return None


def _semidefinite(sigma: np.ndarray, tol: float) -> bool:
    shifted = sigma + tol * np.eye(len(sigma))
    try:
        np.linalg.cholesky(shifted)
    except np.linalg.LinAlgError:
        return False
    return True


def check_gaussian(mu, sigma, label: str, names=("mu", "sigma")) -> None:
    why = gaussian_problem(mu, sigma, names)
    if why:
        raise InputError(f"stats file {label}: {why}")
