"""Does decode + preprocessing scale with threads, and how much of it holds the GIL?

    python bench/decode_scaling.py [--n 200] [--size 256] [--preset clean]

Decodes and preprocesses N PNGs (bench/data/scale/png256_N) through the pipeline's own
``ordered_map`` at 1 and 2 worker threads, and reports wall time per image and process CPU
time per image; then the same through the process pool (``--decode-processes``), timed from
the first image (process start-up excluded). GIL share: a probe thread spins a pure-Python loop; its thread CPU time per
wall second is measured alone and while one decode worker runs. A worker that held the GIL
all the time would stop the probe (share 1); one that never held it would leave the probe as
it was alone (share 0). On a machine shared with other work, read the ratios, not the times.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def images(n, size) -> Path:
    import numpy as np
    from imagegen import make_image
    folder = ROOT / "bench" / "data" / "scale" / f"png{size}_{n}"
    if folder.is_dir() and len(list(folder.glob("*.png"))) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(size)
    for i in range(n):
        make_image(rng, (size, size)).save(folder / f"img_{i:05d}.png")
    return folder


def job_for(folder, preset_name):
    from engine.features.presets import get_preset
    from engine.inputs.decode import FolderReader
    read, prepare = FolderReader(folder), get_preset(preset_name).prepare

    def job(name):
        d = read(name)
        return prepare(d.array)
    return job


def run_pool(job, names, workers):
    from engine.features.ordered_pool import ordered_map
    t, c = time.perf_counter(), time.process_time()
    with closing(ordered_map(job, names, workers=workers, depth=4 * workers)) as it:
        for _ in it:
            pass
    return time.perf_counter() - t, time.process_time() - c


def run_processes(folder, preset, workers, n):
    from engine.features.process_pool import ordered_decode
    from engine.inputs.sources import open_source
    src = open_source(folder)
    t, c = time.perf_counter(), time.process_time()
    with closing(ordered_decode(src, preset, workers=workers, depth=4 * workers)) as it:
        first = None
        for i, _ in enumerate(it):
            if i == 0:
                first = time.perf_counter()  # process start-up (spawn, imports) is not per image
    return time.perf_counter() - first, time.process_time() - c


def probe(seconds, background=None):
    """Probe thread's CPU seconds per wall second, optionally while ``background`` runs."""
    stop = threading.Event()
    out = {}

    def spin():
        t, c, x = time.perf_counter(), time.thread_time(), 0
        while not stop.is_set():
            for _ in range(2000):
                x += 1
        out["ratio"] = (time.thread_time() - c) / (time.perf_counter() - t)
    th = threading.Thread(target=spin)
    th.start()
    if background:
        background()
    else:
        time.sleep(seconds)
    stop.set()
    th.join()
    return out["ratio"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--preset", default="clean")
    args = ap.parse_args()
    folder = images(args.n, args.size)
    names = sorted(p.name for p in folder.glob("*.png"))
    job = job_for(folder, args.preset)
    for name in names[:8]:
        job(name)  # warm: resize matrices, imports
    res = {"images": args.n, "size": args.size, "preset": args.preset, "cpu_count": os.cpu_count()}
    for w in (1, 2):
        wall, cpu = run_pool(job, names, w)
        res[f"workers_{w}"] = {"ms_per_image_wall": round(1000 * wall / args.n, 2),
                               "ms_per_image_cpu": round(1000 * cpu / args.n, 2)}
    for w in (1, 2):
        wall, _ = run_processes(folder, args.preset, w, args.n)
        res[f"processes_{w}"] = {"ms_per_image_wall": round(1000 * wall / (args.n - 1), 2)}
    res["process_speedup_2_vs_1"] = round(res["processes_1"]["ms_per_image_wall"]
                                          / res["processes_2"]["ms_per_image_wall"], 2)
    res["speedup_2_vs_1"] = round(res["workers_1"]["ms_per_image_wall"] / res["workers_2"]["ms_per_image_wall"], 2)
    alone = probe(3.0)
    busy = probe(0, background=lambda: run_pool(job, names, 1))
    res["probe_cpu_per_wall_alone"] = round(alone, 3)
    res["probe_cpu_per_wall_with_1_worker"] = round(busy, 3)
    res["gil_share_estimate"] = round(max(0.0, 1 - busy / alone), 2) if alone else None
    res["load_avg_1min"] = round(os.getloadavg()[0], 1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
