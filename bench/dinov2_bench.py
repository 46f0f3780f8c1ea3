"""DINOv2 ViT-L/14 speed and memory on this machine (full-size model, 24 blocks).

Builds the full-size model from the seeded stand-in weights (same layout, shapes and compute as
Meta's file: speed does not depend on the values), then measures
  * model only: img/s of the ONNX session at a few batch sizes (random normalised inputs);
  * end to end: `compute` with --metrics fd_dinov2 over N + N PNG images, and FID + FD_DINOv2
    in one pass vs two separate runs (no cache);
  * peak RSS of each step (ru_maxrss of a child process).
Usage: python bench/dinov2_bench.py [--n 64] [--batches 1,8,32] [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODEL_ONLY = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import onnxruntime as ort
sess = ort.InferenceSession(sys.argv[2], providers=["CPUExecutionProvider"])
out = {}
for b in [int(x) for x in sys.argv[3].split(",")]:
    x = np.random.default_rng(0).standard_normal((b, 3, 224, 224)).astype(np.float32)
    sess.run(["features"], {"images": x})
    t, n = time.perf_counter(), 0
    while time.perf_counter() - t < 20 or n < 2 * b:
        sess.run(["features"], {"images": x}); n += b
    out[b] = n / (time.perf_counter() - t)
print(json.dumps({"img_s": out, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child_rss(cmd) -> tuple[float, float, str]:
    """Wall seconds, the child's peak RSS (MB), and its stdout."""
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{p.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, p.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="dinov2_bench_"))
    sys.path.insert(0, str(ROOT))
    import os
    os.environ["FID_STUDIO_DATA_DIR"] = str(work / "data")    # where `compute` finds the model
    os.environ["FID_STUDIO_CACHE_DIR"] = str(work / "cache")
    from models.paths import user_model_path
    from models.dinov2.graph import build_dinov2_model
    from models.dinov2.standin import write_standin
    from tests.imagegen import make_folder

    model = user_model_path("dinov2_vitl14.onnx")
    model.parent.mkdir(parents=True, exist_ok=True)
    if not model.exists():
        weights = write_standin(work / "dinov2_vitl14_pretrain.pth")
        t = time.perf_counter()
        build_dinov2_model(weights, model)
        print(f"build: {time.perf_counter() - t:.1f} s (full size, 24 blocks)")
        weights.unlink()
    py = sys.executable
    wall, rss, out = child_rss([py, "-c", MODEL_ONLY, str(ROOT), str(model), args.batches])
    print("model only:", out.strip())
    ref = make_folder(work / "ref", args.n, seed=1, size=(256, 256))
    gen = make_folder(work / "gen", args.n, seed=2, size=(256, 256))
    env_model = ["--device", "cpu", "--no-cache"]
    res = {}
    for name, metrics in (("fd_dinov2", "fd_dinov2"), ("fid", "fid"), ("both", "fid,fd_dinov2")):
        cmd = [py, "main.py", "compute", str(ref), str(gen), "--metrics", metrics,
               "--json", str(work / f"{name}.json")] + env_model
        wall, rss, _ = child_rss(cmd)
        res[name] = (wall, rss)
        print(f"compute --metrics {metrics}: {wall:.1f} s for {2 * args.n} images "
              f"({2 * args.n / wall:.2f} img/s incl. start-up), peak RSS so far {rss:.0f} MB")
    one, two = res["both"][0], res["fid"][0] + res["fd_dinov2"][0]
    print(f"FID + FD_DINOv2: one pass {one:.1f} s vs two runs {two:.1f} s")
    print(json.dumps({k: {"wall_s": round(v[0], 1)} for k, v in res.items()}))


if __name__ == "__main__":
    main()
