"""Adding the Inception Score head: only a genuine head file is used, the body stays byte
for byte, FID/KID do not move, the feature cache stays valid; the CLI command."""
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from cli import main as cli_main
from engine.features.inference import InferenceModel
from engine.features.pipeline import extract
from engine.features.presets import get_preset
from engine.inputs.sources import open_source
from engine.run.job import run
from engine.run.options import Options
from models import provenance_path
from models.errors import HashMismatchError, ModelBuildError, UnsafePickleError, WeightsFormatError
from models.inception.is_head import KNOWN_FILE_NAMES, add_is_head, verify_head_file
from models.testing import golden_inputs, is_stand_in_head, pytorch_fid_layout, write_torch_zip
from models.common.torch_reader import load_state_dict
from models.common.files import sha256_file
from tests.imagegen import make_folder

PARITY = Path(__file__).parent / "fixtures" / "parity"


def _prefix(path):
    return sha256_file(path)[:8]


def _copy_model(model_path, folder: Path) -> Path:
    out = folder / "fid_inception.onnx"
    shutil.copy(model_path, out)
    shutil.copy(str(model_path) + ".json", str(out) + ".json")
    return out


# ---------------------------------------------------------------- the model with the head

def test_head_is_appended_to_an_unchanged_body(model_path, is_model_path):
    body = model_path.read_bytes()
    data = is_model_path.read_bytes()
    assert data[:len(body)] == body  # the genuine body, byte for byte
    onnx.checker.check_model(onnx.load(str(is_model_path)), full_check=True)
    s = ort.InferenceSession(str(is_model_path), providers=["CPUExecutionProvider"])
    assert [o.name for o in s.get_outputs()] == ["features", "mixed_6_conv", "logits_unbiased"]
    feats, logits = s.run(["features", "logits_unbiased"], {"images": golden_inputs()[:3]})
    w, b = is_stand_in_head()
    expected = feats.astype(np.float64) @ w.T.astype(np.float64)  # no bias
    assert np.abs(logits - expected).max() <= 1e-5 * np.abs(expected).max()
    assert np.abs(logits - (expected + b)).max() > 1.0  # the bias really is left out


def test_provenance_records_head_source_and_hash(model_path, is_model_path, stand_in_head_file):
    prov = json.loads(provenance_path(is_model_path).read_text())
    assert prov["has_logits"] is True and list(prov["outputs"]) == ["features", "mixed_6_conv", "logits_unbiased"]
    assert prov["is_head"]["source"] == "test stand-in"
    assert prov["is_head"]["sha256"] == sha256_file(stand_in_head_file)
    assert prov["is_head"]["max_body_difference"] == 0.0
    assert prov["body_sha256"] == sha256_file(model_path)
    assert prov["model_sha256"] == sha256_file(is_model_path)
    m = InferenceModel(is_model_path, "cpu")
    assert m.has_logits and m.body_sha256 == sha256_file(model_path)
    assert m.describe()["is_head_sha256"] == sha256_file(stand_in_head_file)


def test_adding_again_replaces_the_head(is_model_path, stand_in_head_file, tmp_path):
    out = _copy_model(is_model_path, tmp_path)
    add_is_head(out, stand_in_head_file, source="again", expected_prefix=_prefix(stand_in_head_file))
    assert out.read_bytes() == is_model_path.read_bytes()[:out.stat().st_size]
    assert out.stat().st_size == is_model_path.stat().st_size
    assert [o.name for o in ort.InferenceSession(str(out)).get_outputs()] == ["features", "mixed_6_conv", "logits_unbiased"]


def test_fid_and_kid_identical_before_and_after(parity_runs, is_model_path, model_path):
    # before: conftest's clean-preset run with the head-less model;
    # after: the same options with the head added, features extracted afresh
    assert parity_runs["clean"].model["sha256"] == sha256_file(model_path)
    before = parity_runs["clean"].results[0].metrics
    opts = Options(metrics=("fid", "kid", "pr", "is"), preset="clean", device="cpu",
                   use_cache=False, kid_subsets=100)
    after = run(PARITY / "ref", [PARITY / "gen"], opts, model_path=is_model_path).results[0].metrics
    assert before["fid"] == after["fid"] and before["kid_mean"] == after["kid_mean"]
    assert before["kid_std"] == after["kid_std"]
    assert before.get("is_mean") is None and after["is_mean"] > 1.0


def test_feature_cache_stays_valid_when_the_head_is_added(model_path, is_model_path, tmp_path):
    src, preset = open_source(make_folder(tmp_path / "gen", 12, seed=3)), get_preset("clean")
    plain, with_head = InferenceModel(model_path, "cpu"), InferenceModel(is_model_path, "cpu")
    fid_only = Options(metrics=("fid",), device="cpu")
    first = extract(src, preset, plain, fid_only, cache_root=tmp_path)
    assert not first.from_cache and first.logits is None
    again = extract(src, preset, with_head, fid_only, cache_root=tmp_path)
    assert again.from_cache  # the head did not invalidate the pool3 features
    assert np.array_equal(np.asarray(again.features), np.asarray(first.features))
    # no cached logits yet: extracted once more, stored with the head's hash
    with_logits = extract(src, preset, with_head, Options(metrics=("is",), device="cpu"),
                          cache_root=tmp_path)
    assert not with_logits.from_cache and with_logits.logits.shape == (12, 1008)
    cached = extract(src, preset, with_head, Options(metrics=("is",), device="cpu"), cache_root=tmp_path)
    assert cached.from_cache and np.array_equal(np.asarray(cached.logits), np.asarray(with_logits.logits))
    # the head-less model still hits the same entry, and never sees another head's logits
    back = extract(src, preset, plain, fid_only, cache_root=tmp_path)
    assert back.from_cache and back.logits is None
    assert np.array_equal(np.asarray(back.features), np.asarray(first.features))


