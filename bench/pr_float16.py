"""What ADM's float16 distance blocks change in precision / recall, on one set of real
Inception features.

ADM (guided-diffusion evaluations/evaluator.py, DistanceBlock) casts both feature batches to
float16 and computes ``max(|u|² - 2 u·v + |v|², 0)`` in float16 on the GPU, falling back to
float32 only when a block overflows; FID Studio (engine/metrics/pr_adm.py) stays in float32.
This re-implements the float16 path in NumPy — float16 inputs, the products and row sums
accumulated in float32 and rounded to float16 (what TF's half matmul / reduce_sum do on a
GPU), every later operation rounded to float16 — and compares it with ours.

    python bench/pr_float16.py REF SAMPLES [--n 1000] [--cache DIR]

REF / SAMPLES: any sources (folders, .npz batches); features from the real ONNX model with
the tensorflow preset (cached in --cache).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def sq_dist_float16(u, v):
    u16, v16 = u.astype(np.float16), v.astype(np.float16)
    nu = (u16.astype(np.float32) ** 2).sum(1).astype(np.float16)[:, None]
    nv = (v16.astype(np.float32) ** 2).sum(1).astype(np.float16)[None, :]
    m = (u16.astype(np.float32) @ v16.astype(np.float32).T).astype(np.float16)
    d = np.maximum(nu - np.float16(2) * m + nv, np.float16(0))
    if not np.isfinite(d).all():     # ADM's tf.cond fallback
        u, v = u.astype(np.float32), v.astype(np.float32)
        d = np.maximum((u * u).sum(1)[:, None] - 2 * u @ v.T + (v * v).sum(1)[None, :], 0)
        return d, True
    return d.astype(np.float32), False


def pr_float16(real, fake, k=3):
    """ADM's precision / recall with float16 distances (whole matrices: small sets only)."""
    d_rr, f1 = sq_dist_float16(real, real)
    d_ff, f2 = sq_dist_float16(fake, fake)
    d_rf, f3 = sq_dist_float16(real, fake)
    r_real = np.partition(d_rr, k, axis=1)[:, k]
    r_fake = np.partition(d_ff, k, axis=1)[:, k]
    fake_in = (d_rf <= r_real[:, None]).any(axis=0)
    real_in = (d_rf <= r_fake[None, :]).any(axis=1)
    return fake_in, real_in, (f1 or f2 or f3)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ref")
    p.add_argument("samples")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--cache", type=Path, default=None)
    a = p.parse_args()
    if a.cache:
        os.environ["FID_STUDIO_CACHE_DIR"] = str(a.cache)
    from engine.features.pipeline import extract
    from engine.features.presets import get_preset
    from engine.inputs.sources import open_source
    from engine.metrics import pr_adm
    from engine.run.job import load_model
    from engine.run.options import Options
    opts = Options(metrics=("pr",), preset="tensorflow", device="cpu")
    model = load_model(opts)
    feats = []
    for path in (a.ref, a.samples):
        ext = extract(open_source(path), get_preset("tensorflow"), model, opts)
        feats.append(np.asarray(ext.features[:a.n], np.float32))
    real, fake = feats
    ours = pr_adm.compute(real, fake, 3)
    fake_in, real_in, fell_back = pr_float16(real, fake)
    # our membership per point, for the count of points that change sides
    c = real.astype(np.float64).mean(0)
    r32, f32 = (real - c).astype(np.float32), (fake - c).astype(np.float32)
    ours_fake_in = pr_adm.inside(f32, r32, pr_adm.radii(r32, 3))
    ours_real_in = pr_adm.inside(r32, f32, pr_adm.radii(f32, 3))
    print(f"features: {len(real)} reference, {len(fake)} samples (real ONNX model, tensorflow preset)")
    print(f"float32 (FID Studio): precision {ours.precision:.6f}  recall {ours.recall:.6f}")
    print(f"float16 (ADM):        precision {fake_in.mean():.6f}  recall {real_in.mean():.6f}"
          + ("  (a block overflowed: float32 fallback used)" if fell_back else ""))
    print(f"difference: precision {fake_in.mean() - ours.precision:+.6f}, recall {real_in.mean() - ours.recall:+.6f}; "
          f"samples changing side {int((fake_in != ours_fake_in).sum())}, "
          f"reference images changing side {int((real_in != ours_real_in).sum())}")
    d16, _ = sq_dist_float16(real[:200], fake[:200])
    u, v = real[:200].astype(np.float64), fake[:200].astype(np.float64)
    d64 = np.maximum((u * u).sum(1)[:, None] - 2 * u @ v.T + (v * v).sum(1)[None, :], 0)
    print(f"squared distances, first 200×200: float16 relative error median "
          f"{np.median(np.abs(d16 - d64) / d64):.2e}, max {np.max(np.abs(d16 - d64) / d64):.2e}")


if __name__ == "__main__":
    main()
