"""Write DINOv2 ViT-L/14 (``dinov2_vitl14``) as an ONNX model, without torch.

The graph is Meta's ``DinoVisionTransformer.forward`` (dinov2 0.0.1.dev2, eval mode, no
xFormers) at a fixed 224 x 224 input:

* input ``images`` (N, 3, 224, 224) float32, already normalised with the ImageNet mean/std
  (engine/features/dinov2_preprocess.py makes it, for either convention);
* 14 x 14 patch conv with bias -> 16 x 16 = 256 tokens; the CLS token in front; the position
  embedding resized from 37 x 37 to 16 x 16 at build time exactly as
  ``interpolate_pos_encoding`` does (posembed.py) and baked in;
* ``depth`` pre-norm blocks: x += ls1 * proj(attn(norm1(x))); x += ls2 * fc2(gelu(fc1(norm2(x))))
  with LayerNorm eps 1e-6, qkv with bias, 16 heads of 64, q scaled by 64^-0.5 before q·kᵀ,
  softmax, exact erf GELU;
* output ``features`` (N, 1024): the CLS token after the final norm (``x_norm_clstoken``,
  what ``model(x)`` returns).

``build_dinov2_model`` verifies the weights (weights.py), writes the model and a
``<model>.json`` provenance (weights SHA-256, depth, builder version) atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .posembed import dinov2_scale_factor, resized_pos_embed
from .weights import FULL, MODEL_NAME, ViTSpec, load_dinov2_weights
from ..common.model_writer import build_and_save
from ..common.vit_graph import GraphBuilder, finish_model, patch_tokens, self_attention
from ..errors import ModelBuildError

BUILDER_VERSION = "1"  # bump when the graph changes
OPSET = 17  # as the Inception model; LayerNormalization is in the default domain from 17
IMAGE_SIZE = 224
INPUT_NAME = "images"
FEATURES_NAME = "features"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Progress = Callable[[str], None]


def _block(g: GraphBuilder, x: str, t: dict, i: int, spec: ViTSpec, n_tokens: int) -> str:
    p = f"blocks.{i}."
    pop = lambda k: t.pop(p + k)  # noqa: E731  (free each tensor once it is in the graph)
    h = g.layer_norm(x, pop("norm1.weight"), pop("norm1.bias"), p + "norm1", spec.ln_eps)
    o = self_attention(g, h, (pop("attn.qkv.weight"), pop("attn.qkv.bias")),
                       (pop("attn.proj.weight"), pop("attn.proj.bias")), p,
                       ("attn.qkv", "attn.proj"), n_tokens, spec.num_heads)
    o = g.op("Mul", [o, g.const(p + "ls1.gamma", pop("ls1.gamma"))], p + "ls1")
    x = g.op("Add", [x, o], p + "res1")

    h = g.layer_norm(x, pop("norm2.weight"), pop("norm2.bias"), p + "norm2", spec.ln_eps)
    h = g.linear(h, pop("mlp.fc1.weight"), pop("mlp.fc1.bias"), p + "mlp.fc1")
    # nn.GELU(): x * 0.5 * (1 + erf(x / sqrt(2))), the exact (erf) form
    e = g.op("Mul", [h, g.const(p + "gelu.rsqrt2", np.array(0.5 ** 0.5, np.float32))],
             p + "gelu.scaled")
    e = g.op("Erf", [e], p + "gelu.erf")
    e = g.op("Add", [e, g.const(p + "gelu.one", np.array(1.0, np.float32))], p + "gelu.1p")
    e = g.op("Mul", [h, e], p + "gelu.mul")
    h = g.op("Mul", [e, g.const(p + "gelu.half", np.array(0.5, np.float32))], p + "gelu.out")
    h = g.linear(h, pop("mlp.fc2.weight"), pop("mlp.fc2.bias"), p + "mlp.fc2")
    h = g.op("Mul", [h, g.const(p + "ls2.gamma", pop("ls2.gamma"))], p + "ls2")
    return g.op("Add", [x, h], p + "res2")


def make_dinov2_model(tensors: dict[str, np.ndarray], spec: ViTSpec, source_sha256: str):
    """The ONNX ModelProto for verified tensors (consumed: the dict is emptied)."""
    from onnx import TensorProto, helper

    g = GraphBuilder()
    d, grid = spec.embed_dim, IMAGE_SIZE // spec.patch
    n_tokens = grid * grid + 1
    pos = resized_pos_embed(tensors.pop("pos_embed"), IMAGE_SIZE, spec.patch)
    tensors.pop("mask_token")  # only used for masked training inputs
    # prepare_tokens_with_masks: cat(cls, patches) + pos; cls + pos[0] is one float32 add
    cls = (tensors.pop("cls_token") + pos[:, :1]).astype(np.float32)

    x = patch_tokens(g, INPUT_NAME, tensors.pop("patch_embed.proj.weight"),
                     tensors.pop("patch_embed.proj.bias"), cls, pos[:, 1:], grid,
                     "patch_embed", "patch_embed.proj")
    for i in range(spec.depth):
        x = _block(g, x, tensors, i, spec, n_tokens)
    x = g.layer_norm(x, tensors.pop("norm.weight"), tensors.pop("norm.bias"), "norm",
                     spec.ln_eps)
    g.op("Gather", [x, g.const("cls.index", np.array(0, np.int64))], FEATURES_NAME, axis=1)
    if tensors:
        raise ModelBuildError(f"internal: tensors left unused: {sorted(tensors)[:3]}")

    return finish_model(
        g, "dinov2_vitl14",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT,
                                       ["batch", 3, IMAGE_SIZE, IMAGE_SIZE])],
        [helper.make_tensor_value_info(FEATURES_NAME, TensorProto.FLOAT, ["batch", d])],
        "DINOv2 ViT-L/14 (dinov2_vitl14). Input: RGB NCHW float32 224x224, "
        "(x/255 - ImageNet mean) / std. features = x_norm_clstoken.",
        OPSET, BUILDER_VERSION, {"source_sha256": source_sha256, "depth": str(spec.depth),
                                 "builder_version": BUILDER_VERSION})


def build_dinov2_model(weights: Path, out_path: Path, spec: ViTSpec = FULL,
                       progress: Progress | None = None, cancelled=lambda: False) -> dict:
    """Verify weights, write the ONNX model at out_path and its provenance JSON beside it;
    return the provenance. Raises WeightsFormatError (a models.errors.ModelBuildError) for
    a file that is not the expected state dict; nothing is written then. ``cancelled`` is
    asked between the stages, up to the moment the model is saved (DownloadCancelled: nothing
    is written)."""
    def describe(_sha: str) -> dict:
        return {
            "model": MODEL_NAME, "depth": spec.depth, "embed_dim": spec.embed_dim,
            "input": {"name": INPUT_NAME, "shape": ["batch", 3, IMAGE_SIZE, IMAGE_SIZE],
                      "normalisation": {"scale": "1/255", "mean": list(IMAGENET_MEAN),
                                        "std": list(IMAGENET_STD)}},
            "outputs": {FEATURES_NAME: ["batch", spec.embed_dim]},
            "pos_embed_resize": {"from": [spec.train_grid] * 2, "to": [IMAGE_SIZE // spec.patch] * 2,
                                 "mode": "bicubic",
                                 "scale_factor": dinov2_scale_factor(IMAGE_SIZE, spec.patch, spec.train_grid)},
            "opset": OPSET, "builder_version": BUILDER_VERSION}
    return build_and_save(weights, out_path, load=lambda: load_dinov2_weights(weights, spec),
                          make=lambda tensors, sha: make_dinov2_model(tensors, spec, sha),
                          describe=describe, progress=progress, cancelled=cancelled)

