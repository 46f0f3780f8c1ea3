"""Precision options and the session's recorded provider options, with the real ONNX Runtime."""
import json

import numpy as np
import pytest

from engine.errors import ModelError
from engine.features.inference import CPU, InferenceModel, cuda_provider_options
from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder


def test_cuda_options_keep_tf32_off_unless_asked():
    assert cuda_provider_options("fp32")["use_tf32"] == "0"
    assert cuda_provider_options("fp16")["use_tf32"] == "0"
    assert cuda_provider_options("tf32")["use_tf32"] == "1"
    assert cuda_provider_options()["cudnn_conv_algo_search"] == "HEURISTIC"


def test_io_binding_gives_the_same_features_as_session_run(model_path):
    plain = InferenceModel(model_path, "cpu")
    bound = InferenceModel(model_path, "cpu", io_binding=True)
    assert plain.io_binding.startswith("off") and bound.io_binding.startswith("on, pageable")
    x = np.random.default_rng(0).uniform(-1, 1, (3, 3, 299, 299)).astype(np.float32)
    for batch in (x, x[:2], x):  # a second shape, then the first again from its buffers
        a, b = plain.run(batch)[0], bound.run(batch)[0]
        assert np.array_equal(a, b)
    first = bound.run(x)[0]
    bound.run(x[::-1].copy())
    assert np.array_equal(first, bound.run(x)[0])  # results are copies, not views of the buffers
    d = bound.describe()
    assert d["precision"] == "fp32" and CPU in d["provider_options"] and d["sha256"] == d["fp32_sha256"]


def test_fp16_model_is_built_once_runs_and_says_it_drifts(model_path, tmp_path):
    m = InferenceModel(model_path, "cpu", precision="fp16")
    assert m.path != model_path and m.path.name.startswith("fid_inception.fp16-")
    assert m.sha256 != m.fp32_sha256
    assert InferenceModel(model_path, "cpu", precision="fp16").path == m.path  # reused
    x = np.random.default_rng(1).uniform(-1, 1, (2, 3, 299, 299)).astype(np.float32)
    f16, f32 = m.run(x)[0], InferenceModel(model_path, "cpu").run(x)[0]
    assert f16.dtype == np.float32 and f16.shape == (2, 2048)
    err = np.abs(f16 - f32).max()
    assert 0 < err < 0.05 * np.abs(f32).max()
    assert "drifts" in m.precision_warning()
    assert "no effect on the CPU" in InferenceModel(model_path, "cpu", precision="tf32").precision_warning()
    with pytest.raises(ModelError, match="precision"):
        InferenceModel(model_path, "cpu", precision="int8")


def test_result_records_precision_and_options(model_path, tmp_path):
    ref = make_folder(tmp_path / "r", 4, seed=1, size=(24, 24))
    gen = make_folder(tmp_path / "g", 4, seed=2, size=(24, 24), shift=40)
    res = run(ref, [gen], Options(metrics=("fid",), device="cpu", precision="tf32"), model_path=model_path)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["options"]["precision"] == "tf32" and d["model"]["precision"] == "tf32"
    assert "CPUExecutionProvider" in d["model"]["provider_options"]
    assert any("no effect on the CPU" in w for w in d["results"][0]["warnings"])


def test_gpu_check_joins_parts_by_hash_and_says_when_there_is_no_cuda(tmp_path, model_path):
    import hashlib
    import subprocess
    import sys

    from conftest import ROOT
    from engine.errors import DeviceError
    sys.path.insert(0, str(ROOT / "bench"))
    from gpu_check import assemble
    data = bytes(range(256)) * 1000
    parts = []
    for i in range(3):
        parts.append(tmp_path / f"p{i}")
        parts[-1].write_bytes(data[i * 90000:(i + 1) * 90000])
    good = hashlib.sha256(data).hexdigest()
    assert assemble(parts, good, tmp_path / "whole.bin").read_bytes() == data
    with pytest.raises(SystemExit, match="hash mismatch"):
        assemble(parts[::-1], good, tmp_path / "wrong.bin")
    assert not (tmp_path / "wrong.bin").exists()
    try:
        InferenceModel(model_path, "cuda")
    except DeviceError:
        pass
    else:
        pytest.skip("a CUDA provider works here: bench/gpu_check.py runs the real check")
    out = subprocess.run([sys.executable, "bench/gpu_check.py", "--model", str(model_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 3 and out.stderr.startswith("no CUDA provider:")
    assert out.stderr.strip().count("\n") == 0
