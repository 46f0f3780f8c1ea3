"""Connecting to Ray and sizing the actor pool from what the cluster has.

One connection per process: a caller (a test, a notebook) that already called ``ray.init``
keeps its instance; otherwise we join ``--ray-address`` (or RAY_ADDRESS), or start a local
instance. The engine package travels with the job (``py_modules``), so nodes need only
FID Studio's requirements installed, not this checkout.
"""
from __future__ import annotations

import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from . import ExecutorError, require_ray

ENGINE_DIR = Path(__file__).resolve().parents[1]
# Ray ends the driver process (exit code 1, no message) once it has not reached the cluster's
# GCS for gcs_rpc_server_reconnect_timeout_s, 60 s by default: measured, an idle driver whose
# head was killed exited 61 s later; in the app that closes the window. When we join a running
# cluster the limit is raised (the same driver then lived on), and a run watches the head
# itself (ray_extract: LOST_AFTER_S), so a lost cluster ends the run with a message instead.
RECONNECT_ENV = "RAY_gcs_rpc_server_reconnect_timeout_s"
RECONNECT_S = str(10 * 365 * 24 * 3600)


@dataclass(frozen=True)
class ClusterInfo:
    address: str
    nodes: int
    cpus: float
    gpus: float
    single_host: bool       # every node on the driver's host: the model file is read in place

    @property
    def actor_gpus(self) -> float:
        return 1.0 if self.gpus >= 1 else 0.0

    @property
    def max_cpu_actors(self) -> int:
        # at most one single-threaded session per core; the pool starts with one actor and
        # Ray Data grows it only while the decode tasks leave cores free
        return max(1, int(self.cpus))

    @property
    def max_actors(self) -> int:
        # one model per GPU
        return int(self.gpus) if self.gpus >= 1 else self.max_cpu_actors

    def device(self, requested: str) -> str:
        """The actors' device for the ``--device`` asked for (CUDA needs GPU actors)."""
        if requested == "cuda" and not self.actor_gpus:
            raise ExecutorError("CUDA was requested but the Ray cluster has no GPU; "
                                "choose device 'auto' or 'cpu'")
        return "cuda" if self.actor_gpus and requested != "cpu" else "cpu"

    def line(self) -> str:
        kind = f"{int(self.gpus)} GPU" if self.gpus >= 1 else "CPU"
        return (f"Running on Ray at {self.address}: {self.nodes} node(s), {self.cpus:g} CPU(s), "
                f"{kind} actors for the model")


def _quiet(ray) -> None:
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def reachable(address: str, timeout: float = 1.0) -> bool:
    """Whether the GCS at ``host:port`` accepts a TCP connection (without asking Ray, whose
    calls block while the head is gone)."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _gcs_address(ray) -> str | None:
    return getattr(ray.get_runtime_context(), "gcs_address", None)


def exit_if_cluster_lost(code: int) -> None:
    """For the command line, after its error line: if this process joined a Ray cluster that is
    gone, Ray's exit handlers would block or end the process with code 1 instead of ``code``
    (seen), so leave at once. Output files are already written in full (atomically) or not."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return
    gcs = _gcs_address(ray)
    if gcs and not reachable(gcs):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


TOKEN_ENV, TOKEN_PATH_ENV = "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"


def keep_token_in_app_folder() -> None:
    """A local Ray instance we start uses token authentication, and Ray writes a new token to
    ``~/.ray/auth_token`` (authentication_token_setup.generate_and_save_token) unless a token is
    found first. Put ours under the app's data folder (mode 0600) and point Ray at it with
    RAY_AUTH_TOKEN_PATH, which Ray's processes inherit; nothing is left in the user's home.
    A token or mode the user set is kept as it is."""
    if os.environ.get(TOKEN_ENV) or os.environ.get(TOKEN_PATH_ENV):
        return
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "disabled":
        return
    import secrets
    from ..outputs.history import data_dir
    path = data_dir() / "ray" / "auth_token"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.is_file() or not path.read_text().strip():
            _create_token_file(path, secrets.token_hex(32))   # what Ray generates: 256 random bits
        os.environ[TOKEN_PATH_ENV] = str(path)
    except OSError:
        # no writable data folder: the token lives only in this process and its children
        os.environ[TOKEN_ENV] = secrets.token_hex(32)


def _create_token_file(path: Path, token: str) -> None:
    """Write the token whole (a temp file, mode 0600, fsynced) and link it into place only if no
    token is there yet: two app instances starting at once end up with the same token."""
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix=".auth_token.", dir=path.parent)   # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(token)
            fh.flush()
            os.fsync(fh.fileno())
        if path.is_file() and not path.read_text().strip():
            path.unlink()     # an empty file is no token: replace it
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass          # another instance made it first: use that one
    finally:
        os.unlink(tmp)


def connect(address: str | None = None) -> ClusterInfo:
    ray = require_ray()
    if ray.is_initialized():
        gcs = _gcs_address(ray)
        if gcs and not reachable(gcs):
            raise ExecutorError(f"the Ray cluster this session joined ({gcs}) is gone; "
                                "restart FID Studio to join a cluster again")
    else:
        # Ray's C++ core logs warnings to stderr (e.g. about actor restarts) that the user
        # cannot act on; errors still show
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
        join = address or os.environ.get("RAY_ADDRESS") or None
        if join:   # a cluster someone else runs (a local instance we start dies with us)
            os.environ.setdefault(RECONNECT_ENV, RECONNECT_S)
        else:
            keep_token_in_app_folder()
        try:
            ray.init(address=join,
                     include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     runtime_env={"py_modules": [str(ENGINE_DIR)]})
        except (ConnectionError, ValueError, RuntimeError, TimeoutError) as exc:
            where = join or "a new local instance"
            raise ExecutorError(f"cannot connect to Ray ({where}): {str(exc).splitlines()[0]}") from None
    _quiet(ray)
    resources = ray.cluster_resources()
    alive = [n for n in ray.nodes() if n.get("Alive")]
    here = ray.util.get_node_ip_address()
    addr = _gcs_address(ray) or address or "local"
    return ClusterInfo(address=str(addr), nodes=len(alive), cpus=float(resources.get("CPU", 0)),
                       gpus=float(resources.get("GPU", 0)),
                       single_host=all(n.get("NodeManagerAddress") == here for n in alive))