# ---------------------------------------------------------------- refusals

def test_wrong_hash_prefix_is_refused(model_path, stand_in_head_file):
    with pytest.raises(HashMismatchError, match="expected it to start with 6726825d"):
        verify_head_file(stand_in_head_file, model_path)  # the official prefix


def test_substituted_body_tensor_is_refused(model_path, stand_in_head_file, tmp_path):
    sd = load_state_dict(stand_in_head_file)
    w = sd["Mixed_6b.branch7x7_2.conv.weight"]
    sd["Mixed_6b.branch7x7_2.conv.weight"] = w + np.float32(1e-4) * np.abs(w).max()
    bad = write_torch_zip_path(tmp_path / "bad.pth", sd)
    with pytest.raises(WeightsFormatError, match="Mixed_6b.branch7x7_2 differs from the genuine"):
        verify_head_file(bad, model_path, _prefix(bad))


def test_tiny_differences_within_tolerance_are_accepted(model_path, stand_in_head_file, tmp_path):
    sd = load_state_dict(stand_in_head_file)
    v = sd["Conv2d_1a_3x3.bn.running_var"]
    sd["Conv2d_1a_3x3.bn.running_var"] = v * np.float32(1 + 2e-7)  # ~1e-7 of the folded tensor
    ok = write_torch_zip_path(tmp_path / "ok.pth", sd)
    head = verify_head_file(ok, model_path, _prefix(ok))
    assert 0 < head.worst_rel_diff <= 1e-6


def test_truncated_file_is_refused(model_path, stand_in_head_file, tmp_path):
    cut = tmp_path / "cut.pth"
    cut.write_bytes(stand_in_head_file.read_bytes()[:5_000_000])
    with pytest.raises(ModelBuildError):
        verify_head_file(cut, model_path, _prefix(cut))


def test_pickled_code_is_refused(model_path, tmp_path):
    evil = tmp_path / "evil.pth"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("evil/data.pkl", b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00trueR.")
    with pytest.raises(UnsafePickleError, match="os.system"):
        verify_head_file(evil, model_path, _prefix(evil))


def test_file_without_fc_is_refused(model_path, tmp_path):
    small = write_torch_zip_path(tmp_path / "nofc.pth",
                                 {"Conv2d_1a_3x3.conv.weight": np.zeros((32, 3, 3, 3), np.float32)})
    with pytest.raises(WeightsFormatError, match="fc.weight is missing"):
        verify_head_file(small, model_path, _prefix(small))


def test_model_with_an_old_biased_head_is_refused(stand_in_head_file, tmp_path):
    m = onnx.helper
    g = m.make_graph([m.make_node("Identity", ["x"], ["features"]), m.make_node("Identity", ["x"], ["logits"])],
                     "g", [m.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 2048])],
                     [m.make_tensor_value_info("features", onnx.TensorProto.FLOAT, [1, 2048]),
                      m.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [1, 2048])])
    old = tmp_path / "old.onnx"
    onnx.save(m.make_model(g), str(old))
    with pytest.raises(ModelBuildError, match="biased 'logits'"):
        add_is_head(old, stand_in_head_file, source="x", expected_prefix=_prefix(stand_in_head_file))


def write_torch_zip_path(path, sd):
    write_torch_zip(path, sd)
    return path


# ---------------------------------------------------------------- CLI

def test_cli_add_is_head_from_file(model_path, stand_in_head_file, tmp_path, monkeypatch, capsys):
    from models.common.download import RemoteFile
    from models.inception import is_head
    out = _copy_model(model_path, tmp_path)
    # torch-fidelity's name for the same file is accepted too
    named = tmp_path / KNOWN_FILE_NAMES[1]
    shutil.copy(stand_in_head_file, named)
    monkeypatch.setattr(is_head, "OFFICIAL_HEAD",
                        RemoteFile("http://127.0.0.1:9/none", named.name, _prefix(named), 91))
    assert cli_main(["model", "add-is-head", "--weights", str(named), "--model", str(out)]) == 0
    prov = json.loads(capsys.readouterr().out)
    assert prov["has_logits"] and prov["is_head"]["source"] == f"file {named.resolve()}"
    assert named.is_file()  # a user's own file is never deleted


def test_cli_refusal_is_one_line_and_exit_2(model_path, stand_in_head_file, tmp_path, capsys):
    out = _copy_model(model_path, tmp_path)
    before = out.read_bytes()
    assert cli_main(["model", "add-is-head", "--weights", str(stand_in_head_file), "--model", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and "6726825d" in err[-1]
    assert out.read_bytes() == before  # the model is untouched


def test_model_build_with_weights_keeps_the_genuine_body(model_path, stand_in_head_file, tmp_path):
    from models import build_model
    out = tmp_path / "built.onnx"
    with pytest.raises(HashMismatchError):  # build --weights applies the official check
        build_model(out, weights=stand_in_head_file)
    assert out.read_bytes() == model_path.read_bytes()  # the body was built, no head added
