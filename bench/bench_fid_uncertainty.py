"""Cost of the FID bootstrap interval and of FID∞ on 2048-dim features (no images, no model).

    python bench/bench_fid_uncertainty.py [--n 2000 10000] [--resamples 3]

Features are seeded random float32 rows in a memory-mapped file (as the feature cache holds
them); the reference is their own population moments. Prints, per N: seconds for one full
FID (as the run computes it), per bootstrap resample, and for FID∞ with 15 subset sizes, and
the extrapolated time of the default interval (50 resamples), as wall seconds and as CPU
seconds of this process (all threads): on a shared machine the CPU figure is the one that
does not depend on the other processes. Append the output to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine.metrics import fid as fid_metric  # noqa: E402
from engine.metrics import fid_bootstrap, fid_infinity  # noqa: E402

D = 2048


def features(path: Path, n: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, D))
    mix = (rng.standard_normal((64, D)) / 8).astype(np.float32)
    for i in range(0, n, 4096):
        k = min(4096, n - i)
        mm[i:i + k] = np.abs(rng.standard_normal((k, 64)).astype(np.float32) @ mix
                             + rng.standard_normal((k, D)).astype(np.float32) * 0.3)
    mm.flush()
    return np.memmap(path, dtype=np.float32, mode="r", shape=(n, D))


def timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, (time.perf_counter() - w, time.process_time() - c)


def fmt(t) -> str:
    return f"{t[0]:.2f} s wall, {t[1]:.2f} s CPU"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[2000, 10000])
    ap.add_argument("--resamples", type=int, default=3)
    ap.add_argument("--points", type=int, default=15)
    args = ap.parse_args()
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        ref = None
        for n in args.n:
            x = features(Path(tmp) / f"f{n}.f32", n)
            x64 = np.asarray(x, np.float64)
            gen = fid_metric.GaussianStats(x64.mean(0), np.cov(x64, rowvar=False), n)
            del x64
            if ref is None:  # a shifted copy of the first set's moments, fixed for all N
                ref = fid_metric.GaussianStats(gen.mu + 0.05, gen.sigma * 1.1, n)
                ref.sqrt_sigma()
            full, t_fid = timed(lambda: fid_metric.compute(ref, gen).fid)
            _, t_res = timed(lambda: fid_bootstrap.compute(ref, x, full, resamples=args.resamples, seed=0))
            t_res = (t_res[0] / args.resamples, t_res[1] / args.resamples)
            _, t_inf = timed(lambda: fid_infinity.compute(ref, x, points=args.points, seed=0))
            route = "k x k (fewer distinct images than 2048)" if n * 0.632 < D else "2048 x 2048"
            print(f"N={n}: FID {full:.3f}: {fmt(t_fid)}; bootstrap per resample ({route}): {fmt(t_res)}"
                  f" -> 50 resamples ~{50 * t_res[0]:.0f} s wall / {50 * t_res[1]:.0f} s CPU; "
                  f"FID∞ ({args.points} subsets): {fmt(t_inf)}", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
