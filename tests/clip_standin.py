"""Cheap stand-ins with the CLIP models' interface, for tests about the engine's plumbing.

Same IO as the built CLIP image encoders (models/clip): input ``images`` (N, 3, S, S) float32,
output ``features`` (N, D), not L2-normalised; ViT-B/32: S = 224, D = 512; ViT-L/14@336: S = 336,
D = 768. The network is an average pool to 7 x 7 and a seeded projection with a bias (about a
millisecond an image), so its numbers are deterministic and image-dependent but are not CLIP's.
A provenance JSON lies beside each file, with the keys the engine reads (``source_sha256``...).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tests.fast_model import save_test_model

SMALL = dict(device="cpu", kid_subsets=5, kid_subset_size=3, pr_k=2, dc_k=2)
VARIANTS = {"vitb32": ("clip_vitb32.onnx", 224, 512, 32),
            "vitl14-336": ("clip_vitl14_336.onnx", 336, 768, 336)}


def write_clip_standin(folder: Path, variant: str) -> Path:
    from onnx import TensorProto, helper, numpy_helper
    file_name, size, dim, seed = VARIANTS[variant]
    rng = np.random.default_rng(seed)
    kernel = size // 7
    n_in = 3 * 7 * 7
    w = numpy_helper.from_array((rng.standard_normal((n_in, dim)) / np.sqrt(n_in)).astype(np.float32), "proj")
    b = numpy_helper.from_array(rng.standard_normal(dim).astype(np.float32), "bias")
    nodes = [helper.make_node("AveragePool", ["images"], ["pooled"], kernel_shape=[kernel, kernel],
                              strides=[kernel, kernel]),
             helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "proj"], ["mm"]),
             helper.make_node("Add", ["mm", "bias"], ["features"])]
    graph = helper.make_graph(
        nodes, f"clip_{variant}_standin",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", dim])],
        initializer=[w, b])
    weights_sha = hashlib.sha256(w.raw_data + b.raw_data).hexdigest()
    return save_test_model(graph, Path(folder) / file_name, lambda sha: {
        "model": f"clip-{variant}", "model_sha256": sha, "source_sha256": weights_sha,
        "source_file": f"clip-{variant}-standin (tests)", "depth": 0,
        "input": {"name": "images", "shape": ["batch", 3, size, size]},
        "outputs": {"features": ["batch", dim]}})


try:
    import pytest
except ImportError:  # not under pytest
    pytest = None

if pytest is not None:
    # A test module imports it to run on the stand-ins:
    #     from tests.clip_standin import clip_standins  # noqa: F401
    @pytest.fixture(scope="module")
    def clip_standins(tmp_path_factory) -> dict:
        """{"vitb32": path, "vitl14-336": path} of the two stand-in models."""
        folder = tmp_path_factory.mktemp("clip_standins")
        return {v: write_clip_standin(folder, v) for v in VARIANTS}

    @pytest.fixture(scope="module")
    def clip_opts(clip_standins) -> dict:
        """Options fields of a small run on the stand-ins."""
        return dict(clip_model_path=str(clip_standins["vitb32"]),
                    clip_l336_model_path=str(clip_standins["vitl14-336"]), **SMALL)

    @pytest.fixture(scope="module")
    def folders(tmp_path_factory):
        """Reference (7) and generated (5) images of several aspect ratios (the crops
        matter), one grayscale."""
        from PIL import Image
        from imagegen import make_folder
        root = tmp_path_factory.mktemp("clip_sets")
        ref = make_folder(root / "ref", 4, seed=1, size=(64, 48))
        make_folder(ref, 2, seed=2, size=(40, 72), prefix="tall")
        Image.open(ref / "img_0000.png").convert("L").save(ref / "gray.png")
        gen = make_folder(root / "gen", 4, seed=3, size=(56, 56), shift=90)
        make_folder(gen, 1, seed=4, size=(90, 30), prefix="wide")
        return ref, gen


def model_features(model_path, folder, convention) -> np.ndarray:
    """The model's features on the contract's preprocessing (engine/features/clip_preprocess.py),
    in a plain numpy + ONNX Runtime path, files in name order."""
    import onnxruntime as ort
    from PIL import Image
    from engine.features.clip_preprocess import preprocess
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    xs = []
    for f in sorted(Path(folder).iterdir()):
        with Image.open(f) as im:
            xs.append(preprocess(np.asarray(im.convert("RGB")), convention))
    return sess.run(["features"], {"images": np.stack(xs)})[0]
