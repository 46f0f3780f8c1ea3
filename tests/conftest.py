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


@pytest.fixture(scope="session")
def stand_in_head_file(tmp_path_factory):
    """A head file in pytorch-fid's layout: the genuine body + the seeded stand-in head."""
    from models.testing import write_stand_in_head_file
    return write_stand_in_head_file(tmp_path_factory.mktemp("head") / "stand-in-head.pth")


@pytest.fixture(scope="session")
def is_model_path(model_path, stand_in_head_file, tmp_path_factory):
    """A copy of the test model with the stand-in IS head added (the body unchanged)."""
    import shutil
    from models.inception.is_head import add_is_head
    from models.common.files import sha256_file
    out = tmp_path_factory.mktemp("is_model") / "fid_inception.onnx"
    shutil.copy(model_path, out)
    shutil.copy(str(model_path) + ".json", str(out) + ".json")
    add_is_head(out, stand_in_head_file, source="test stand-in",
                expected_prefix=sha256_file(stand_in_head_file)[:8])
    return out


@pytest.fixture(scope="session")
def dinov2_model_path(tmp_path_factory):
    """The 2-block DINOv2 stand-in (models/dinov2/standin.py, same widths as ViT-L/14), built
    once per session with its provenance beside it (the weights' SHA-256 in source_sha256)."""
    from models.dinov2.graph import build_dinov2_model
    from models.dinov2.standin import write_standin
    from models.dinov2.weights import ViTSpec
    d = tmp_path_factory.mktemp("dinov2_model")
    weights = write_standin(d / "dinov2_standin_d2.pth", depth=2)
    out = d / "dinov2_vitl14.onnx"
    build_dinov2_model(weights, out, spec=ViTSpec(depth=2))
    weights.unlink()    # the model and its provenance are all a run needs
    return out
