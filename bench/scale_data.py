"""Inputs for the scale benchmark: many small PNGs, a cheap stand-in model, synthetic rows.

    python bench/scale_data.py images N        # bench/data/scale/png_N: N distinct 64-px PNGs
    python bench/scale_data.py stand-in        # bench/data/scale/stand_in.onnx

The stand-in model has the real model's interface ((N,3,299,299) -> features (N,2048)) but
costs almost nothing (global average pool, one 3x2048 matrix, ReLU): with it the pipeline's
own memory and time (decode, preprocessing, batching, accumulation, feature store) can be
measured at 100k images on a small CPU, where the real Inception would take hours. Results
made with it are labelled as such; they are not FID numbers.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "scale"
sys.path.insert(0, str(ROOT / "tests"))


def images(n: int) -> Path:
    from imagegen import make_image
    folder = DATA / f"png_{n}"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    have = sum(1 for _ in folder.rglob("*.png"))
    if have == n:
        return folder
    for i in range(n):
        # sub-folders of 1000 keep directory listings sane; names sort in creation order
        sub = folder / f"{i // 1000:04d}"
        if i % 1000 == 0:
            sub.mkdir(exist_ok=True)
        make_image(rng, (64, 64), shift=0).save(sub / f"img_{i:07d}.png")
    return folder


def stand_in_model() -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    path = DATA / "stand_in.onnx"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    w = np.random.default_rng(0).uniform(0, 1, (3, 2048)).astype(np.float32)
    nodes = [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "w"], ["mm"]),
             helper.make_node("Relu", ["mm"], ["features"])]
    graph = helper.make_graph(
        nodes, "stand_in",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 299, 299])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 2048])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


if __name__ == "__main__":
    if sys.argv[1] == "images":
        print(images(int(sys.argv[2])))
    elif sys.argv[1] == "stand-in":
        print(stand_in_model())
    else:
        raise SystemExit(__doc__)
