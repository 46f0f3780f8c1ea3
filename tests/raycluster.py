"""Ray nodes started with ``ray start`` on 127.0.0.1, for the tests and bench/ray_two_node.py:
free ports, a head or a joining node in its own temp folder, and killing one node."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))


def free_ports(k: int) -> list[int]:
    socks, ports = [], []
    for _ in range(k):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def node_args(ports: list[int]) -> list[str]:
    nm, om, agent, agent_grpc, metrics, rtenv, wmin = ports
    return [f"--node-manager-port={nm}", f"--object-manager-port={om}",
            f"--dashboard-agent-listen-port={agent}", f"--dashboard-agent-grpc-port={agent_grpc}",
            f"--metrics-export-port={metrics}", f"--runtime-env-agent-port={rtenv}",
            f"--min-worker-port={wmin}", f"--max-worker-port={wmin + 40}"]


def ray_start(*argv: str) -> None:
    env = dict(os.environ, RAY_BACKEND_LOG_LEVEL="error")
    proc = subprocess.run([RAY, "start", *argv], env=env, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"ray start failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def common_args(cpus: int, store_mb: int) -> list[str]:
    return [f"--num-cpus={cpus}", "--num-gpus=0", f"--object-store-memory={store_mb * 2**20}",
            "--disable-usage-stats"]


def start_head(tmp: Path, cpus: int, store_mb: int, worker_ports: int = 20000) -> str:
    """A head node whose files live under ``tmp``; returns its GCS address."""
    gcs = free_ports(1)[0]
    ray_start("--head", "--node-ip-address=127.0.0.1", f"--port={gcs}", "--include-dashboard=false",
              f"--temp-dir={tmp}", *common_args(cpus, store_mb), *node_args(free_ports(6) + [worker_ports]))
    return f"127.0.0.1:{gcs}"


def kill_node(tmp: Path) -> list[int]:
    """SIGKILL the node started with ``--temp-dir=tmp`` (its GCS, raylet and helpers name
    their session folder on the command line; the workers die with their raylet)."""
    out = subprocess.run(["pgrep", "-f", f"{tmp}/session_"], capture_output=True, text=True).stdout
    pids = [int(p) for p in out.split() if int(p) != os.getpid()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return pids
