"""OpenAI CLIP ViT-B/32, ViT-L/14 and ViT-L/14@336px: the key layout of their released files and its checks.

The released files (clip/clip.py ``_MODELS``) are TorchScript archives of the whole model,
image and text towers; ``clip.load(name, device="cpu")`` reads ``model.state_dict()`` of
the archive, ``build_model`` (clip/model.py) infers the architecture from its keys and
shapes, builds ``CLIP(...)`` in float32, converts it with ``convert_weights`` (the
weights and biases of every Conv/Linear, ``nn.MultiheadAttention``'s ``in_proj_*`` and the
``proj`` / ``text_projection`` matrices become float16; LayerNorms, embeddings and
``logit_scale`` stay float32), ``load_state_dict`` copies the file's values into those
parameters (rounding to each parameter's dtype), and ``model.float()`` widens all to
float32. ``clip_load_values`` does the same to the tensors read here, so a float32 copy of
a model gives the numbers clip.load gives for it.

Key layout (``VisionTransformer`` + ``Transformer`` of clip/model.py, under ``visual.``)::

    visual.class_embedding (W,)   visual.positional_embedding (G*G+1, W)   visual.proj (W, D)
    visual.conv1.weight (W, 3, P, P)   (no bias)
    visual.ln_pre.{weight,bias}   visual.ln_post.{weight,bias}
    visual.transformer.resblocks.<i>.{attn.in_proj_weight (3W, W), attn.in_proj_bias,
        attn.out_proj.{weight,bias}, ln_1.*, mlp.c_fc.{weight (4W, W),bias},
        mlp.c_proj.{weight (W, 4W),bias}, ln_2.*}

and the text tower's (positional_embedding, text_projection, logit_scale,
token_embedding.weight, ln_final.*, transformer.resblocks.<i>.*, text_width // 64 heads, as
build_model sets them): read by the text encoder (text_graph.py; logit_scale by neither). TorchScript archives also hold the scalars
``input_resolution``, ``context_length`` and ``vocab_size`` (build_model drops them).

numpy only (the reader is models.common.torch_reader: no pickled code runs).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

OPENAI_BASE = "https://openaipublic.azureedge.net/clip/models"
# build_model drops these; TorchScript archives keep them as attributes
SCALAR_KEYS = ("input_resolution", "context_length", "vocab_size")
REDUCED_VOCAB = 1000  # reduced-depth stand-ins for the image encoders (text_vocab: full vocabulary)


@dataclass(frozen=True)
class ClipSpec:
    """One released CLIP ViT; ``layers`` (and the text tower) may be reduced for stand-ins."""

    variant: str          # "vitb32" | "vitl14" | "vitl14-336"
    label: str            # OpenAI's name
    width: int
    layers: int
    heads: int            # width // 64, as build_model sets it
    patch: int
    image_size: int
    output_dim: int       # embed_dim: the features' size
    text_width: int
    text_layers: int
    sha256: str           # OpenAI's: the URL's path segment, as clip/clip.py checks it
    file_name: str
    vocab_size: int = 49408
    context_length: int = 77
    ln_eps: float = 1e-5  # clip.model.LayerNorm: nn.LayerNorm's default, run in float32

    @property
    def grid(self) -> int:
        return self.image_size // self.patch

    @property
    def text_heads(self) -> int:
        return max(1, self.text_width // 64)  # build_model's transformer_heads (tiny: 1)

    @property
    def url(self) -> str:
        return f"{OPENAI_BASE}/{self.sha256}/{self.file_name}"

    @property
    def model_name(self) -> str:
        return f"clip-{self.variant}"

    def with_depth(self, depth: int, text_vocab: bool = False) -> "ClipSpec":
        """Same widths, ``depth`` image blocks; below full depth the text tower shrinks too
        (its blocks to at most 2, its vocabulary to REDUCED_VOCAB unless ``text_vocab``: the
        text encoder's stand-ins keep all 49408 rows, the tokenizer's ids index them)."""
        if depth == FULL_DEPTH[self.variant]:
            return SPECS[self.variant]
        return dataclasses.replace(self, layers=depth, text_layers=min(2, self.text_layers),
                                   vocab_size=self.vocab_size if text_vocab else REDUCED_VOCAB)


VITB32 = ClipSpec("vitb32", "ViT-B/32", 768, 12, 12, 32, 224, 512, 512, 12,
                  "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af",
                  "ViT-B-32.pt")
VITL14 = ClipSpec("vitl14", "ViT-L/14", 1024, 24, 16, 14, 224, 768, 768, 12,
                  "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836",
                  "ViT-L-14.pt")
VITL14_336 = ClipSpec("vitl14-336", "ViT-L/14@336px", 1024, 24, 16, 14, 336, 768, 768, 12,
                      "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02",
                      "ViT-L-14-336px.pt")
SPECS = {s.variant: s for s in (VITB32, VITL14, VITL14_336)}
FULL_DEPTH = {s.variant: s.layers for s in SPECS.values()}


def spec_for(variant: str, depth: int | None = None, text_vocab: bool = False) -> ClipSpec:
    try:
        spec = SPECS[variant]
    except KeyError:
        raise ValueError(f"unknown CLIP variant {variant!r}; known: {', '.join(SPECS)}") from None
    return spec if depth is None else spec.with_depth(depth, text_vocab)


def _block_layout(prefix: str, w: int) -> dict[str, tuple[int, ...]]:
    return {
        prefix + "attn.in_proj_weight": (3 * w, w), prefix + "attn.in_proj_bias": (3 * w,),
        prefix + "attn.out_proj.weight": (w, w), prefix + "attn.out_proj.bias": (w,),
        prefix + "ln_1.weight": (w,), prefix + "ln_1.bias": (w,),
        prefix + "mlp.c_fc.weight": (4 * w, w), prefix + "mlp.c_fc.bias": (4 * w,),
        prefix + "mlp.c_proj.weight": (w, 4 * w), prefix + "mlp.c_proj.bias": (w,),
        prefix + "ln_2.weight": (w,), prefix + "ln_2.bias": (w,),
    }


def image_layout(spec: ClipSpec) -> dict[str, tuple[int, ...]]:
    """The image tower's keys -> shapes, in ``model.state_dict()`` order."""
    w = spec.width
    layout = {
        "visual.class_embedding": (w,),
        "visual.positional_embedding": (spec.grid * spec.grid + 1, w),
        "visual.proj": (w, spec.output_dim),
        "visual.conv1.weight": (w, 3, spec.patch, spec.patch),
        "visual.ln_pre.weight": (w,), "visual.ln_pre.bias": (w,),
    }
    for i in range(spec.layers):
        layout.update(_block_layout(f"visual.transformer.resblocks.{i}.", w))
    layout["visual.ln_post.weight"] = (w,)
    layout["visual.ln_post.bias"] = (w,)
    return layout


