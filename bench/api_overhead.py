"""Cost of one ``fid_studio.Evaluator.score`` call on N in-memory images, against the CLI
on the same images written as PNG (the reference is cached for both), and the model alone.

    python bench/api_overhead.py [--n 1000] [--size 64] [--device cpu]

Prints a Markdown section; bench/RESULTS.md keeps the measured one.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def make_images(n: int, size: int, seed: int) -> np.ndarray:
    from imagegen import make_image
    rng = np.random.default_rng(seed)
    return np.stack([np.asarray(make_image(rng, (size, size), shift=seed)) for _ in range(n)])


def write_pngs(folder: Path, arr) -> Path:
    folder.mkdir(parents=True)
    for i, a in enumerate(arr):
        Image.fromarray(a).save(folder / f"{i:05d}.png")
    return folder


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    import fid_studio
    from engine.features.inference import InferenceModel
    from models import find_model

    tmp = Path(tempfile.mkdtemp(prefix="api-bench-"))
    env = dict(os.environ, FID_STUDIO_CACHE_DIR=str(tmp / "cache"), FID_STUDIO_DATA_DIR=str(tmp / "data"))
    os.environ.update(FID_STUDIO_CACHE_DIR=env["FID_STUDIO_CACHE_DIR"], FID_STUDIO_DATA_DIR=env["FID_STUDIO_DATA_DIR"])
    try:
        ref, gen = make_images(args.n, args.size, 1), make_images(args.n, args.size, 2)
        ref_dir, gen_dir = write_pngs(tmp / "ref", ref), write_pngs(tmp / "gen", gen)
        metrics = "fid,kid"

        wall, cpu = {}, {}

        def timed(name, fn):
            t, c = time.perf_counter(), time.process_time()
            out = fn()
            wall[name], cpu[name] = time.perf_counter() - t, time.process_time() - c
            return out
        ev = timed("init", lambda: fid_studio.Evaluator(ref_dir, metrics=metrics.split(","), device=args.device))
        scores = timed("score", lambda: ev.score(gen))
        timed("log", lambda: ev.log(1, scores, run="bench"))

        cmd = [sys.executable, str(ROOT / "main.py"), "compute", str(ref_dir), str(gen_dir), "--metrics", metrics,
               "--device", args.device]
        t, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall["cli"] = time.perf_counter() - t
        cpu["cli"] = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
        cli = json.loads(out.stdout)["results"][0]["metrics"]
        assert cli["fid"] == scores.fid and cli["kid_mean"] == scores.kid, (cli, scores)

        model = InferenceModel(find_model(), args.device)
        x = np.random.default_rng(0).standard_normal((32, 3, 299, 299)).astype(np.float32)
        model.run(x)
        scale = args.n / (32 * -(-args.n // 32))

        def model_only():
            for _ in range(-(-args.n // 32)):
                model.run(x)
        timed("model", model_only)
        wall["model"] *= scale
        cpu["model"] *= scale
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    import onnxruntime
    print(f"## Python API: one score call ({time.strftime('%Y-%m-%d')})\n")
    print(f"`python bench/api_overhead.py --n {args.n} --size {args.size} --device {args.device}`; "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, onnxruntime "
          f"{onnxruntime.__version__}, device {ev.device}. {args.n} generated images {args.size}x{args.size} "
          f"against {args.n} reference images, metrics {metrics}; the reference's features are cached "
          "(the Evaluator keeps them; the CLI reads them from the feature cache).\n")
    print("| what | wall time | CPU time (all threads) |")
    print("|---|---|---|")
    for key, name in (("score", "`Evaluator.score(uint8 array)`"),
                      ("cli", "CLI `compute` on the same images as PNG (whole process)"),
                      ("model", "model alone (ONNX Runtime, batch 32, same image count)"),
                      ("init", "`Evaluator(...)` once: session + reference (first time: computed)"),
                      ("log", "`Evaluator.log` (one SQLite transaction)")):
        print(f"| {name} | {wall[key]:.2f} s | {cpu[key]:.2f} s |")
    print(f"\nPer score call of {args.n} images: the call costs {wall['score'] - wall['model']:.2f} s wall "
          f"({cpu['score'] - cpu['model']:.2f} s CPU) more than the model alone (preprocessing, statistics, "
          f"FID/KID); the CLI on the same images costs {wall['cli'] - wall['score']:.2f} s wall "
          f"({cpu['cli'] - cpu['score']:.2f} s CPU) more than the call (process start, imports, session "
          f"creation, PNG decoding, reading the cached reference, JSON). Same FID in both: {scores.fid:.6f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
