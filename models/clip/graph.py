"""Write a CLIP image encoder (ViT-B/32, ViT-L/14 or ViT-L/14@336px) as an ONNX model, without torch.

The graph is ``CLIP.encode_image`` of OpenAI's clip/model.py (``VisionTransformer.forward``)
as ``clip.load(name, device="cpu")`` runs it, in float32:

* input ``images`` (N, 3, S, S) float32, already CLIP-normalised (S = 224 for B/32 and L/14,
  336 for L/14@336px; engine/features/clip_preprocess.py makes it, per convention);
* ``conv1`` (patch conv, no bias) -> grid² tokens; the class embedding in front; plus the
  position embedding (the class row added to the class embedding at build time: one float32
  add, as torch's ``cat`` then ``+``);
* ``ln_pre``; ``layers`` residual blocks: x += out_proj(attn(ln_1(x))); x +=
  c_proj(QuickGELU(c_fc(ln_2(x)))), ``nn.MultiheadAttention`` with one packed in_proj,
  width // 64 heads, q scaled by 64^-0.5, softmax; QuickGELU = x·sigmoid(1.702x); every
  LayerNorm eps 1e-5 in float32;
* output ``features`` (N, D): ``ln_post`` of the class token, ``@ proj``: encode_image's
  value, not L2-normalised (D = 512 for B/32, 768 for the L/14s).

``build_clip_model`` verifies the weights (verify.py), writes the model and a
``<model>.json`` provenance (weights SHA-256, depth, builder version) atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..common.model_writer import build_and_save
from ..common.vit_graph import GraphBuilder, finish_model, patch_tokens, self_attention
from ..errors import ModelBuildError
from .verify import load_clip_weights
from .weights import ClipSpec, image_layout

BUILDER_VERSION = "1"  # bump when the graph changes
OPSET = 17  # as DINOv2 and the Inception model; LayerNormalization from 17
INPUT_NAME = "images"
FEATURES_NAME = "features"
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
QUICK_GELU = 1.702

Progress = Callable[[str], None]


def residual_block(g: GraphBuilder, x: str, t: dict, p: str, heads: int, ln_eps: float,
                   n_tokens: int, mask: str | None = None) -> str:
    """clip/model.py ``ResidualAttentionBlock`` of the tensors ``t[p + ...]`` (each popped once
    it is in the graph): x += out_proj(attn(ln_1(x))); x += c_proj(QuickGELU(c_fc(ln_2(x)))).
    mask: the attention's additive mask (the text tower's causal one), or None."""
    pop = lambda k: t.pop(p + k)  # noqa: E731  (free each tensor once it is in the graph)
    h = g.layer_norm(x, pop("ln_1.weight"), pop("ln_1.bias"), p + "ln_1", ln_eps)
    o = self_attention(g, h, (pop("attn.in_proj_weight"), pop("attn.in_proj_bias")),
                       (pop("attn.out_proj.weight"), pop("attn.out_proj.bias")), p,
                       ("attn.in_proj", "attn.out_proj"), n_tokens, heads, mask)
    x = g.op("Add", [x, o], p + "res1")
    h = g.layer_norm(x, pop("ln_2.weight"), pop("ln_2.bias"), p + "ln_2", ln_eps)
    h = g.linear(h, pop("mlp.c_fc.weight"), pop("mlp.c_fc.bias"), p + "mlp.c_fc")
    # QuickGELU: x * sigmoid(1.702 * x)
    s = g.op("Mul", [h, g.const(p + "gelu.k", np.array(QUICK_GELU, np.float32))],
             p + "gelu.scaled")
    s = g.op("Sigmoid", [s], p + "gelu.sigmoid")
    h = g.op("Mul", [h, s], p + "gelu.out")
    h = g.linear(h, pop("mlp.c_proj.weight"), pop("mlp.c_proj.bias"), p + "mlp.c_proj")
    return g.op("Add", [x, h], p + "res2")


def make_clip_model(tensors: dict[str, np.ndarray], spec: ClipSpec, source_sha256: str):
    """The ONNX ModelProto of the image tower of verified tensors (its keys are consumed)."""
    from onnx import TensorProto, helper

    t = {k: tensors.pop(k) for k in image_layout(spec)}
    g = GraphBuilder()
    s = spec.image_size
    n_tokens = spec.grid * spec.grid + 1
    pos = t.pop("visual.positional_embedding")[None]  # (1, T, W)
    cls = (t.pop("visual.class_embedding") + pos[:, :1]).astype(np.float32)
    x = patch_tokens(g, INPUT_NAME, t.pop("visual.conv1.weight"), None, cls, pos[:, 1:],
                     spec.grid, "visual.conv1", "visual.conv1")
    x = g.layer_norm(x, t.pop("visual.ln_pre.weight"), t.pop("visual.ln_pre.bias"),
                     "visual.ln_pre", spec.ln_eps)
    for i in range(spec.layers):
        x = residual_block(g, x, t, f"visual.transformer.resblocks.{i}.", spec.heads,
                           spec.ln_eps, n_tokens)
    x = g.op("Gather", [x, g.const("cls.index", np.array(0, np.int64))], "cls.token", axis=1)
    x = g.layer_norm(x, t.pop("visual.ln_post.weight"), t.pop("visual.ln_post.bias"),
                     "visual.ln_post", spec.ln_eps)
    g.op("MatMul", [x, g.const("visual.proj", t.pop("visual.proj"))], FEATURES_NAME)
    if t:
        raise ModelBuildError(f"internal: tensors left unused: {sorted(t)[:3]}")
    return finish_model(
        g, f"clip_{spec.variant.replace('-', '_')}",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, s, s])],
        [helper.make_tensor_value_info(FEATURES_NAME, TensorProto.FLOAT,
                                       ["batch", spec.output_dim])],
        f"OpenAI CLIP {spec.label} image encoder (encode_image). Input: RGB NCHW float32 "
        f"{s}x{s}, (x/255 - CLIP mean) / CLIP std. features = ln_post(class token) @ proj, "
        "not L2-normalised.",
        OPSET, BUILDER_VERSION, {"source_sha256": source_sha256, "depth": str(spec.layers),
                                 "builder_version": BUILDER_VERSION})


def build_clip_model(weights: Path, out_path: Path, spec: ClipSpec,
                     progress: Progress | None = None, official: bool = False,
                     cancelled: Callable[[], bool] = lambda: False,
                     load: Callable[[], dict] | None = None) -> dict:
    """Verify weights, write the ONNX model at out_path and its provenance JSON beside it;
    return the provenance. Raises WeightsFormatError (a models.errors.ModelBuildError) for
    a file that is not the expected weights; nothing is written then. official: the file's
    SHA-256 was checked to be OpenAI's (verify.py). ``cancelled`` is asked between the
    stages, up to the moment the model is saved (DownloadCancelled: nothing is written).
    load: returns the verified tensors (default: load_clip_weights); the image tower's keys
    are taken out of that dict, the text tower's stay (build.py builds both from one read)."""
    s = spec.image_size

    def describe(weights_sha256: str) -> dict:
        return {
            "model": spec.model_name,
            "source_official": weights_sha256 == spec.sha256, "official_sha256": spec.sha256,
            "depth": spec.layers, "width": spec.width, "patch": spec.patch, "image_size": s,
            "feature_dim": spec.output_dim,
            "input": {"name": INPUT_NAME, "shape": ["batch", 3, s, s],
                      "normalisation": {"scale": "1/255", "mean": list(CLIP_MEAN), "std": list(CLIP_STD)}},
            "outputs": {FEATURES_NAME: ["batch", spec.output_dim]},
            "weights_precision": "as clip.load(device='cpu'): Conv/Linear/in_proj/proj rounded "
                                 "to float16 as build_model's convert_weights, then float32",
            "opset": OPSET, "builder_version": BUILDER_VERSION}
    load = load or (lambda: load_clip_weights(weights, spec, official=official))
    return build_and_save(weights, out_path, load=load,
                          make=lambda tensors, sha: make_clip_model(tensors, spec, sha),
                          describe=describe, progress=progress, cancelled=cancelled)
