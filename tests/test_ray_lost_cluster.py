"""A Ray cluster that vanishes mid-run: the run ends with one line and exit code 2, soon,
instead of hanging or of Ray ending the process 60 s later without a word (measured: a driver
whose head was killed exits with code 1 after 61 s unless its reconnect limit is raised)."""
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from imagegen import make_folder
from raycluster import kill_node, start_head
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def head():
    # a short folder in /tmp: Ray's socket paths live under it and must stay under 108 bytes
    tmp = Path(tempfile.mkdtemp(prefix="fidlost_", dir="/tmp"))
    try:
        yield tmp, start_head(tmp, cpus=1, store_mb=100)
    finally:
        kill_node(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.slow   # a real Ray cluster: the slow tier
def test_a_vanished_cluster_ends_the_run_in_one_line(head, tmp_path, model_path):
    tmp, address = head
    ref = make_folder(tmp_path / "ref", 16, seed=1, size=(40, 36))
    gen = make_folder(tmp_path / "gen", 16, seed=2, size=(40, 36), shift=60)
    env = dict(os.environ, FID_STUDIO_CACHE_DIR=str(tmp_path / "cache"), FID_STUDIO_RAY_LOST_AFTER_S="3",
               RAY_AUTH_MODE="token")
    env.pop("RAY_ADDRESS", None)
    proc = subprocess.Popen([sys.executable, "main.py", "compute", str(ref), str(gen), "--executor", "ray",
                             "--ray-address", address, "--metrics", "fid", "--device", "cpu", "--batch-size",
                             "4", "--model", str(model_path), "--no-cache"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, killed_at = [], None
    # a hang would be the bug under test: give up (and say so) after 5 minutes
    guard = threading.Timer(300, proc.kill)
    guard.start()
    try:
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            # the first shard is back: the run is in the middle of the reference set
            if killed_at is None and "[features]" in line and " 0/" not in line:
                assert kill_node(tmp), "no process of the head node was found"
                killed_at = time.monotonic()
        proc.wait(timeout=120)
    finally:
        guard.cancel()
        if proc.poll() is None:
            proc.kill()
    took = time.monotonic() - killed_at if killed_at else None
    err = "\n".join(lines)
    assert proc.returncode != -9, "the run hung (killed after 5 minutes):\n" + err
    assert killed_at is not None, err
    assert proc.returncode == 2, err
    errors = [x for x in lines if x.startswith("error:")]
    assert len(errors) == 1 and "Ray" in errors[0], err
    assert "Traceback" not in err and proc.stdout.read() == ""
    print(f"{errors[0]}  ({took:.1f} s after the head was killed)")
    assert took < 60, f"the run ended {took:.0f} s after the head was killed (Ray's own limit is 60 s)"
