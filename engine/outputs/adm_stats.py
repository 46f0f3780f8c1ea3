"""Statistics in the layout of an ADM reference batch (guided-diffusion's evaluator).

Its evaluator reads ``mu``/``sigma`` (pool3) and ``mu_s``/``sigma_s`` (the 7 spatial channels
of ``mixed_6/conv``, for sFID) from a reference batch whenever ``mu`` is present, so a file in
this layout must hold all four. (ADM's own script also reads the batch's images, ``arr_0``,
for precision/recall; FID Studio accepts the statistics alone.)
"""
from __future__ import annotations

import numpy as np

from ..errors import FidStudioError

NEEDS_SFID = ("the ADM layout holds sFID statistics (mu_s, sigma_s), which this build of FID Studio "
              "does not compute; use --format pytorch-fid")


def check_adm_format() -> None:
    from ..run.options import ALL_METRICS
    if "sfid" not in ALL_METRICS:
        raise FidStudioError(NEEDS_SFID)


def adm_arrays(ext) -> dict:
    """``ext``'s pool3 and spatial statistics (float64) as mu, sigma, mu_s, sigma_s."""
    spatial = getattr(ext, "spatial_stats", None)
    if spatial is None:
        raise FidStudioError("the model gave no spatial features for sFID (mu_s, sigma_s); rebuild it "
                             "with `python main.py model build`, or use --format pytorch-fid")
    arrays = {"mu": ext.stats.mu, "sigma": ext.stats.sigma, "mu_s": spatial.mu, "sigma_s": spatial.sigma}
    return {k: np.asarray(v, np.float64) for k, v in arrays.items()}
