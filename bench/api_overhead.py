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

        t = time.perf_counter()
        ev = fid_studio.Evaluator(ref_dir, metrics=metrics.split(","), device=args.device)
        t_init = time.perf_counter() - t           # session + reference (cached for the CLI too)
        t = time.perf_counter()
        scores = ev.score(gen)
        t_score = time.perf_counter() - t
        t = time.perf_counter()
        ev.log(1, scores, run="bench")
        t_log = time.perf_counter() - t

        cmd = [sys.executable, str(ROOT / "main.py"), "compute", str(ref_dir), str(gen_dir), "--metrics", metrics,
               "--device", args.device]
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
        t_cli = time.perf_counter() - t
        cli = json.loads(out.stdout)["results"][0]["metrics"]
        assert cli["fid"] == scores.fid and cli["kid_mean"] == scores.kid, (cli, scores)

        model = InferenceModel(find_model(), args.device)
        x = np.random.default_rng(0).standard_normal((32, 3, 299, 299)).astype(np.float32)
        model.run(x)
        t = time.perf_counter()
        for _ in range(-(-args.n // 32)):
            model.run(x)
        t_model = (time.perf_counter() - t) * args.n / (32 * -(-args.n // 32))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    import onnxruntime
    print(f"## Python API: one score call ({time.strftime('%Y-%m-%d')})\n")
    print(f"`python bench/api_overhead.py --n {args.n} --size {args.size} --device {args.device}`; "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, onnxruntime "
          f"{onnxruntime.__version__}, device {ev.device}. {args.n} generated images {args.size}x{args.size} "
          f"against {args.n} reference images, metrics {metrics}; the reference's features are cached "
          "(the Evaluator keeps them; the CLI reads them from the feature cache).\n")
    print("| what | wall time | per image |")
    print("|---|---|---|")
    for name, v in (("`Evaluator.score(uint8 array)`", t_score),
                    ("CLI `compute` on the same images as PNG (whole process)", t_cli),
                    ("model alone (ONNX Runtime, batch 32)", t_model),
                    ("`Evaluator(...)` once: session + cached reference", t_init),
                    ("`Evaluator.log` (one SQLite transaction)", t_log)):
        print(f"| {name} | {v:.2f} s | {1000 * v / args.n:.1f} ms |")
    print(f"\nOverhead of a score call over the model alone: {t_score - t_model:.2f} s "
          f"({100 * (t_score / t_model - 1):.0f}%: preprocessing not hidden behind inference, "
          f"statistics, KID); the CLI costs {t_cli - t_score:.2f} s more than the call "
          f"(process start, imports, session creation, PNG decoding, JSON). Same FID in both: "
          f"{scores.fid:.6f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
