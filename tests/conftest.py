"""Shared fixtures: the real ONNX model (built once), a per-session feature cache and data
folder, and offscreen Qt."""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs(tmp_path_factory):
    # caches and history go to temp folders, never to the developer's real ones
    os.environ["FID_STUDIO_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["FID_STUDIO_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    yield


@pytest.fixture(scope="session")
def model_path():
    from models.testing import ensure_test_model
    return ensure_test_model()


@pytest.fixture(scope="session")
def inference_model(model_path):
    from engine.features.inference import InferenceModel
    return InferenceModel(model_path, "cpu")
