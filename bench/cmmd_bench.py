"""CMMD distance time and memory on this machine (engine/metrics/cmmd.py, float64, blocked).

Random 768-d unit vectors (the CLIP ViT-L/14@336 embedding width), two sets of N each; each
size is timed in a child process so its peak RSS (ru_maxrss) is its own. Also the block size's
effect at the smallest N. Usage:
    python bench/cmmd_bench.py [--sizes 10000,50000] [--block 2048] [--blocks 512,1024,2048,4096]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from engine.metrics import cmmd
n, block = int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
def unit(m):
    x = rng.standard_normal((m, 768), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)
x, y = unit(n), unit(n) * 0.999 + 0.001     # not unit: the metric normalises
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
v = cmmd.compute(x, y, block=block)
dt = time.perf_counter() - t
print(json.dumps({"n": n, "block": block, "seconds": round(dt, 2), "cmmd": v.cmmd,
                  "load_avg_1min": round(__import__("os").getloadavg()[0], 1),
                  "rss_before_mb": rss0 // 1024,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def measure(n: int, block: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(n), str(block)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,50000")
    ap.add_argument("--block", type=int, default=2048)
    ap.add_argument("--blocks", default="512,1024,2048,4096", help="block sizes tried at the first size")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    for b in [int(s) for s in args.blocks.split(",")] if args.blocks else []:
        print(json.dumps(measure(sizes[0], b)), flush=True)
    for n in sizes:
        print(json.dumps(measure(n, args.block)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
