"""`pip install .` from a clean clone into a fresh virtual environment: the `fid_studio`
API imports and scores, `fid-studio --help` works, and no generic top-level package
(engine, reports, cli, gui, models) is installed.

Slow (builds a wheel; pip fetches setuptools into its build environment, from its cache
when it can): marked ``slow``, deselected by default, run by .ci/run with ``-m slow``. The
runtime dependencies are not reinstalled: the venv gets a .pth line pointing at this
interpreter's site-packages and the package is installed with --no-deps.
"""
from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout}\n{out.stderr}"
    return out


def test_pip_install_from_a_clean_clone(tmp_path, model_path):
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(ROOT), str(clone)])
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (Path(purelib) / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    # this interpreter's pip installs into the new environment (which has no pip of its own)
    run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(clone)],
        cwd=tmp_path, env=env)

    # from a neutral folder: only what was installed can be imported
    work = tmp_path / "work"
    work.mkdir()
    env.update(FID_STUDIO_MODEL=str(model_path), FID_STUDIO_DATA_DIR=str(tmp_path / "data"),
               FID_STUDIO_CACHE_DIR=str(tmp_path / "cache"))
    code = ("import fid_studio, numpy as np, importlib.util as u, sys\n"
            "assert fid_studio.__file__.startswith(sys.prefix), fid_studio.__file__\n"
            "assert all(u.find_spec(n) is None for n in ('engine', 'reports', 'cli', 'gui', 'models', 'selftest', 'main'))\n"
            "rng = np.random.default_rng(0)\n"
            "ev = fid_studio.Evaluator(rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8), metrics=('fid',),"
            " device='cpu')\n"
            "s = ev.score(rng.integers(0, 256, (6, 3, 32, 32), dtype=np.uint8))\n"
            "ev.log(1, s, run='pip')\n"
            "print('FID', s.fid, fid_studio.__version__, sorted(fid_studio.PRESETS))\n")
    out = run([str(py), "-c", code], cwd=work, env=env)
    assert out.stdout.startswith("FID ") and "'clean'" in out.stdout
    help_text = run([str(env_dir / "bin" / "fid-studio"), "--help"], cwd=work, env=env).stdout
    assert "usage: fid-studio" in help_text and "compute" in help_text
    assert run([str(py), "-m", "fid_studio", "--version"], cwd=work, env=env).stdout.startswith("FID Studio 0.1.0")
    tops = {p.name for p in Path(purelib).iterdir() if not p.name.startswith(("_", "."))}
    assert tops == {"fid_studio", "fid_studio-0.1.0.dist-info"}, tops
