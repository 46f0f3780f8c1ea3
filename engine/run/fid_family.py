"""sFID, FID∞ and the bootstrap interval of FID for one generated source.

All three come from what extraction already produced (the streamed sFID moments, the cached
pool3 features), so none of them passes over the images again. Whatever cannot be computed
stays null and says why in the warnings.
"""
from __future__ import annotations

import time

from ..metrics import fid as fid_metric
from ..metrics import fid_bootstrap, fid_infinity, sfid


def compute(opts, ref, gen, model, res, cancel=None) -> None:
    m, w = res.metrics, res.warnings
    if "sfid" in opts.metrics:
        _sfid(ref, gen, model, m, w)
    wants = [k for k in ("fid_inf", "fid_ci") if k in opts.metrics]
    if not wants:
        return
    if gen.features is None:
        w.append("FID∞ and the FID interval need generated images, not a stats file: not computed")
        return
    if "fid_inf" in opts.metrics:
        t = time.perf_counter()
        try:
            v = fid_infinity.compute(ref.stats, gen.features, opts.fid_inf_points, opts.seed, cancel)
        except ValueError as exc:
            w.append(f"FID∞ not computed: {exc}")
        else:
            m["fid_inf"] = v.fid_inf
            w.extend(v.warnings(len(gen.features)))
            res.extras["fid_inf_fit"] = {"sizes": list(v.sizes), "fids": list(v.fids),
                                         "slope": v.slope, "seed": opts.seed,
                                         "seconds": round(time.perf_counter() - t, 3)}
    if "fid_ci" in opts.metrics:
        if m.get("fid") is None:  # the interval is around this FID: show it too
            m["fid"] = fid_metric.compute(ref.stats, gen.stats).fid
        full = m["fid"]
        t = time.perf_counter()
        try:
            ci = fid_bootstrap.compute(ref.stats, gen.features, full, opts.fid_ci_resamples,
                                       opts.seed, cancel=cancel)
        except ValueError as exc:
            w.append(f"FID interval not computed: {exc}")
        else:
            m["fid_ci_low"], m["fid_ci_high"] = ci.low, ci.high
            res.extras["fid_ci"] = {"level": fid_bootstrap.LEVEL, "resamples": ci.resamples,
                                    "seed": opts.seed, "fid": ci.fid,
                                    "resampled_mean": ci.resampled_mean,
                                    "resampled_std": ci.resampled_std,
                                    "method": "percentile of resampled FIDs, recentred on the full-set FID",
                                    "seconds": round(time.perf_counter() - t, 3)}


def _sfid(ref, gen, model, m, w) -> None:
    if model is not None and not getattr(model, "has_spatial", False):
        w.append("sFID not available: " + sfid.UNAVAILABLE_REASON)
        return
    missing = [role for role, side in (("reference", ref), ("generated", gen))
               if getattr(side, "spatial_stats", None) is None]
    if missing:
        w.append(f"sFID not computed: the {' and '.join(missing)} statistics have no sFID moments "
                 "(a stats file needs mu_s and sigma_s)")
        return
    value = sfid.compute(ref.spatial_stats, gen.spatial_stats)
    m["sfid"] = value.fid
    w.extend(f"sFID: {x}" for x in value.warnings())
