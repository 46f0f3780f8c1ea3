"""Memory and time at scale: the real pipeline on many PNGs, metrics on 1M synthetic rows.

    python bench/scale_bench.py pipeline N [--stand-in]   # `stats` on bench/data/scale/png_N
    python bench/scale_bench.py rows N [--no-stats]       # N synthetic rows: stats, KID, P/R

Each measurement runs in a child process sampled every 0.1 s from /proc: peak RSS (VmHWM,
which counts touched pages of memory-mapped feature files) and peak anonymous RSS (RssAnon:
the heap, which is what must stay flat). Prints one JSON line; bench/RESULTS.md has the table.
``--stand-in`` swaps the Inception network for bench/scale_data.py's near-free model of the
same interface, so the rest of the pipeline can be measured to 100k images on a small CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _status(pid) -> dict:
    out = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                    out[key] = int(rest.split()[0]) / 1024.0  # kB -> MiB
    except (OSError, ValueError):
        pass
    return out


class Sampler:
    """Peak VmHWM / RssAnon / RssFile of a process, sampled in a thread."""

    def __init__(self, pid, period=0.1):
        self.pid, self.period = pid, period
        self.peak = {"VmHWM": 0.0, "RssAnon": 0.0, "RssFile": 0.0}
        self.window_anon = 0.0      # peak RssAnon since the last phase mark
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            for k, v in _status(self.pid).items():
                if k in self.peak:
                    self.peak[k] = max(self.peak[k], v)
                if k == "RssAnon":
                    self.window_anon = max(self.window_anon, v)
            self._stop.wait(self.period)

    def phase_peak(self) -> float:
        """Peak heap since the previous call (one sample taken now, so a phase that ends
        between two samples still counts)."""
        anon = _status(self.pid).get("RssAnon", 0.0)
        peak, self.window_anon = max(self.window_anon, anon), anon
        return round(peak, 1)

    def stop(self) -> dict:
        self._stop.set()
        self._t.join()
        return {k: round(v, 1) for k, v in self.peak.items()}


PROGRESS = re.compile(r"\[features\] (\d+)/(\d+)")
PHASE = re.compile(r"^\[phase\] (.+)$")


def measure(cmd, env=None, marks=()) -> dict:
    """Run cmd, sampling its memory; with marks (image counts), also record elapsed time and the
    peaks so far when the progress lines on stderr first reach each count."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    s = Sampler(p.pid)
    reached, err_tail, phases = [], [], {}
    pending = sorted(marks)

    def read_stderr():
        for line in p.stderr:
            err_tail.append(line)
            del err_tail[:-50]
            ph = PHASE.match(line.strip())
            if ph:  # the child finished a phase: the heap peak while it ran
                phases[ph.group(1)] = s.phase_peak()
            m = PROGRESS.search(line)
            while m and pending and int(m.group(1)) >= pending[0]:
                peak = {k: round(v, 1) for k, v in s.peak.items()}
                reached.append({"images": int(m.group(1)), "mark": pending.pop(0),
                                "elapsed_s": round(time.perf_counter() - t, 1),
                                "peak_rss_mib": peak["VmHWM"], "peak_anon_mib": peak["RssAnon"],
                                "load_avg_1min": round(os.getloadavg()[0], 1)})
                print(json.dumps(reached[-1]), file=sys.stderr, flush=True)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    out = p.stdout.read()
    p.wait()
    reader.join()
    peaks = s.stop()
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{cmd} failed ({p.returncode}):\n{''.join(err_tail)[-3000:]}")
    r = {"wall_s": round(wall, 1), "peak_rss_mib": peaks["VmHWM"], "peak_anon_mib": peaks["RssAnon"],
         "peak_file_mib": peaks["RssFile"], "stdout": out.strip().splitlines()[-1:] or [""]}
    if marks:
        r["marks"] = reached
    if phases:
        r["peak_anon_mib_by_phase"] = phases
    return r


def pipeline(n: int, stand_in: bool, workers: int, batch: int, shard: str = "", marks=()) -> dict:
    import scale_data
    folder = scale_data.images(n)
    model = scale_data.stand_in_model() if stand_in else None
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, FID_STUDIO_CACHE_DIR=tmp)
        cmd = [sys.executable, "main.py", "stats", str(folder), "-o", str(Path(tmp) / "s.npz"),
               "--device", "cpu", "--no-cache", "--workers", str(workers), "--batch-size", str(batch)]
        if model:
            cmd += ["--model", str(model)]
        if shard:  # e.g. 1/2 of the 100k folder = its first 50k images
            cmd += ["--shard", shard]
        r = measure(cmd, env, marks)
    if shard:
        i, k = map(int, shard.split("/"))
        n = i * n // k - (i - 1) * n // k
    r.update(images=n, model="stand-in (not Inception)" if stand_in else "Inception (real)",
             workers=workers, batch=batch, img_per_s=round(n / r["wall_s"], 1))
    del r["stdout"]
    return r


