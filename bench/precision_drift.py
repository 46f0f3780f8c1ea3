"""FID drift of reduced precision against exact fp32 on the parity fixtures.

    python bench/precision_drift.py [--device cpu] [--presets clean]

Runs the real job (64 reference + 64 generated images of tests/fixtures/parity) with
precision fp32, then each other precision; prints FID per precision and the relative change.
On a CPU: ``fp16`` is the float16 model on ONNX Runtime's CPU float16 kernels, and
``fp16-emulated`` the fp32 graph with float16-rounded weights and activations (see
models/fp16.py); ``tf32`` does nothing on a CPU and is skipped there.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PARITY = ROOT / "tests" / "fixtures" / "parity"


def fid_for(preset, device, precision, model_path) -> float:
    from engine.run.job import run
    from engine.run.options import Options
    with tempfile.TemporaryDirectory() as cache:
        res = run(PARITY / "ref", [PARITY / "gen"], Options(metrics=("fid",), preset=preset, device=device,
                                                            precision=precision, use_cache=False),
                  model_path=model_path, cache_root=Path(cache))
    return res.results[0].metrics["fid"]


def drift(presets, device, precisions, model_path) -> list:
    """[{preset, precision, fid, fid_fp32, rel}] — fp32 first for each preset."""
    from models.common.fp16 import emulate_fp16
    rows = []
    for preset in presets:
        base = fid_for(preset, device, "fp32", model_path)
        rows.append({"preset": preset, "precision": "fp32", "fid": base, "fid_fp32": base, "rel": 0.0})
        for p in precisions:
            if p == "fp16-emulated":
                with tempfile.TemporaryDirectory() as tmp:
                    emulated = emulate_fp16(model_path, Path(tmp) / "emulated.onnx")
                    value = fid_for(preset, device, "fp32", emulated)
            else:
                value = fid_for(preset, device, p, model_path)
            rows.append({"preset": preset, "precision": p, "fid": value, "fid_fp32": base,
                         "rel": abs(value - base) / base})
    return rows


def main():
    from models import find_model
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--presets", default="clean")
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args()
    precisions = ["fp16", "fp16-emulated"] if args.device == "cpu" else ["tf32", "fp16"]
    for row in drift(args.presets.split(","), args.device, precisions, args.model or find_model()):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
