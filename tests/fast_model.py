"""A cheap model with the FID model's interface, for tests about the plumbing, not the network.

Same input (``images``: N x 3 x 299 x 299 float32) and the same outputs with the same widths
(``features`` 2048, ``mixed_6_conv`` 2023) as models/fid_inception.onnx, so the engine, the
cache, the outputs and the GUI handle it exactly as the real model; but it is a 13 x 13 average
pool and two seeded random projections (about 1 ms an image instead of ~65 ms on two cores).
Its numbers are deterministic and image-dependent, and they are not FID: tests that compare
against the reference tools, or that are about the network, take the real model
(conftest's ``model_path``); the rest run on this one (conftest's ``fast_model_path``, which
is also what ``models.find_model()`` returns inside the test session).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SEED = 2048


def write_fast_model(path: Path) -> Path:
    from onnx import TensorProto, helper, numpy_helper

    path = Path(path)
    rng = np.random.default_rng(SEED)
    n_in = 3 * 23 * 23
    inits, nodes = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
        return name

    nodes.append(helper.make_node("AveragePool", ["images"], ["pooled"], kernel_shape=[13, 13],
                                  strides=[13, 13]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], axis=1))
    for out, width in (("features", 2048), ("mixed_6_conv", 2023)):
        w = const(f"{out}.w", rng.standard_normal((n_in, width)) / np.sqrt(n_in))
        b = const(f"{out}.b", rng.standard_normal(width) * 0.1)
        nodes.append(helper.make_node("MatMul", ["flat", w], [f"{out}.mm"]))
        nodes.append(helper.make_node("Add", [f"{out}.mm", b], [f"{out}.lin"]))
        nodes.append(helper.make_node("Relu", [f"{out}.lin"], [out]))
    graph = helper.make_graph(
        nodes, "fast_test_model",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 299, 299])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 2048]),
         helper.make_tensor_value_info("mixed_6_conv", TensorProto.FLOAT, ["batch", 2023])],
        initializer=inits)
    return save_test_model(graph, path, lambda sha: {
        "model_file": path.name, "model_sha256": sha,
        "source_kind": "test stand-in (not the FID network)", "has_logits": False,
        "input": {"name": "images", "shape": ["batch", 3, 299, 299]},
        "outputs": {"features": ["batch", 2048], "mixed_6_conv": ["batch", 2023]}})


def save_test_model(graph, path: Path, provenance) -> Path:
    """Write ``graph`` (opset 17) as an ONNX model at ``path`` and, beside it, the provenance
    JSON ``provenance(model_sha256)``, as the app's own builds do."""
    import hashlib

    import onnx
    from onnx import helper
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="fid-studio-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = model.SerializeToString()
    path.write_bytes(data)
    prov = provenance(hashlib.sha256(data).hexdigest())
    Path(str(path) + ".json").write_text(json.dumps(prov, indent=2) + "\n")
    return path


try:
    import pytest
except ImportError:  # not under pytest
    pytest = None

if pytest is not None:
    # A test module about the plumbing imports these two to run on the stand-in:
    #     from tests.fast_model import inference_model, model_path  # noqa: F401
    @pytest.fixture(scope="module")
    def model_path(fast_model_path):
        return fast_model_path

    @pytest.fixture(scope="module")
    def inference_model(model_path):
        from engine.features.inference import InferenceModel
        return InferenceModel(model_path, "cpu")