ROWS_CHILD = r'''
import json, sys, time, tempfile, os
import numpy as np
sys.path.insert(0, sys.argv[3])
from engine.features.stats import FeatureStore, MomentAccumulator, merge_moments, moments_to_stats
from engine.metrics import kid, prdc, fid
from engine.run.job import _subsample
n, folder, with_stats = int(sys.argv[1]), sys.argv[2], sys.argv[4] == "1"
times = {}
def phase(name):
    print("[phase] " + name, file=sys.stderr, flush=True)
phase("start (imports)")
rng = np.random.default_rng(0)
t = time.perf_counter()
stores = []
for role, size in (("ref", n), ("gen", max(n // 10, 2000))):
    acc = MomentAccumulator(2048)
    store = FeatureStore(os.path.join(folder, role + ".f32"), 2048)
    for s in range(0, size, 1000):
        rows = rng.random((min(1000, size - s), 2048), dtype=np.float32)
        if with_stats:
            acc.add(rows)
        store.append(rows)
    stores.append((acc, store))
label = "stats (accumulate + store" if with_stats else "feature store only (no stats"
times[label + ": N reference rows + N/10 generated)"] = time.perf_counter() - t
phase("store" + (" + moments" if with_stats else ""))
(acc_r, st_r), (acc_g, st_g) = stores
value = None
if with_stats:
    t = time.perf_counter()
    value = fid.compute(acc_r.stats(), moments_to_stats(*merge_moments([acc_g.moments()]))).fid
    times["FID"] = time.perf_counter() - t
    phase("FID")
ref, gen = st_r.open(), st_g.open()
t = time.perf_counter()
kv = kid.compute(ref, gen, 100, 1000, 0)
times["KID (100 x 1000)"] = time.perf_counter() - t
phase("KID")
t = time.perf_counter()
real, _ = _subsample(ref, 10000, 0)
fake, _ = _subsample(gen, 10000, 1)
pv = prdc.compute(real, fake, 3, 5)
times["precision/recall (10k subsample)"] = time.perf_counter() - t
phase("precision/recall")
pi_real, pi_fake = int(sys.argv[5]), int(sys.argv[6])
realism = None
if pi_real:
    from engine.per_image import scores as per_image
    t = time.perf_counter()
    sc = per_image.compute(ref[:pi_real], gen[:pi_fake])
    times[f"per-image scores ({pi_real} real x {pi_fake} generated rows, centred copies "
          f"{'file-backed' if pi_real * 2048 * 4 > prdc.SPILL_BYTES else 'in memory'})"] = time.perf_counter() - t
    realism = float(np.median(sc.realism))
    phase("per-image")
print(json.dumps({"times": {k: round(v, 1) for k, v in times.items()}, "fid": value, "kid": kv.mean,
                  "precision": pv.precision, "median_realism": realism}))
'''


def rows(n: int, with_stats: bool = True, per_image=(0, 0)) -> dict:
    """``per_image``: (real rows, generated rows) for the per-image scores, the first rows of
    each store (their real k-NN pass is n_real^2 x d: 1M real rows are out of a CPU's reach)."""
    with tempfile.TemporaryDirectory(dir=ROOT / "bench" / "data") as tmp:
        r = measure([sys.executable, "-c", ROWS_CHILD, str(n), tmp, str(ROOT), "1" if with_stats else "0",
                     str(per_image[0]), str(per_image[1])])
    r.update(reference_rows=n, generated_rows=max(n // 10, 2000), **json.loads(r.pop("stdout")[0]))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("pipeline", "rows"))
    ap.add_argument("n", type=int)
    ap.add_argument("--stand-in", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--no-stats", action="store_true", help="rows: skip the moment accumulation")
    ap.add_argument("--per-image", default="0,0", help="rows: REAL,GENERATED rows for the per-image "
                    "scores (0,0: skip)")
    ap.add_argument("--shard", default="", help="pipeline: only this shard of the folder (i/n)")
    ap.add_argument("--marks", default="", help="pipeline: image counts (e.g. 10000,50000) at which to "
                    "record elapsed time and the memory peaks so far")
    args = ap.parse_args()
    (ROOT / "bench" / "data").mkdir(exist_ok=True)
    r = pipeline(args.n, args.stand_in, args.workers, args.batch_size, args.shard,
                                                 [int(x) for x in args.marks.split(',') if x]) if args.what == "pipeline" else rows(args.n, not args.no_stats, tuple(int(x) for x in args.per_image.split(',')))
    r["load_avg_1min_at_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(r))


if __name__ == "__main__":
    main()
