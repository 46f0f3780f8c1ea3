"""End-to-end speed of FID Studio against pytorch-fid and clean-fid on the same folders.

    python bench/run_bench.py [--n 1000] [--ref-python /work/refenv/bin/python] [--skip-reference]

Generates 2 x N images at 128 px (PNG) and 512 px (JPEG) under bench/data/, then times, each as
a separate process with its peak RSS: FID Studio's CLI (features not cached), pytorch-fid 0.3.0
and clean-fid 0.1.35 (genuine FID weights; bench/setup_reference_env.sh), plus the model alone
in ONNX Runtime, and FID with both feature sets already cached. Writes bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def make_sets(n: int, size: int, ext: str) -> tuple[Path, Path]:
    from imagegen import make_folder
    base = ROOT / "bench" / "data" / f"{size}px_{n}"
    ref, gen = base / "ref", base / "gen"
    for folder, seed, shift in ((ref, 1, 0), (gen, 2, 70)):
        if not folder.exists() or len(list(folder.iterdir())) != n:
            make_folder(folder, n, seed=seed, size=(size, size), shift=shift, ext=ext)
    return ref, gen


def timed(cmd, env=None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MiB of the child, stdout); one child per call."""
    code = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
            "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
            "w=time.perf_counter()-t;r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024;"
            "sys.stderr.write(p.stderr[-3000:]);print(json.dumps([w,r,p.returncode,p.stdout]))")
    out = subprocess.run([sys.executable, "-c", code, *map(str, cmd)], capture_output=True, text=True,
                         env=env)
    wall, rss, rc, stdout = json.loads(out.stdout.strip().splitlines()[-1])
    if rc != 0:
        raise SystemExit(f"{cmd[:3]} failed ({rc}):\n{out.stderr}")
    return wall, rss, stdout


def model_only(batch=32, n=256) -> float:
    from engine.features.inference import InferenceModel
    from models import find_model
    m = InferenceModel(find_model(), "cpu")
    x = np.random.default_rng(0).uniform(-1, 1, (batch, 3, 299, 299)).astype(np.float32)
    m.run(x[:2])
    t = time.perf_counter()
    for _ in range(n // batch):
        m.run(x)
    return (n // batch) * batch / (time.perf_counter() - t)


def ours_cached(ref, gen, cache) -> float:
    from engine.run.job import run
    from engine.run.options import Options
    os.environ["FID_STUDIO_CACHE_DIR"] = str(cache)
    t = time.perf_counter()
    run(ref, [gen], Options(metrics=("fid",), device="cpu"))
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--ref-python", default="/work/refenv/bin/python")
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()
    rows = []
    ort_ips = model_only()
    print(f"model only: {ort_ips:.1f} img/s", flush=True)
    for size, ext in ((128, "png"), (512, "jpg")):
        ref, gen = make_sets(args.n, size, ext)
        total = 2 * args.n
        cache = Path(tempfile.mkdtemp(prefix="fidbench-"))
        env = dict(os.environ, FID_STUDIO_CACHE_DIR=str(cache))
        w, rss, out = timed([sys.executable, ROOT / "main.py", "compute", ref, gen, "--metrics", "fid",
                             "--device", "cpu"], env)
        ours_fid = json.loads(out)["results"][0]["metrics"]["fid"]
        row = {"size": size, "images": total, "ours_s": w, "ours_rss": rss, "ours_fid": ours_fid,
               "ours_ips": total / w, "cached_fid_s": ours_cached(ref, gen, cache)}
        wc, _, _ = timed([sys.executable, ROOT / "main.py", "compute", ref, gen, "--metrics", "fid",
                          "--device", "cpu"], env)
        row["cached_cli_s"] = wc
        print(row, flush=True)
        if not args.skip_reference:
            for tool in ("pytorch-fid", "clean-fid"):
                w, rss, out = timed([args.ref_python, ROOT / "bench" / "reftools.py", tool, ref, gen])
                row[tool] = {"s": w, "rss": rss, "fid": json.loads(out.strip().splitlines()[-1])["fid"]}
                print(tool, row[tool], flush=True)
        rows.append(row)
    write_results(rows, ort_ips, args)


def write_results(rows, ort_ips, args):
    import onnxruntime
    lines = ["# Benchmark results", "",
             f"Made by `python bench/run_bench.py --n {args.n}` on {time.strftime('%Y-%m-%d')}.", "",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, onnxruntime {onnxruntime.__version__} (CPU provider), "
             "no GPU. Reference tools: pytorch-fid 0.3.0 and clean-fid 0.1.35 on torch 2.14.1 (CPU), "
             "genuine FID Inception weights for all three.", "",
             f"Model alone (ONNX Runtime, batch 32, random input): **{ort_ips:.1f} img/s**.", "",
             "| images | FID Studio | pytorch-fid | clean-fid | vs pytorch-fid | vs clean-fid | "
             "FID Studio img/s (% of model-only) | peak RSS ours / ptfid / cleanfid (MiB) | "
             "cached FID in-process / CLI |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p, c = r.get("pytorch-fid"), r.get("clean-fid")
        lines.append(
            f"| 2x{r['images'] // 2} @ {r['size']} px | {r['ours_s']:.1f} s | "
            f"{p['s']:.1f} s | {c['s']:.1f} s | {p['s'] / r['ours_s']:.2f}x | {c['s'] / r['ours_s']:.2f}x | "
            if p and c else f"| 2x{r['images'] // 2} @ {r['size']} px | {r['ours_s']:.1f} s | - | - | - | - | ")
        lines[-1] += (f"{r['ours_ips']:.1f} ({100 * r['ours_ips'] / ort_ips:.0f}%) | {r['ours_rss']:.0f}"
                      + (f" / {p['rss']:.0f} / {c['rss']:.0f}" if p and c else "")
                      + f" | {r['cached_fid_s']:.2f} s / {r['cached_cli_s']:.2f} s |")
    lines += ["", "FID values (same images; clean-fid and FID Studio's default preset use the same convention):", ""]
    for r in rows:
        p, c = r.get("pytorch-fid"), r.get("clean-fid")
        lines.append(f"- {r['size']} px: FID Studio (clean) {r['ours_fid']:.4f}"
                     + (f"; clean-fid {c['fid']:.4f}; pytorch-fid (its own convention) {p['fid']:.4f}" if p else ""))
    lines += ["", "Targets on this 2-core CPU (ours = wall time of the whole CLI process, start-up and FID "
              "included):", ""]
    for r in rows:
        p, c = r.get("pytorch-fid"), r.get("clean-fid")
        floor = r["images"] / ort_ips   # the network alone, no decoding, no start-up
        if p and c:
            lines.append(f"- {r['size']} px: >= 3x pytorch-fid: {'met' if p['s'] / r['ours_s'] >= 3 else 'NOT met'} "
                         f"({p['s'] / r['ours_s']:.2f}x; even the model alone would give only "
                         f"{p['s'] / floor:.2f}x); >= 2x clean-fid: "
                         f"{'met' if c['s'] / r['ours_s'] >= 2 else 'NOT met'} ({c['s'] / r['ours_s']:.2f}x); "
                         f">= 90% of model-only: {'met' if r['ours_ips'] >= 0.9 * ort_ips else 'NOT met'} "
                         f"({100 * r['ours_ips'] / ort_ips:.0f}%); cached FID < 2 s: "
                         f"{'met' if r['cached_fid_s'] < 2 else 'NOT met'} ({r['cached_fid_s']:.2f} s in-process)")
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
