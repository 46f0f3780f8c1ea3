"""What every screenshot script starts with: the output folder (argv[1], default ./shots) and a
temporary home for the app's data, cache and settings, so the user's own are left alone."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def out_and_temp() -> tuple[Path, Path]:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "shots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="fid-shots-"))
    for var, sub in (("FID_STUDIO_DATA_DIR", "data"), ("FID_STUDIO_CACHE_DIR", "cache"),
                     ("XDG_CONFIG_HOME", "config")):
        os.environ[var] = str(tmp / sub)
    return out, tmp


def settler(app, default_ms=120_000):
    """``settle(until, ms)``: process events until ``until()`` holds (or ``ms`` pass), then a few more."""
    def settle(until=lambda: True, ms=default_ms):
        import time
        t = time.monotonic()
        while not until() and time.monotonic() - t < ms / 1000:
            app.processEvents()
            time.sleep(0.01)
        for _ in range(20):
            app.processEvents()
    return settle