def text_layout(spec: ClipSpec) -> dict[str, tuple[int, ...]]:
    """The text tower's keys -> shapes (read by the text encoder, text_graph.py)."""
    t = spec.text_width
    layout: dict[str, tuple[int, ...]] = {}
    for i in range(spec.text_layers):
        layout.update(_block_layout(f"transformer.resblocks.{i}.", t))
    layout.update({"token_embedding.weight": (spec.vocab_size, t),
                   "ln_final.weight": (t,), "ln_final.bias": (t,)})
    return layout


def expected_layout(spec: ClipSpec) -> dict[str, tuple[int, ...]]:
    """Every key of the model's state dict -> shape, in ``model.state_dict()`` order."""
    head = {"positional_embedding": (spec.context_length, spec.text_width),
            "text_projection": (spec.text_width, spec.output_dim), "logit_scale": ()}
    return {**head, **image_layout(spec), **text_layout(spec)}


def parameter_count(spec: ClipSpec) -> int:
    return sum(int(np.prod(s)) for s in expected_layout(spec).values())


def plausible_size_range(spec: ClipSpec) -> tuple[int, int]:
    """Bytes a file of this model can take: all float16 at the least; all float32 plus the
    archive's overhead (zip entries, 64-byte alignment, the pickle, TorchScript code) at most."""
    n, keys = parameter_count(spec), len(expected_layout(spec))
    return 2 * n, 4 * n + 4096 * keys + (8 << 20)


def converted_to_fp16(key: str) -> bool:
    """Is this parameter float16 in the model ``build_model`` returns (``convert_weights``)?
    Conv/Linear weights and biases, attention in_proj, ``proj`` and ``text_projection``."""
    if key in ("visual.proj", "text_projection", "visual.conv1.weight"):
        return True
    return any(key.endswith(s) for s in (
        ".attn.in_proj_weight", ".attn.in_proj_bias", ".attn.out_proj.weight",
        ".attn.out_proj.bias", ".mlp.c_fc.weight", ".mlp.c_fc.bias", ".mlp.c_proj.weight",
        ".mlp.c_proj.bias"))


def clip_load_values(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The float32 values ``clip.load(file, device="cpu")`` computes with: each parameter
    rounded to its dtype in build_model's model (float16 for converted_to_fp16 keys; a no-op
    for values stored as float16), then widened exactly, as ``model.float()`` does."""
    out = {}
    for key, arr in tensors.items():
        arr = np.asarray(arr, np.float32)
        if converted_to_fp16(key):
            arr = arr.astype(np.float16).astype(np.float32)
        out[key] = arr
    return out
