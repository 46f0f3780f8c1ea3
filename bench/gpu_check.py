"""One command for a machine with an NVIDIA GPU: is CUDA really used, does it match the CPU,
how fast is it, and how far do tf32 / fp16 drift. Writes bench/RESULTS-gpu.md.

    python bench/gpu_check.py [--model PATH | --model-parts P1 P2 ... --model-sha256 HEX]
                              [--wheel-parts P1 P2 ... --wheel-sha256 HEX]
                              [--n 512] [--batches 1,8,32,64,128] [--out bench/RESULTS-gpu.md]

The DINOv2 ViT-L/14 model (FD_DINOv2) has its own check, bench/gpu_check_dinov2.py (CUDA vs
CPU features and FD on a full-size stand-in, img/s by batch size).

Needs nothing from the network. Files carried over in parts (size limits) are joined and
their SHA-256 checked before use: ``--wheel-parts`` rebuilds the onnxruntime-gpu wheel and
stops with the pip command to install it (``pip install --no-index --no-deps WHEEL``);
``--model-parts`` rebuilds the ONNX model. Checks, in order:

1. the CUDA provider is active (``session.get_providers()`` after creation, not the list of
   available ones) with TF32 off; where it is not, one line says why and the exit code is 3;
2. FID parity GPU vs CPU on tests/fixtures/parity for each preset (fp32, <= 1e-5 relative),
   and against the reference tools' values;
3. model-only img/s by batch size (random input) for fp32 / tf32 / fp16;
4. end-to-end img/s by batch size on 256-px PNGs (decode + preprocess + model + stats);
5. FID drift of tf32 and fp16 against fp32.

``--allow-cpu`` runs the same steps on the CPU provider (a dry run of the script; the file it
writes says so): that is how the script is tested where no GPU exists.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
PARITY = ROOT / "tests" / "fixtures" / "parity"
NO_CUDA = 3


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def assemble(parts, expected_sha256: str, dest: Path) -> Path:
    """Join ``parts`` (in the order given) into ``dest`` and check the SHA-256 before use."""
    if not expected_sha256:
        raise SystemExit("parts need their expected --*-sha256")
    tmp = dest.with_name(dest.name + ".partial")
    with open(tmp, "wb") as out:
        for p in parts:
            with open(p, "rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 20)
    got = sha256(tmp)
    if got != expected_sha256.lower():
        tmp.unlink()
        raise SystemExit(f"hash mismatch for {dest.name}: got {got}, expected {expected_sha256}")
    tmp.replace(dest)
    return dest


def cuda_model(model_path, precision="fp32", allow_cpu=False):
    from engine.errors import DeviceError
    from engine.features.inference import InferenceModel
    try:
        return InferenceModel(model_path, "cuda", precision=precision)
    except DeviceError as exc:
        if allow_cpu:
            return InferenceModel(model_path, "cpu", precision=precision, io_binding=True)
        print(f"no CUDA provider: {exc}", file=sys.stderr)
        raise SystemExit(NO_CUDA)


def parity(model_path, device, presets=("clean", "pytorch-fid", "tensorflow")) -> list:
    from engine.run.job import run
    from engine.run.options import Options
    ref = json.loads((PARITY / "reference.json").read_text())
    rows = []
    for preset in presets:
        vals = {}
        for dev in ("cpu", device):
            with tempfile.TemporaryDirectory() as cache:
                r = run(PARITY / "ref", [PARITY / "gen"], Options(metrics=("fid",), preset=preset, device=dev,
                                                                  use_cache=False),
                        model_path=model_path, cache_root=Path(cache))
            vals[dev] = r.results[0].metrics["fid"]
        tool = ref["presets"][preset]["fid"]
        rel = abs(vals[device] - vals["cpu"]) / vals["cpu"]
        rows.append({"preset": preset, "fid_cpu": vals["cpu"], "fid_dev": vals[device], "rel": rel,
                     "fid_tool": tool, "rel_tool": abs(vals[device] - tool) / tool, "ok": rel <= 1e-5})
    return rows


def model_only(model_path, batches, precisions, allow_cpu, seconds=3.0) -> list:
    import numpy as np
    rows = []
    for p in precisions:
        m = cuda_model(model_path, p, allow_cpu)
        for b in batches:
            x = np.random.default_rng(0).uniform(-1, 1, (b, 3, 299, 299)).astype(np.float32)
            m.run(x)  # warm-up: kernels, buffers
            n, t = 0, time.perf_counter()
            while time.perf_counter() - t < seconds or n < 2:
                m.run(x)
                n += 1
            rows.append({"precision": p, "batch": b, "img_per_s": n * b / (time.perf_counter() - t)})
    return rows


def end_to_end(model_path, batches, n, allow_cpu) -> list:
    from decode_scaling import images
    from engine.features.pipeline import extract
    from engine.features.presets import get_preset
    from engine.inputs.sources import open_source
    from engine.run.options import Options
    folder = images(n, 256)
    src = open_source(folder)
    m = cuda_model(model_path, "fp32", allow_cpu)
    workers = max(1, min(16, os.cpu_count() or 1))
    rows = []
    for b in batches:
        with tempfile.TemporaryDirectory() as cache:
            t = time.perf_counter()
            ext = extract(src, get_preset("clean"), m, Options(batch_size=b, workers=workers, use_cache=False,
                                                               device=m.device.device), cache_root=Path(cache))
            wall = time.perf_counter() - t
            shutil.rmtree(ext.workdir, ignore_errors=True)
        rows.append({"batch": b, "workers": workers, "img_per_s": ext.n / wall})
    return rows


def write_report(out: Path, info: dict) -> None:
    L = [f"# GPU check{' (CPU DRY RUN: no GPU was used)' if info['dry_run'] else ''}", "",
         f"Made by `python bench/gpu_check.py` on {info['date']}.", "",
         f"Machine: {info['machine']}; {info['device_line']}; onnxruntime {info['ort']}.", "",
         f"Session: providers {info['providers']}; CUDA options {json.dumps(info['cuda_options'])}; "
         f"IO binding: {info['io_binding']}.", "",
         "## FID parity, device vs CPU (fp32, must be <= 1e-5 relative)", "",
         "| preset | FID CPU | FID device | rel. diff | vs reference tool | parity |", "|---|---|---|---|---|---|"]
    for r in info["parity"]:
        L.append(f"| {r['preset']} | {r['fid_cpu']:.6f} | {r['fid_dev']:.6f} | {r['rel']:.1e} | "
                 f"{r['rel_tool']:.1e} | {'ok' if r['ok'] else 'FAILED'} |")
    L += ["", "## Model only (random input), img/s", "", "| precision | " +
          " | ".join(f"batch {b}" for b in info["batches"]) + " |", "|---|" + "---|" * len(info["batches"])]
    for p in info["precisions"]:
        vals = [r for r in info["model_only"] if r["precision"] == p]
        L.append(f"| {p} | " + " | ".join(f"{r['img_per_s']:.0f}" for r in vals) + " |")
    L += ["", f"## End to end on {info['n']} PNGs of 256 px (fp32, decode + preprocess + model + stats), img/s", "",
          "| batch | workers | img/s |", "|---|---|---|"]
    L += [f"| {r['batch']} | {r['workers']} | {r['img_per_s']:.0f} |" for r in info["end_to_end"]]
    L += ["", "## Drift against fp32 (parity fixtures, FID relative change)", "",
          "| preset | precision | FID | FID fp32 | rel. change |", "|---|---|---|---|---|"]
    L += [f"| {r['preset']} | {r['precision']} | {r['fid']:.6f} | {r['fid_fp32']:.6f} | {r['rel']:.2e} |"
          for r in info["drift"] if r["precision"] != "fp32"]
    L.append("")
    out.write_text("\n".join(L))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--model-parts", nargs="+", type=Path)
    ap.add_argument("--model-sha256", default="")
    ap.add_argument("--wheel-parts", nargs="+", type=Path)
    ap.add_argument("--wheel-sha256", default="")
    ap.add_argument("--n", type=int, default=512, help="256-px PNGs for the end-to-end figure")
    ap.add_argument("--batches", default="1,8,32,64,128")
    ap.add_argument("--seconds", type=float, default=3.0, help="timing per model-only figure")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-gpu.md")
    ap.add_argument("--presets", default="clean,pytorch-fid,tensorflow", help="presets for the parity check")
    ap.add_argument("--allow-cpu", action="store_true", help="dry run on the CPU provider")
    args = ap.parse_args(argv)
    if args.wheel_parts:
        wheel = assemble(args.wheel_parts, args.wheel_sha256,
                         Path(tempfile.gettempdir()) / "onnxruntime_gpu.whl")
        print(f"wheel checked: install it with\n  {sys.executable} -m pip install --no-index --no-deps "
              f"{wheel}\nthen run this script again without --wheel-parts")
        return 0
    if args.model_parts:
        model_path = assemble(args.model_parts, args.model_sha256, ROOT / "models" / "fid_inception.onnx")
    else:
        from models import find_model
        model_path = args.model or find_model()
        if model_path is None:
            print("no model: pass --model or --model-parts", file=sys.stderr)
            return 2
        if args.model_sha256 and sha256(model_path) != args.model_sha256.lower():
            print(f"model hash mismatch: {model_path}", file=sys.stderr)
            return 2
    import onnxruntime as ort
    m = cuda_model(model_path, "fp32", args.allow_cpu)
    device = m.device.device
    cuda_opts = m.provider_options.get("CUDAExecutionProvider", {})
    if device == "cuda" and cuda_opts.get("use_tf32") != "0":
        print(f"CUDA session does not have TF32 off: {cuda_opts}", file=sys.stderr)
        return 1
    batches = [int(b) for b in args.batches.split(",")]
    precisions = ["fp32", "tf32", "fp16"] if device == "cuda" else ["fp32", "fp16"]
    from precision_drift import drift
    info = {"dry_run": device != "cuda", "date": time.strftime("%Y-%m-%d"), "ort": ort.__version__,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "device_line": m.device.line, "providers": m.session.get_providers(), "cuda_options": cuda_opts,
            "io_binding": m.io_binding, "batches": batches, "precisions": precisions, "n": args.n}
    print(m.device.line, file=sys.stderr)
    info["parity"] = parity(model_path, device, args.presets.split(","))
    print("parity:", json.dumps(info["parity"]), file=sys.stderr)
    info["model_only"] = model_only(model_path, batches, precisions, args.allow_cpu, args.seconds)
    info["end_to_end"] = end_to_end(model_path, batches, args.n, args.allow_cpu)
    info["drift"] = drift(["clean"], device, [p for p in precisions if p != "fp32"], model_path)
    write_report(args.out, info)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0 if all(r["ok"] for r in info["parity"]) else 1


if __name__ == "__main__":
    sys.exit(main())
