"""The FID Inception model: where it lives, and how to build it.

``find_model()`` is all the app needs at run time; ``build_model()`` (which needs the
``onnx`` package, imported only while building) writes the model from the genuine
weights. No torch and no Qt here.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

# `python -m models.build_model` runs that module after this package has imported it
# (to expose build_model below); runpy then warns about it. The double import is
# harmless here (the module has no import-time side effects), so silence exactly that.
warnings.filterwarnings("ignore", message=r"'models\.build_model' found in sys\.modules",
                        category=RuntimeWarning)

from .build_model import build_model, provenance_path  # noqa: E402
from .errors import (HashMismatchError, ModelBuildError, UnsafePickleError,  # noqa: E402
                     WeightsFormatError)

MODEL_FILE = "fid_inception.onnx"
ENV_VAR = "FID_STUDIO_MODEL"
DATA_DIR_ENV = "FID_STUDIO_DATA_DIR"  # overrides the user data dir (tests isolate with it)
APP_NAME = "fid-studio"

# The in-repo default (git-ignored): where `python -m models.build_model` writes.
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / MODEL_FILE

__all__ = ["DATA_DIR_ENV", "DEFAULT_MODEL_PATH", "ENV_VAR", "MODEL_FILE", "HashMismatchError",
           "ModelBuildError", "UnsafePickleError", "WeightsFormatError", "build_model",
           "find_model", "model_search_paths", "provenance_path", "user_model_path"]


def user_model_path() -> Path:
    """``<user data dir>/models/fid_inception.onnx``: where the app itself builds it.

    The data dir is $FID_STUDIO_DATA_DIR when set, else platformdirs' user data dir.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser() / "models" / MODEL_FILE
    import platformdirs  # imported here so `import models` stays cheap

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models" / MODEL_FILE


def model_search_paths() -> list[Path]:
    """Places find_model() looks, in order (the env var first when it is set)."""
    paths: list[Path] = []
    env = os.environ.get(ENV_VAR)
    if env:
        paths.append(Path(env).expanduser())
    paths.append(user_model_path())
    paths.append(DEFAULT_MODEL_PATH)
    # PyInstaller: data files sit under sys._MEIPASS (the `_internal` folder of a onedir
    # build), which need not be where this package's __file__ points.
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        paths.append(Path(bundle) / "models" / MODEL_FILE)
    if getattr(sys, "frozen", False):
        exe_dir = Path(sys.executable).resolve().parent
        paths += [exe_dir / "_internal" / "models" / MODEL_FILE, exe_dir / "models" / MODEL_FILE]
    seen: set[Path] = set()
    return [p for p in paths if not (p in seen or seen.add(p))]


def find_model() -> Path | None:
    """The first existing model file of model_search_paths(), or None."""
    for path in model_search_paths():
        if path.is_file():
            return path
    return None
