"""CLIP image encoders' speed and memory on this machine (full-size models).

Builds each full-size model (ViT-B/32: 12 blocks at 224; ViT-L/14@336px: 24 blocks at 336)
from its seeded stand-in (models/clip/standin.py: OpenAI's layout, shapes and compute; speed
does not depend on the values), timing the build and its peak RSS, then measures model-only
img/s of the ONNX session at a few batch sizes (random normalised inputs) and the session's
peak RSS, each in a child process.
Usage: python bench/clip_bench.py [--batches 1,8,32] [--seconds 20] [--work DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from dinov2_bench import child_rss  # noqa: E402

BUILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from models.clip.graph import build_clip_model
from models.clip.standin import write_standin
from models.clip.weights import SPECS
from pathlib import Path
variant, out = sys.argv[2], Path(sys.argv[3])
weights = write_standin(out.with_suffix(".pt"), variant, depth=None)
t = time.perf_counter()
build_clip_model(weights, out, SPECS[variant])
took = time.perf_counter() - t
weights.unlink()
print(json.dumps({"build_s": round(took, 1),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MODEL_ONLY = r"""
import json, resource, sys, time
import numpy as np
import onnxruntime as ort
sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
size, seconds = int(sys.argv[2]), float(sys.argv[4])
out = {}
for b in [int(x) for x in sys.argv[3].split(",")]:
    x = np.random.default_rng(0).standard_normal((b, 3, size, size)).astype(np.float32)
    sess.run(["features"], {"images": x})
    t, n = time.perf_counter(), 0
    while time.perf_counter() - t < seconds or n < 2 * b:
        sess.run(["features"], {"images": x}); n += b
    out[b] = round(n / (time.perf_counter() - t), 2)
print(json.dumps({"img_s": out, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--variants", default="vitb32,vitl14-336")
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="clip_bench_"))
    sys.path.insert(0, str(ROOT))
    from models.clip.weights import SPECS
    py = sys.executable
    results = {}
    for variant in args.variants.split(","):
        spec = SPECS[variant]
        model = work / f"clip_{variant}.onnx"
        wall, rss, out = child_rss([py, "-c", BUILD, str(ROOT), variant, str(model)])
        build = json.loads(out)
        wall, rss, out = child_rss([py, "-c", MODEL_ONLY, str(model), str(spec.image_size),
                                    args.batches, str(args.seconds)])
        run = json.loads(out)
        results[variant] = {"build_s": build["build_s"], "build_peak_rss_mb": round(build["peak_rss_mb"]),
                            "model_mb": round(model.stat().st_size / 1e6, 1),
                            "img_s": run["img_s"], "session_peak_rss_mb": round(run["peak_rss_mb"])}
        print(variant, json.dumps(results[variant]), flush=True)
        model.unlink()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
