"""Where built models are looked for and written, and where downloads wait.

Every network's model file (registry.py names them) is searched in the same places: the
user's data folder (where the app builds it), this source folder (where `make` builds it),
and, in a packaged app, the bundle. The FID model can also be named by $FID_STUDIO_MODEL.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from .registry import FID_INCEPTION

MODEL_FILE = FID_INCEPTION.file_name
ENV_VAR = "FID_STUDIO_MODEL"          # a path to the FID model, searched first
DATA_DIR_ENV = "FID_STUDIO_DATA_DIR"  # overrides the user data dir (tests isolate with it)
APP_NAME = "fid-studio"

MODELS_DIR = Path(__file__).resolve().parent
# The in-repo default (git-ignored): where `python -m models.inception` writes.
DEFAULT_MODEL_PATH = MODELS_DIR / MODEL_FILE


def default_cache_dir() -> Path:
    """``models/.cache`` next to this code (git-ignored): downloaded weights for building."""
    return MODELS_DIR / ".cache"


def user_data_dir() -> Path:
    """$FID_STUDIO_DATA_DIR when set, else platformdirs' user data dir."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs  # imported here so `import models` stays cheap

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_model_path(file_name: str = MODEL_FILE) -> Path:
    """``<user data dir>/models/<file_name>``: where the app itself builds it."""
    return user_data_dir() / "models" / file_name


def download_dir() -> Path:
    """``<user data dir>/downloads``: where a downloaded file waits to be checked."""
    return user_data_dir() / "downloads"


def model_search_paths(file_name: str = MODEL_FILE) -> list[Path]:
    """Places find_model() looks, in order ($FID_STUDIO_MODEL first, for the FID model)."""
    paths: list[Path] = []
    env = os.environ.get(ENV_VAR)
    if env and file_name == MODEL_FILE:
        paths.append(Path(env).expanduser())
    paths.append(user_model_path(file_name))
    paths.append(MODELS_DIR / file_name)
    # PyInstaller: data files sit under sys._MEIPASS (the `_internal` folder of a onedir
    # build), which need not be where this package's __file__ points.
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        paths.append(Path(bundle) / "models" / file_name)
    if getattr(sys, "frozen", False):
        exe_dir = Path(sys.executable).resolve().parent
        paths += [exe_dir / "_internal" / "models" / file_name, exe_dir / "models" / file_name]
    seen: set[Path] = set()
    return [p for p in paths if not (p in seen or seen.add(p))]


def find_model(file_name: str = MODEL_FILE) -> Path | None:
    """The first existing file of model_search_paths(file_name), or None."""
    for path in model_search_paths(file_name):
        if path.is_file():
            return path
    return None

