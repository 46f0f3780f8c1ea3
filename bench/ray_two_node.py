"""A two-node Ray cluster on 127.0.0.1 against a local run: same FID/KID, and the overhead.

    python bench/ray_two_node.py [--n 48] [--cpus-per-node 1]

Starts a head node (``ray start --head``) and a second node (``ray start --address``) with
its own temp folder and ports, waits until the cluster shows both (condition-based, no
fixed sleeps), then times on the same generated folders: a local run, and two Ray runs
(the first starts the actors, the second finds the model files warm in the page cache).
Checks FID and KID equal the local run (<= 1e-9 relative) and that shards came from both
nodes, stops them (`ray stop`: every Ray process of this user on this machine), and writes
its section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
from raycluster import RAY, common_args, free_ports, node_args, ray_start, start_head  # noqa: E402
BEGIN, END = "<!-- ray_two_node -->", "<!-- /ray_two_node -->"


def start_cluster(cpus: int, store_mb: int, tmp: Path) -> tuple[str, list[str]]:
    head_tmp, node_tmp = tmp / "head", tmp / "node"
    # worker port ranges are picked far apart so the two nodes never collide
    address = start_head(head_tmp, cpus, store_mb, worker_ports=20000)
    ray_start(f"--address={address}", "--node-ip-address=127.0.0.1", f"--temp-dir={node_tmp}",
              *common_args(cpus, store_mb), *node_args(free_ports(6) + [21000]))
    return address, [str(head_tmp), str(node_tmp)]


def wait_for_nodes(ray, want: int, timeout: float = 600.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [n for n in ray.nodes() if n.get("Alive")]
        if len(alive) >= want:
            return len(alive)
        time.sleep(0.5)   # polling a condition, bounded by the deadline
    raise RuntimeError(f"the cluster did not show {want} nodes within {timeout:.0f} s")


def update_results(section: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    block = f"{BEGIN}\n{section.rstrip()}\n{END}\n"
    if BEGIN in text and END in text:
        a, b = text.index(BEGIN), text.index(END) + len(END) + 1
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip() + "\n\n" + block
    path.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=48, help="images per set (reference and generated)")
    ap.add_argument("--cpus-per-node", type=int, default=1)
    ap.add_argument("--store-mb", type=int, default=200)
    args = ap.parse_args()

    from imagegen import make_folder
    from models.testing import ensure_test_model
    base = ROOT / "bench" / "data" / f"ray_{args.n}"
    ref = make_folder(base / "ref", args.n, seed=1, size=(64, 64)) if not (base / "ref").exists() else base / "ref"
    gen = (make_folder(base / "gen", args.n, seed=2, size=(64, 64), shift=70)
           if not (base / "gen").exists() else base / "gen")
    model_path = ensure_test_model()
    os.environ["FID_STUDIO_CACHE_DIR"] = tempfile.mkdtemp(prefix="fidray_cache_")

    from engine.run.events import Message
    from engine.run.job import run
    from engine.run.options import Options
    opts = Options(metrics=("fid", "kid"), batch_size=16, use_cache=False, kid_subsets=20, device="cpu")

    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    local = run(ref, [gen], opts, model_path=model_path)
    t_local = time.perf_counter() - t
    print(f"local run: {t_local:.1f} s, FID {local.results[0].metrics['fid']:.10f}", flush=True)

    # token authentication (Ray's default for `ray start --head`): the second node and this
    # driver read the token the head wrote under ~/.ray
    os.environ["RAY_AUTH_MODE"] = "token"
    tmp = Path(tempfile.mkdtemp(prefix="fidray_", dir="/tmp"))
    import ray
    address = None
    try:
        t = time.perf_counter()
        address, _ = start_cluster(args.cpus_per_node, args.store_mb, tmp)
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 runtime_env={"py_modules": [str(ROOT / "engine")]})
        nodes = wait_for_nodes(ray, 2)
        t_cluster = time.perf_counter() - t
        timings, messages, results = [], [], []
        for _ in range(2):
            msgs = []
            t = time.perf_counter()
            res = run(ref, [gen], opts.replace(executor="ray", ray_address=address), model_path=model_path,
                      on_event=lambda e: msgs.append(e.text) if isinstance(e, Message) else None)
            timings.append(time.perf_counter() - t)
            messages.append(msgs)
            results.append(res)
    finally:
        ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)

    lm = local.results[0].metrics
    rows, ok = [], True
    for i, res in enumerate(results):
        m = res.results[0].metrics
        rel_fid = abs(m["fid"] - lm["fid"]) / abs(lm["fid"])
        rel_kid = abs(m["kid_mean"] - lm["kid_mean"]) / abs(lm["kid_mean"])
        used = [s for s in messages[i] if "Ray node" in s]
        two = all(" from 2 Ray node(s)" in s for s in used) and len(used) == 2
        ok &= rel_fid <= 1e-9 and rel_kid <= 1e-9 and res.results[0].n_images == local.results[0].n_images
        rows.append(f"| Ray, 2 nodes, run {i + 1} | {timings[i]:.1f} s | {timings[i] / t_local:.2f}x | "
                    f"{m['fid']:.10f} | {rel_fid:.1e} | {rel_kid:.1e} | {'; '.join(used) if used else '-'} |")
        ok &= two
    section = "\n".join([
        "## Ray executor: two nodes on 127.0.0.1 vs a local run",
        "",
        f"Made by `python bench/ray_two_node.py --n {args.n} --cpus-per-node {args.cpus_per_node}` on "
        f"{time.strftime('%Y-%m-%d')}. Machine: {platform.machine()}, {os.cpu_count()} cores (shared with "
        f"other work while measured), Python {platform.python_version()}, Ray {ray.__version__}, "
        f"CPU actors. Sets: {args.n} + {args.n} PNGs at 64 px, metrics FID + KID, batch 16.",
        "",
        f"Cluster start (head + second node, both seen alive): {t_cluster:.1f} s; nodes: {nodes}. "
        f"Load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f}.",
        "",
        "| run | wall time (both sets) | vs local | FID | FID rel. diff | KID rel. diff | shards |",
        "|---|---|---|---|---|---|---|",
        f"| local executor | {t_local:.1f} s | 1.00x | {lm['fid']:.10f} | - | - | - |",
        *rows,
        "",
        f"Check (FID and KID within 1e-9 relative of the local run, every image counted, shards "
        f"from both nodes): **{'passed' if ok else 'FAILED'}**.",
    ])
    update_results(section)
    print(section)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
