"""The DINOv2 part of bench/gpu_check.py: the ViT-L/14 graph on CUDA against the CPU, and its
speed by batch size.

    python bench/gpu_check_dinov2.py [--depth 24] [--batches 1,8,32,64] [--allow-cpu]

Builds the model from the seeded stand-in weights (official layout; the real weights are never
needed for a numerics or speed check), runs the committed stand-in images through both
providers with the same explicit CUDA options as the Inception model (TF32 off), and reports
the largest feature difference (the bar: 1e-4 absolute per component, as the CPU parity), FD
between two halves on each device, and model-only img/s. Exit 0 when parity holds, 1 when
not, 3 when there is no CUDA (unless --allow-cpu: a dry run on the CPU provider).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NO_CUDA = 3


def build(depth: int, work: Path) -> Path:
    from models.dinov2.graph import build_dinov2_model
    from models.dinov2.standin import write_standin
    from models.dinov2.weights import ViTSpec
    out = work / f"dinov2_d{depth}.onnx"
    weights = write_standin(work / "standin.pth", depth=depth)
    build_dinov2_model(weights, out, spec=ViTSpec(depth=depth))
    weights.unlink()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--depth", type=int, default=24)
    ap.add_argument("--batches", default="1,8,32,64")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--allow-cpu", action="store_true")
    args = ap.parse_args(argv)
    import numpy as np
    from engine.errors import DeviceError
    from engine.features.dinov2_preprocess import preprocess
    from engine.features.inference import open_session
    from engine.metrics import fid
    from models.dinov2.standin import standin_images

    model = build(args.depth, Path(tempfile.mkdtemp(prefix="dinov2_gpu_")))
    try:
        dev, line = open_session(model, "cuda")
    except DeviceError as exc:
        if not args.allow_cpu:
            print(f"no CUDA provider: {exc}", file=sys.stderr)
            return NO_CUDA
        dev, line = open_session(model, "cpu")
    cpu, _ = open_session(model, "cpu")
    rng = np.random.default_rng(224)
    imgs = standin_images() + [rng.integers(0, 256, (96 + 8 * i, 128, 3), np.uint8) for i in range(14)]
    x = np.stack([preprocess(im, "dgm-eval") for im in imgs]).astype(np.float32)
    f_cpu = cpu.run(["features"], {"images": x})[0].astype(np.float64)
    f_dev = dev.run(["features"], {"images": x})[0].astype(np.float64)
    diff = float(np.abs(f_cpu - f_dev).max())
    half = len(x) // 2

    def fd(f):
        s = [fid.GaussianStats(a.mean(0), np.cov(a, rowvar=False)) for a in (f[:half], f[half:])]
        return fid.compute(*s).fid
    fd_cpu, fd_dev = fd(f_cpu), fd(f_dev)
    speed = {}
    for b in (int(v) for v in args.batches.split(",")):
        xb = np.random.default_rng(0).standard_normal((b, 3, 224, 224)).astype(np.float32)
        dev.run(["features"], {"images": xb})
        n, t = 0, time.perf_counter()
        while time.perf_counter() - t < args.seconds or n < 2:
            dev.run(["features"], {"images": xb})
            n += 1
        speed[b] = round(n * b / (time.perf_counter() - t), 2)
    report = {"device_line": getattr(line, "line", str(line)), "depth": args.depth,
              "providers": dev.get_providers(), "max_abs_feature_diff": diff,
              "fd_cpu": fd_cpu, "fd_device": fd_dev,
              "fd_rel": abs(fd_dev - fd_cpu) / fd_cpu, "img_per_s": speed}
    print(json.dumps(report, indent=2))
    return 0 if diff <= 1e-4 and report["fd_rel"] <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
