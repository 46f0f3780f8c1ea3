"""Memory and time of ADM-layout batches: a 50,000-image sample batch and a 10,000-image
reference batch (32×32, ``np.savez`` layout), evaluated with ``--suite adm``.

    python bench/adm_batch.py all /tmp/admbench [--n 50000 --n-ref 10000 --n-model 256]

Stages, each in its own process under ``/usr/bin/time -v`` (peak RSS, wall time):
  read      every image of the stored and of a compressed copy of the batch, through the
            array reader alone (the streaming part);
  pipeline  ``job.run(ref_batch, samples, --suite adm)``: decode, TF resize to 299, moments,
            feature cache, FID, ADM precision/recall over all 50,000 samples — with a cheap
            stand-in for the Inception network (a fixed random projection of the resized
            image to 2048 values), so the stage measures everything but the network;
  model     the real CLI, ``main.py compute ... --suite adm``, with the real ONNX model on the
            first ``--n-model`` images of each batch: the network's own cost and memory, which
            do not grow with the number of images.
Results are printed as a Markdown table for bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _images(n, seed, shift=0):
    """Smooth gradients + noise, 32×32 RGB, made in blocks (the file is written streamed)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:32, 0:32]
    for s in range(0, n, 5000):
        k = min(5000, n - s)
        a = rng.uniform(1, 6, (k, 1, 1))
        base = np.stack([(xx * a + shift) % 256, (yy * a) % 256,
                         np.broadcast_to(rng.uniform(0, 255, (k, 1, 1)), (k, 32, 32))], axis=-1)
        yield np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


def _write_npz(path, n, seed, shift=0, compressed=False, extra=None):
    """An .npz whose arr_0 member is written block by block (never the whole array in memory)."""
    import zipfile
    mode = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", mode, allowZip64=True) as zf:
        with zf.open("arr_0.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False,
                                                      "shape": (n, 32, 32, 3)})
            for block in _images(n, seed, shift):
                fh.write(block.tobytes())
        for name, value in (extra or {}).items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, value)


class StandIn:
    """Same interface as InferenceModel; features are a fixed projection (not Inception)."""

    def __init__(self):
        from engine.features.inference import DeviceChoice
        self.sha256 = "bench-stand-in-projection"
        self.has_logits = False
        self.device = DeviceChoice("cpu", "stand-in projection (bench)")
        self.w = np.random.default_rng(0).normal(0, 0.05, (3 * 13 * 13, 2048)).astype(np.float32)

    def run(self, batch):
        x = batch[:, :, ::23, ::23].reshape(len(batch), -1)
        return np.abs(x @ self.w), None

    def describe(self):
        return {"path": "stand-in", "sha256": self.sha256, "has_logits": False}


def stage_read(d):
    from engine.inputs.decode import reader_for
    from engine.inputs.sources import open_source
    for name in ("samples.npz", "samples_deflated.npz"):
        src = open_source(d / name)
        read = reader_for(src)
        total = 0
        for f in src.files:
            total += int(read(f).array[0, 0, 0])
        print(name, len(src.files), total)


def stage_pipeline(d):
    from engine.run import suites
    from engine.run.job import run
    from engine.run.options import Options
    opts = suites.apply("adm", Options(device="cpu", batch_size=64))
    t = time.perf_counter()
    res = run(d / "ref_batch.npz", [d / "samples.npz"], opts, model=StandIn())
    r = res.results[0]
    print({k: r.metrics[k] for k in ("fid", "precision", "recall")}, r.n_images,
          res.reference.get("statistics"), f"{time.perf_counter() - t:.1f}s")


def _timed(args, env):
    out = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True, env=env, cwd=ROOT)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", out.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
    return rss, seconds, out.stdout.strip()[-400:], out.returncode


def main():
    p = argparse.ArgumentParser()
    p.add_argument("stage", choices=("make", "read", "pipeline", "all"))
    p.add_argument("dir", type=Path)
    p.add_argument("--n", type=int, default=50000)
    p.add_argument("--n-ref", type=int, default=10000)
    p.add_argument("--n-model", type=int, default=256)
    a = p.parse_args()
    d = a.dir
    if a.stage == "read":
        return stage_read(d)
    if a.stage == "pipeline":
        return stage_pipeline(d)
    d.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    # (the reference batch holds images only: mu/sigma made for the real network would mean
    # nothing to the stand-in; the precomputed-statistics path is covered by the tests)
    _write_npz(d / "ref_batch.npz", a.n_ref, seed=1)
    _write_npz(d / "samples.npz", a.n, seed=2, shift=40)
    _write_npz(d / "samples_deflated.npz", a.n, seed=2, shift=40, compressed=True)
    _write_npz(d / "ref_small.npz", a.n_model, seed=1)
    _write_npz(d / "samples_small.npz", a.n_model, seed=2, shift=40)
    print(f"made the batches in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    if a.stage == "make":
        return
    env = dict(os.environ, FID_STUDIO_CACHE_DIR=str(d / "cache"))
    py = sys.executable
    rows = []
    sizes = {n: (d / n).stat().st_size / 2**20 for n in ("samples.npz", "samples_deflated.npz")}
    for label, args in (
            (f"read {a.n} stored + {a.n} deflated images (array reader only)",
             [py, __file__, "read", str(d)]),
            (f"pipeline, stand-in network: {a.n_ref} ref + {a.n} samples, --suite adm",
             [py, __file__, "pipeline", str(d)]),
            (f"real model (CLI): {a.n_model} ref + {a.n_model} samples, --suite adm",
             [py, "main.py", "compute", str(d / "ref_small.npz"), str(d / "samples_small.npz"),
              "--suite", "adm", "--device", "cpu", "--no-cache"])):
        load = os.getloadavg()[0]
        rss, seconds, tail, rc = _timed(args, env)
        rows.append((label, rss, seconds, load, rc))
        print(f"{label}: {rss:.0f} MiB, {seconds:.1f} s, load {load:.1f}, rc {rc}\n  {tail}", file=sys.stderr)
    print(f"\nFiles: samples.npz {sizes['samples.npz']:.0f} MiB stored, samples_deflated.npz "
          f"{sizes['samples_deflated.npz']:.0f} MiB.\n")
    print("| stage | peak RSS (MiB) | wall time (s) | load average at start |")
    print("|---|---|---|---|")
    for label, rss, seconds, load, rc in rows:
        print(f"| {label}{'' if rc == 0 else f' (exit {rc})'} | {rss:.0f} | {seconds:.1f} | {load:.1f} |")


if __name__ == "__main__":
    main()
