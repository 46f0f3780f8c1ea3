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


@pytest.fixture
def isolated_data_dir(monkeypatch, tmp_path):
    """This test's own data folder (downloads, built models) and no proxy from outside."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture(scope="session", autouse=True)
def _one_qapplication(qapp):
    """A QApplication before any test: a PDF written first (reports/ makes a bare
    QGuiApplication when none exists) would otherwise leave the GUI tests of the same worker
    without one, whatever order the tests run in."""
    return qapp


@pytest.fixture(scope="session", autouse=True)
def _isolated_user_dirs(tmp_path_factory):
    # caches and history go to temp folders, never to the developer's real ones
    os.environ["FID_STUDIO_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["FID_STUDIO_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    # find_model() gives the cheap stand-in (tests/fast_model.py) unless a test asks for
    # the real network (the model_path fixture) or sets FID_STUDIO_MODEL itself
    from tests.fast_model import write_fast_model
    fast = write_fast_model(tmp_path_factory.mktemp("fast_model") / "fid_inception.onnx")
    os.environ["FID_STUDIO_MODEL"] = str(fast)
    yield


@pytest.fixture(scope="session")
def fast_model_path():
    """The stand-in with the FID model's interface (tests/fast_model.py), for tests about
    the plumbing; find_model() returns it during the tests."""
    return Path(os.environ["FID_STUDIO_MODEL"])


@pytest.fixture(scope="session")
def inception_model_path():
    """The real FID Inception model (built once), under a name that test modules running on
    the stand-in (tests/fast_model.py) do not shadow."""
    from models.testing import ensure_test_model
    return ensure_test_model()


@pytest.fixture(scope="session")
def model_path(inception_model_path):
    """The real FID Inception model, for tests about the network's numbers."""
    return inception_model_path


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


PARITY = ROOT / "tests" / "fixtures" / "parity"


@pytest.fixture(scope="session")
def parity_cache(tmp_path_factory):
    """One feature cache for every test that runs the 64 + 64 parity images, so each preset's
    features are extracted once per session (the IS head model shares the body's entries)."""
    return tmp_path_factory.mktemp("paritycache")


@pytest.fixture(scope="session")
def parity_runs(model_path, is_model_path, parity_cache):
    """Each preset run once on the parity images with the real model: FID, KID (100
    subsets), precision/recall/density/coverage; under the TF preset also sFID and IS, through
    the model with the IS head added (its body, hence FID, is bit-identical to the head-less
    model's: tests/test_is_head.py), so the IS tests find those logits in the shared cache."""
    from engine.features.presets import PRESETS
    from engine.run.job import run
    from engine.run.options import Options
    runs = {}
    for p in PRESETS:
        tf = p == "tensorflow"
        metrics = ("fid", "kid", "pr") + (("sfid", "is") if tf else ())
        opts = Options(metrics=metrics, preset=p, device="cpu", kid_subsets=100)
        runs[p] = run(PARITY / "ref", [PARITY / "gen"], opts,
                      model_path=is_model_path if tf else model_path, cache_root=parity_cache)
    return runs


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


@pytest.fixture(scope="session")
def clip_model_paths(tmp_path_factory):
    """The 2-block CLIP stand-ins (models/clip/standin.py, the widths of ViT-B/32 and
    ViT-L/14@336px), built once per session: {"vitb32": .../clip_vitb32.onnx, "vitl14-336":
    .../clip_vitl14_336.onnx}, each with its provenance beside it (source_sha256)."""
    from models.clip.build import MODEL_FILES
    from models.clip.graph import build_clip_model
    from models.clip.standin import standin_spec, write_standin
    d = tmp_path_factory.mktemp("clip_models")
    out = {}
    for variant in ("vitb32", "vitl14-336"):
        file_name = MODEL_FILES[variant]
        weights = write_standin(d / f"clip_{variant}_standin_d2.pt", variant, depth=2)
        out[variant] = d / file_name
        build_clip_model(weights, out[variant], standin_spec(variant, 2))
        weights.unlink()    # the model and its provenance are all a run needs
    return out


@pytest.fixture(scope="session")
def clip_vocab_path():
    """The CLIP tokenizer's vocabulary (`make vocab` / `python main.py model vocab` puts it in
    models/; models.clip.vocab.find_vocab finds it there)."""
    from models.clip.vocab import find_vocab
    path = find_vocab()
    assert path is not None, "the CLIP vocabulary is missing: run `make vocab`"
    return path


@pytest.fixture(scope="session")
def clipscore_models(tmp_path_factory):
    """The 2-block CLIP stand-ins of CLIPScore's networks (models/clip/standin.py, full widths
    and vocabulary), both towers built once per session by models.clip.build.build:
    {"vitl14": (image_onnx, text_onnx), "vitb32": (image_onnx, text_onnx)}, provenance beside."""
    from models.clip.build import build
    from models.clip.standin import standin_spec, write_standin
    from models.clip.text_files import image_model_file
    d = tmp_path_factory.mktemp("clipscore_models")
    out = {}
    for variant in ("vitl14", "vitb32"):
        weights = write_standin(d / f"clip_{variant}_standin_d2.pt", variant, depth=2, text_vocab=True)
        prov = build(d / image_model_file(variant), weights=weights,
                     spec=standin_spec(variant, 2, text_vocab=True))
        weights.unlink()    # the models and their provenance are all a run needs
        out[variant] = (d / image_model_file(variant), Path(prov["text_model"]["path"]))
    return out
