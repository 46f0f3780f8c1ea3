"""Write a CLIP text encoder as an ONNX model, without torch: OpenAI's ``CLIP.encode_text``
(clip/model.py) as ``clip.load(name, device="cpu")`` runs it, in float32.

* input ``tokens`` (N, 77) int64: the tokenizer's ids (start token, text, end token, padding);
* ``token_embedding`` gathered per id, plus ``positional_embedding`` (one float32 add);
* ``text_layers`` residual blocks (graph.residual_block: the image tower's block, heads =
  text_width // 64) whose attention adds ``build_attention_mask()``: -inf above the diagonal,
  0 on and below it (each token sees itself and those before it);
* ``ln_final``; the row at ``argmax(tokens)`` of each sequence (the first occurrence of the
  largest id: the end-of-text token 49407 when it is there; the tokenizer's cut rule decides
  what a too-long prompt keeps), ``@ text_projection``;
* output ``features`` (N, D), not L2-normalised (D = 512 for B/32, 768 for the L/14s).

Values: clip_load_values (weights.py), as for the image tower (the blocks' Linear/in_proj and
``text_projection`` rounded to float16, embeddings and LayerNorms as stored). The token table
(49408 rows) is stored as float16 and its gathered rows cast to float32 when every value is a
float16 number (OpenAI's files store float16): the same values, half the bytes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..common.model_writer import build_and_save
from ..common.vit_graph import GraphBuilder, finish_model
from ..errors import ModelBuildError
from .graph import OPSET, residual_block
from .verify import load_clip_weights
from .weights import ClipSpec, text_layout

BUILDER_VERSION = "1"  # bump when the graph changes
INPUT_NAME = "tokens"
FEATURES_NAME = "features"
TEXT_KEYS = ("positional_embedding", "text_projection", "logit_scale")


def causal_mask(n: int) -> np.ndarray:
    """clip.model.CLIP.build_attention_mask: (n, n) float32, -inf above the diagonal, else 0."""
    return np.triu(np.full((n, n), -np.inf, np.float32), 1)


def make_text_model(tensors: dict[str, np.ndarray], spec: ClipSpec, source_sha256: str):
    """The ONNX ModelProto of the text tower of verified tensors (its keys are consumed)."""
    from onnx import TensorProto, helper

    t = {k: tensors.pop(k) for k in (*text_layout(spec), *TEXT_KEYS)}
    t.pop("logit_scale")  # CLIP's similarity temperature: no part of encode_text
    n = spec.context_length
    g = GraphBuilder()
    emb = t.pop("token_embedding.weight")
    half = emb.astype(np.float16)
    if np.array_equal(half.astype(np.float32), emb):  # OpenAI's files: float16 values, exact
        x = g.op("Gather", [g.const("token_embedding.weight_fp16", half), INPUT_NAME],
                 "token_embedding.fp16", axis=0)
        x = g.op("Cast", [x], "token_embedding", to=TensorProto.FLOAT)
    else:
        x = g.op("Gather", [g.const("token_embedding.weight", emb), INPUT_NAME],
                 "token_embedding", axis=0)
    x = g.op("Add", [x, g.const("positional_embedding", t.pop("positional_embedding"))],
             "tokens.positioned")
    mask = g.const("attn_mask", causal_mask(n))
    for i in range(spec.text_layers):
        x = residual_block(g, x, t, f"transformer.resblocks.{i}.", spec.text_heads,
                           spec.ln_eps, n, mask)
    x = g.op("LayerNormalization", [x, g.const("ln_final.weight", t.pop("ln_final.weight")),
                                    g.const("ln_final.bias", t.pop("ln_final.bias"))],
             "ln_final.out", axis=-1, epsilon=spec.ln_eps)
    # argmax over the ids (int32: exact below 2^31), (N, 1): first occurrence, as torch's
    ids = g.op("Cast", [INPUT_NAME], "tokens.int32", to=TensorProto.INT32)
    eot = g.op("ArgMax", [ids], "eot.index", axis=1, keepdims=1, select_last_index=0)
    x = g.op("GatherND", [x, eot], "eot.features", batch_dims=1)
    g.op("MatMul", [x, g.const("text_projection", t.pop("text_projection"))], FEATURES_NAME)
    if t:
        raise ModelBuildError(f"internal: tensors left unused: {sorted(t)[:3]}")
    return finish_model(
        g, f"clip_{spec.variant.replace('-', '_')}_text",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.INT64, ["batch", n])],
        [helper.make_tensor_value_info(FEATURES_NAME, TensorProto.FLOAT,
                                       ["batch", spec.output_dim])],
        f"OpenAI CLIP {spec.label} text encoder (encode_text). Input: (N, {n}) int64 token "
        "ids. features = ln_final(x)[argmax(tokens)] @ text_projection, not L2-normalised.",
        OPSET, BUILDER_VERSION, {"source_sha256": source_sha256,
                                 "text_depth": str(spec.text_layers),
                                 "builder_version": BUILDER_VERSION})


def build_text_model(weights: Path, out_path: Path, spec: ClipSpec,
                     progress: Callable[[str], None] | None = None, official: bool = False,
                     cancelled: Callable[[], bool] = lambda: False,
                     load: Callable[[], dict] | None = None) -> dict:
    """As graph.build_clip_model, for the text tower: verify weights (or take ``load()``'s
    verified tensors), write the ONNX text encoder at out_path and its provenance beside it;
    return the provenance."""
    def describe(weights_sha256: str) -> dict:
        return {
            "model": f"{spec.model_name}-text", "tower": "text",
            "source_official": weights_sha256 == spec.sha256, "official_sha256": spec.sha256,
            "text_depth": spec.text_layers, "text_width": spec.text_width,
            "heads": spec.text_heads, "vocab_size": spec.vocab_size,
            "context_length": spec.context_length, "feature_dim": spec.output_dim,
            "input": {"name": INPUT_NAME, "shape": ["batch", spec.context_length],
                      "dtype": "int64"},
            "outputs": {FEATURES_NAME: ["batch", spec.output_dim]},
            "pooling": "argmax(tokens): the first occurrence of the largest id",
            "weights_precision": "as clip.load(device='cpu'): Linear/in_proj/text_projection "
                                 "rounded to float16 as build_model's convert_weights, then float32",
            "opset": OPSET, "builder_version": BUILDER_VERSION}
    load = load or (lambda: load_clip_weights(weights, spec, official=official))
    return build_and_save(weights, out_path, load=load,
                          make=lambda tensors, sha: make_text_model(tensors, spec, sha),
                          describe=describe, progress=progress, cancelled=cancelled)
