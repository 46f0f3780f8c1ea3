"""The FID Inception as an ONNX graph, op by op from spec.py, with ``onnx``'s helpers.

Input ``images`` (N, 3, 299, 299) float32 in [-1, 1]; outputs ``features`` (N, 2048) =
pool3, and ``mixed_6_conv`` (N, 2023): the spatial features of sFID (see
_add_spatial_output). The Inception Score head is not part of it: is_head.py appends it to
the built body. ``onnx`` is imported by make_model(), only while building.
"""
from __future__ import annotations

import numpy as np

from . import spec

BUILDER_VERSION = "2"  # bump when the graph changes: tests rebuild stale models
OPSET = 17
INPUT_NAME = "images"
FEATURES_NAME = "features"
LOGITS_NAME = "logits"
SPATIAL_NAME = "mixed_6_conv"
SPATIAL_SOURCE = "Mixed_6d.branch1x1"  # mixed_6.conv in default_1.pt / TF: after BN + ReLU
SPATIAL_CHANNELS = 7
SPATIAL_DIM = SPATIAL_CHANNELS * 17 * 17  # 2023


class GraphWriter:
    """Collects ONNX nodes and initializers for the network, op by op."""

    def __init__(self, weights, helper, numpy_helper):
        self.w, self.h, self.nh = weights, helper, numpy_helper
        self.nodes, self.inits = [], []

    def conv(self, c: spec.Conv, x: str) -> str:
        w, b = self.w.conv(c)
        self.inits += [self.nh.from_array(w, f"{c.fid}.weight"),
                       self.nh.from_array(b, f"{c.fid}.bias")]
        ph, pw = c.pad
        self.nodes.append(self.h.make_node(
            "Conv", [x, f"{c.fid}.weight", f"{c.fid}.bias"], [f"{c.fid}.conv"],
            name=f"{c.fid}.conv", kernel_shape=list(w.shape[2:]), strides=[c.stride] * 2,
            pads=[ph, pw, ph, pw]))
        self.nodes.append(self.h.make_node("Relu", [f"{c.fid}.conv"], [c.fid],
                                           name=f"{c.fid}.relu"))
        return c.fid

    def pool(self, p: spec.Pool, x: str, name: str) -> str:
        self.w.check_pool(p)
        attrs = dict(kernel_shape=[p.kernel] * 2, strides=[p.stride] * 2, pads=[p.pad] * 4)
        if p.kind == "avg":
            # TF's average pool leaves the padding out of the mean.
            self.nodes.append(self.h.make_node("AveragePool", [x], [name], name=name,
                                               count_include_pad=0, **attrs))
        else:
            self.nodes.append(self.h.make_node("MaxPool", [x], [name], name=name, **attrs))
        return name

    def sequence(self, steps, x: str, name: str) -> list[str]:
        for i, step in enumerate(steps):
            if isinstance(step, spec.Conv):
                x = self.conv(step, x)
            elif isinstance(step, spec.Pool):
                x = self.pool(step, x, f"{name}.pool{i}")
            else:  # Fork: the branch ends in parallel convs
                return [self.conv(c, x) for c in step.convs]
        return [x]

    def network(self) -> str:
        x = self.sequence(spec.STEM, INPUT_NAME, "stem")[0]
        for block, branches in spec.BLOCKS:
            outs = [o for i, br in enumerate(branches)
                    for o in self.sequence(br, x, f"{block}.b{i}")]
            self.nodes.append(self.h.make_node("Concat", outs, [block], name=block, axis=1))
            x = block
        pooled = self.pool(spec.FINAL_POOL, x, "pool3")
        self.nodes.append(self.h.make_node("Flatten", [pooled], [FEATURES_NAME],
                                           name=FEATURES_NAME, axis=1))
        return FEATURES_NAME


def _add_spatial_output(g: GraphWriter, helper, numpy_helper):
    """sFID's features as the ADM evaluator takes them: TF ``mixed_6/conv:0`` (NHWC,
    17x17x192), ``[..., :7]``, reshaped to (N, 2023), so channel varies fastest. Our graph
    is NCHW: slice channels 0..6, transpose to NHWC, then flatten; returns its value info."""
    consts = {"spatial.starts": [0], "spatial.ends": [SPATIAL_CHANNELS], "spatial.axes": [1],
              "spatial.shape": [0, -1]}  # 0 keeps the batch dimension
    g.inits += [numpy_helper.from_array(np.array(v, np.int64), k) for k, v in consts.items()]
    g.nodes += [
        helper.make_node("Slice", [SPATIAL_SOURCE, "spatial.starts", "spatial.ends",
                                   "spatial.axes"], ["spatial.nchw"], name="spatial.slice"),
        helper.make_node("Transpose", ["spatial.nchw"], ["spatial.nhwc"],
                         name="spatial.nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["spatial.nhwc", "spatial.shape"], [SPATIAL_NAME],
                         name=SPATIAL_NAME),
    ]
    from onnx import TensorProto
    return helper.make_tensor_value_info(SPATIAL_NAME, TensorProto.FLOAT, ["batch", SPATIAL_DIM])


def make_model(weights, source_sha256: str):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = GraphWriter(weights, helper, numpy_helper)
    g.network()
    outputs = [helper.make_tensor_value_info(FEATURES_NAME, TensorProto.FLOAT,
                                             ["batch", spec.NUM_FEATURES])]
    outputs.append(_add_spatial_output(g, helper, numpy_helper))
    # no head here: the Inception Score head is appended to the built body by is_head.py
    weights.finish()
    graph = helper.make_graph(
        g.nodes, "fid_inception_v3",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT,
                                       ["batch", 3, spec.IMAGE_SIZE, spec.IMAGE_SIZE])],
        outputs, initializer=g.inits,
        doc_string="TF inception-2015-12-05 (FID Inception). Input: RGB NCHW float32 "
                   "in [-1, 1]. features = pool3; mixed_6_conv = sFID's spatial features.")
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="fid-studio",
                              producer_version=BUILDER_VERSION)
    # The lowest IR version that carries this opset: readable by older runtimes too.
    model.ir_version = helper.find_min_ir_version_for(opsets)
    helper.set_model_props(model, {"source_sha256": source_sha256,
                                   "builder_version": BUILDER_VERSION})
    onnx.checker.check_model(model, full_check=True)  # also infers and checks shapes
    return model
