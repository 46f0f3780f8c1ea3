"""Reduced-precision variants of a built model, derived from its fp32 file.

``to_fp16``: weights stored as float16 and every operator run in float16, with a Cast at the
input and at each output so the interface stays float32 (what the opt-in ``--precision fp16``
runs). Written with ``onnx`` alone (no onnxconverter-common needed: the FID Inception graph
holds only Conv, Relu, Concat, pools, Flatten and, with heads, MatMul/Gemm/Softmax). A network
with other operators (LayerNorm, attention's Softmax over long rows) must measure its drift
before it offers fp16.

``emulate_fp16``: for measuring drift on a CPU, where ONNX Runtime has no float16 kernels for
these operators: the fp32 graph with float16-rounded weights and every activation rounded
through float16 (Cast to float16 and back) — float16 storage, float32 arithmetic. TF32 keeps
float32's exponent but rounds convolution/matmul inputs to the same 10-bit mantissa, so this
also approximates TF32 (the real figures come from bench/gpu_check.py on a GPU).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..paths import user_model_path

FLOAT, FLOAT16 = 1, 10


def _load(src):
    import onnx
    return onnx.load(str(src))


def _cast(onnx_helper, src, dst, to):
    return onnx_helper.make_node("Cast", [src], [dst], to=to, name=f"cast_{dst}")


def to_fp16(src, dst) -> Path:
    from onnx import helper, numpy_helper
    model = _load(src)
    g = model.graph
    for i, init in enumerate(g.initializer):
        if init.data_type == FLOAT:
            g.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16),
                                                              init.name))
    for node in g.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value" and a.t.data_type == FLOAT:
                    a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
        if node.op_type == "Cast":
            raise ValueError("model already has Cast nodes: convert the fp32 model, not a converted one")
    inputs = {i.name for i in g.input} - {i.name for i in g.initializer}
    outputs = [o.name for o in g.output]
    for node in g.node:
        node.input[:] = [f"{n}__fp16" if n in inputs else n for n in node.input]
        node.output[:] = [f"{n}__fp16" if n in outputs else n for n in node.output]
    head = [_cast(helper, n, f"{n}__fp16", FLOAT16) for n in inputs]
    tail = [helper.make_node("Cast", [f"{n}__fp16"], [n], to=FLOAT, name=f"cast_out_{n}") for n in outputs]
    nodes = head + list(g.node) + tail
    return _save(model, nodes, dst)


def _save(model, nodes, dst) -> Path:
    """Replace the graph's nodes, drop stale shape info, check and write the model."""
    import onnx
    g = model.graph
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return Path(dst)


def emulate_fp16(src, dst) -> Path:
    from onnx import helper, numpy_helper
    model = _load(src)
    g = model.graph
    for i, init in enumerate(g.initializer):
        if init.data_type == FLOAT:
            w = numpy_helper.to_array(init).astype(np.float16).astype(np.float32)
            g.initializer[i].CopyFrom(numpy_helper.from_array(w, init.name))
    outputs = {o.name for o in g.output}
    inputs = {i.name for i in g.input} - {i.name for i in g.initializer}
    nodes, alias = [], {}

    def rounded(name, public=None):
        # name -> a float16-rounded float32 copy (under ``public`` for a graph output)
        out = public or f"{name}__r"
        nodes.append(helper.make_node("Cast", [name], [f"{name}__h"], to=FLOAT16))
        nodes.append(helper.make_node("Cast", [f"{name}__h"], [out], to=FLOAT))
        alias[name] = out
    for n in inputs:
        rounded(n)
    for node in list(g.node):
        node.input[:] = [alias.get(n, n) for n in node.input]
        node.output[:] = [f"{n}__raw" if n in outputs else n for n in node.output]
        nodes.append(node)
        for out in node.output:
            rounded(out, public=out[:-5] if out.endswith("__raw") else None)
    return _save(model, nodes, dst)


def fp16_model_for(src) -> Path:
    """The fp16 variant of ``src``, built beside it on first use (or in the user data dir when
    that folder is read-only); named by the fp32 file's hash, so a rebuilt model gets a new one."""
    src = Path(src)
    h = hashlib.sha256(src.read_bytes()).hexdigest()[:16]
    for folder in (src.parent, _user_models_dir()):
        dst = folder / f"{src.stem}.fp16-{h}.onnx"
        if dst.is_file():
            return dst
    for folder in (src.parent, _user_models_dir()):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{src.stem}.fp16-{h}.tmp.onnx"
            to_fp16(src, tmp)
            dst = folder / f"{src.stem}.fp16-{h}.onnx"
            tmp.replace(dst)
            return dst
        except OSError:
            continue
    raise OSError(f"cannot write the fp16 model next to {src} or in the user data folder")


def _user_models_dir() -> Path:
    return user_model_path().parent
