"""The pieces every Vision Transformer graph here is made of, written with ``onnx.helper``.

DINOv2 (models/dinov2/graph.py) and CLIP's image tower (models/clip/graph.py) share them: a
builder that collects nodes and initializers, torch's ``nn.Linear`` and ``nn.LayerNorm``,
the patch embedding with the class token in front, and multi-head self-attention with one
packed q/k/v projection (DINOv2's ``attn.qkv``, ``nn.MultiheadAttention``'s ``in_proj``:
the same row layout, q rows then k rows then v rows, each split into heads in order).
"""
from __future__ import annotations

import numpy as np


class GraphBuilder:
    """Collects nodes and initializers; names are unique by construction."""

    def __init__(self):
        from onnx import helper, numpy_helper
        self.h, self.nh = helper, numpy_helper
        self.nodes: list = []
        self.inits: list = []

    def const(self, name: str, value: np.ndarray) -> str:
        # np.array, not ascontiguousarray: that one turns 0-d arrays (Gather indices) into (1,)
        self.inits.append(self.nh.from_array(np.array(value, order="C"), name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str, **attrs) -> str:
        self.nodes.append(self.h.make_node(op_type, inputs, [output], name=output, **attrs))
        return output

    def linear(self, x: str, w: np.ndarray, b: np.ndarray | None, name: str) -> str:
        """torch nn.Linear: x @ Wᵀ + b (Wᵀ stored, so MatMul reads it row-major)."""
        wt = self.const(f"{name}.weight_t", np.asarray(w, np.float32).T)
        y = self.op("MatMul", [x, wt], f"{name}.matmul")
        if b is None:
            return y
        return self.op("Add", [y, self.const(f"{name}.bias", b)], f"{name}.out")

    def layer_norm(self, x: str, w: np.ndarray, b: np.ndarray, name: str, eps: float) -> str:
        """nn.LayerNorm over the last axis, computed in float32 (ONNX LayerNormalization)."""
        return self.op("LayerNormalization",
                       [x, self.const(f"{name}.weight", w), self.const(f"{name}.bias", b)],
                       f"{name}.out", axis=-1, epsilon=eps)


def patch_tokens(g: GraphBuilder, images: str, weight: np.ndarray, bias: np.ndarray | None,
                 cls_plus_pos: np.ndarray, pos_patches: np.ndarray, grid: int,
                 name: str, params: str) -> str:
    """(N, 3, S, S) images -> (N, 1 + grid², width) tokens: the patch conv (stride = kernel),
    flattened row-major, plus the position embedding of the patches, with the class token
    (already plus its position row, one float32 add as torch does) in front. name: the
    nodes' prefix; params: the conv's initializers' ('<params>.weight', '<params>.bias')."""
    width, patch = weight.shape[0], weight.shape[-1]
    inputs = [images, g.const(f"{params}.weight", weight)]
    if bias is not None:
        inputs.append(g.const(f"{params}.bias", bias))
    x = g.op("Conv", inputs, f"{name}.conv", kernel_shape=[patch] * 2, strides=[patch] * 2)
    x = g.op("Reshape", [x, g.const(f"{name}.flat_shape",
                                    np.array([0, width, grid * grid], np.int64))], f"{name}.flat")
    x = g.op("Transpose", [x], f"{name}.tokens", perm=[0, 2, 1])
    x = g.op("Add", [x, g.const("pos_embed.patches", pos_patches)], "tokens.patches")
    batch = g.op("Shape", [images], "batch_size", start=0, end=1)
    cls_shape = g.op("Concat", [batch, g.const("cls.tail", np.array([1, width], np.int64))],
                     "cls.shape", axis=0)
    cls_b = g.op("Expand", [g.const("cls_token_plus_pos", cls_plus_pos), cls_shape],
                 "cls.batch")
    return g.op("Concat", [cls_b, x], "tokens", axis=1)


def self_attention(g: GraphBuilder, x: str, qkv: tuple[np.ndarray, np.ndarray],
                   out: tuple[np.ndarray, np.ndarray], prefix: str, names: tuple[str, str],
                   n_tokens: int, heads: int, mask: str | None = None) -> str:
    """Multi-head self-attention of (N, T, width) tokens: one packed projection to q, k, v
    (weight (3·width, width), bias (3·width,)), q scaled by head_dim^-0.5, softmax(q·kᵀ)·v per
    head, heads merged and projected by ``out`` (weight, bias). names: the node names of the
    two projections after ``prefix`` (e.g. 'attn.qkv', 'attn.proj'). mask: an additive (T, T)
    float32 initializer added to q·kᵀ before the softmax (``nn.MultiheadAttention``'s float
    ``attn_mask``; CLIP's text tower: -inf above the diagonal)."""
    p = prefix
    width = qkv[0].shape[1]
    hd = width // heads
    h = g.linear(x, qkv[0], qkv[1], p + names[0])
    # reshape(B, T, 3, heads, hd).permute(2, 0, 3, 1, 4): q, k, v each (B, heads, T, hd)
    h = g.op("Reshape", [h, g.const(p + "qkv_shape",
                                    np.array([0, n_tokens, 3, heads, hd], np.int64))],
             p + "attn.qkv5")
    h = g.op("Transpose", [h], p + "attn.qkv_perm", perm=[2, 0, 3, 1, 4])
    q, k, v = (g.op("Gather", [h, g.const(f"{p}attn.idx{j}", np.array(j, np.int64))],
                    f"{p}attn.{n}", axis=0) for j, n in enumerate("qkv"))
    q = g.op("Mul", [q, g.const(p + "attn.scale", np.array(hd ** -0.5, np.float32))],
             p + "attn.q_scaled")
    kt = g.op("Transpose", [k], p + "attn.k_t", perm=[0, 1, 3, 2])
    logits = g.op("MatMul", [q, kt], p + "attn.logits")
    if mask is not None:
        logits = g.op("Add", [logits, mask], p + "attn.masked")
    attn = g.op("Softmax", [logits], p + "attn.softmax", axis=-1)
    o = g.op("MatMul", [attn, v], p + "attn.heads")
    o = g.op("Transpose", [o], p + "attn.heads_t", perm=[0, 2, 1, 3])
    o = g.op("Reshape", [o, g.const(p + "attn.merge_shape",
                                    np.array([0, n_tokens, width], np.int64))],
             p + "attn.merged")
    return g.linear(o, out[0], out[1], p + names[1])


def finish_model(g: GraphBuilder, graph_name: str, inputs: list, outputs: list, doc: str,
                 opset: int, builder_version: str, props: dict[str, str]):
    """The ModelProto of g's nodes: default-domain opset, the lowest IR version it needs,
    producer 'fid-studio' and metadata props."""
    h = g.h
    graph = h.make_graph(g.nodes, graph_name, inputs, outputs, initializer=g.inits,
                         doc_string=doc)
    opsets = [h.make_opsetid("", opset)]
    model = h.make_model(graph, opset_imports=opsets, producer_name="fid-studio",
                         producer_version=builder_version)
    model.ir_version = h.find_min_ir_version_for(opsets)
    h.set_model_props(model, props)
    return model
