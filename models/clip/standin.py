"""Seeded stand-ins for the CLIP parity checks (numpy only, no torch).

OpenAI's files (354 MB / 934 MB) are neither shipped nor downloaded by the tests. The torch
reference script (tests/reference/make_clip_reference.py) and the torch-free tests both
regenerate the same seeded tensors in OpenAI's key layout (both towers, so that
``clip.model.build_model`` accepts the file), at full depth or reduced depth (same widths;
the text tower then shrinks too: weights.ClipSpec.with_depth), and the same seeded images.

Each tensor draws from its own generator, seeded by (STANDIN_SEED, CRC-32 of its key), so a
reduced-depth stand-in has the same leading tensors as the full one. Values are uniform
draws scaled by powers of two, then rounded to float16 as OpenAI's files store them.
LayerNorm weights sit in [0.75, 1.25) and every bias away from 0, so each tensor changes
the output; the widths keep activations O(1) through 24 blocks, and the attention logits
have a spread of about 1 (attention far from uniform).
"""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from ..common.torch_writer import write_torch_state_dict
from .weights import ClipSpec, expected_layout, spec_for

STANDIN_SEED = 20210226  # CLIP's arXiv date
IMAGES_SEED = 336

_f = np.float32

# (suffix, kind, scale): "zero" = centred uniform * scale; "one" = 1 + centred * scale
_RULES = [
    ("class_embedding", "zero", 2.0), ("visual.positional_embedding", "zero", 1.0),
    ("conv1.weight", "zero", 0.0625), ("visual.proj", "zero", 0.125),
    ("ln_pre.weight", "one", 0.5), ("ln_pre.bias", "zero", 0.25),
    ("ln_post.weight", "one", 0.5), ("ln_post.bias", "zero", 0.25),
    ("ln_1.weight", "one", 0.5), ("ln_1.bias", "zero", 0.25),
    ("ln_2.weight", "one", 0.5), ("ln_2.bias", "zero", 0.25),
    ("attn.in_proj_weight", "zero", 0.125), ("attn.in_proj_bias", "zero", 0.5),
    ("attn.out_proj.weight", "zero", 0.0625), ("attn.out_proj.bias", "zero", 0.25),
    ("mlp.c_fc.weight", "zero", 0.125), ("mlp.c_fc.bias", "zero", 0.5),
    ("mlp.c_proj.weight", "zero", 0.03125), ("mlp.c_proj.bias", "zero", 0.25),
    # the text tower (never read by the image encoder; build_model needs it)
    ("positional_embedding", "zero", 0.25), ("text_projection", "zero", 0.125),
    ("logit_scale", "one", 0.0), ("token_embedding.weight", "zero", 0.25),
    ("ln_final.weight", "one", 0.5), ("ln_final.bias", "zero", 0.25),
]


def _rule(key: str) -> tuple[str, float]:
    for suffix, kind, scale in _RULES:
        if key == suffix or key.endswith("." + suffix):
            return kind, scale
    raise KeyError(key)


def standin_tensors(variant: str, depth: int | None = None, seed: int = STANDIN_SEED,
                    text_vocab: bool = False) -> dict[str, np.ndarray]:
    """Seeded float16 tensors in OpenAI's layout of ``variant`` ('vitb32' | 'vitl14' |
    'vitl14-336') with ``depth`` image blocks (None: full depth), in ``model.state_dict()``
    order; text_vocab: a reduced-depth stand-in keeps the full vocabulary (for the text
    encoder, which real token ids index)."""
    return spec_tensors(spec_for(variant, depth, text_vocab), seed)


def spec_tensors(spec: ClipSpec, seed: int = STANDIN_SEED) -> dict[str, np.ndarray]:
    """standin_tensors for any spec (e.g. TINY_SPEC)."""
    out = {}
    for key, shape in expected_layout(spec).items():
        rng = np.random.default_rng([seed, zlib.crc32(key.encode())])
        kind, scale = _rule(key)
        v = (rng.random(shape, dtype=np.float32) - _f(0.5)) * _f(scale)  # exact
        if kind == "one":
            v = v + _f(1.0)
        out[key] = np.asarray(v, np.float32).astype(np.float16)
    if "logit_scale" in out:  # log(1/0.07), CLIP's init
        out["logit_scale"] = np.array(np.log(1 / 0.07), np.float16)
    return out


def write_standin(path: Path, variant: str, depth: int | None = 2,
                  seed: int = STANDIN_SEED, text_vocab: bool = False) -> Path:
    """The seeded stand-in as a float16 torch.save state dict at path (depth None: full)."""
    return write_torch_state_dict(path, standin_tensors(variant, depth, seed, text_vocab))


# A CLIP of tiny widths (the image tower 64 wide: CLIP() sets its heads to width // 64), for a
# TorchScript archive of a few hundred kB committed as a fixture (tests/fixtures/clip/)
TINY_SPEC = ClipSpec("tiny", "tiny", 64, 1, 1, 8, 16, 8, 8, 1, "0" * 64, "tiny.pt",
                     vocab_size=16, context_length=4)


def standin_spec(variant: str, depth: int | None = 2, text_vocab: bool = False) -> ClipSpec:
    """The spec a stand-in written with this depth (and text_vocab) verifies against."""
    return spec_for(variant, depth, text_vocab)


# (width, height, kind): larger and smaller than both inputs (224, 336), square, landscape,
# portrait, a width/height ratio that makes torchvision's Resize round; "gray": one channel
STANDIN_IMAGE_SIZES = ((448, 448, "rgb"), (300, 257, "rgb"), (173, 391, "rgb"),
                       (640, 360, "rgb"), (150, 150, "gray"), (517, 229, "rgb"))


def _image(rng, w: int, h: int, kind: str, style: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    if style == 0:   # smooth gradients with coarse blocks
        base = np.stack([xx * 255 // (w - 1), yy * 255 // (h - 1),
                         (xx + yy) * 255 // (w + h - 2)], axis=-1)
        cell, amp = 16, 40
    else:            # stripes and fine noise: another distribution for the set pairs
        base = np.stack([(xx // 7 % 2) * 200 + 20, (yy // 5 % 2) * 180 + 40,
                         ((xx + yy) // 11 % 2) * 150 + 60], axis=-1)
        cell, amp = 4, 70
    blocks = rng.integers(-amp, amp + 1, size=(h // cell + 1, w // cell + 1, 3))
    noise = np.kron(blocks, np.ones((cell, cell, 1), np.int64))[:h, :w]
    fine = rng.integers(-20, 21, size=(h, w, 3))
    img = np.clip(base + noise + fine, 0, 255).astype(np.uint8)
    if kind == "gray":  # an RGB array of a one-channel image: the channels equal
        img = np.repeat(img[..., :1], 3, axis=2)
    return img


def standin_images(style: int = 0, seed: int = IMAGES_SEED) -> list[tuple[str, np.ndarray]]:
    """Seeded (name, (H, W, 3) uint8 RGB) images, one per STANDIN_IMAGE_SIZES entry; style 0
    (smooth) and 1 (stripes, fine noise) are the two sets of the CLIP-FID / CMMD pairs.
    'gray' images are saved as one-channel files by the reference script (cmmd tiles them)."""
    rng = np.random.default_rng([seed, style])
    out = []
    for w, h, kind in STANDIN_IMAGE_SIZES:
        out.append((f"s{style}_{w}x{h}_{kind}", _image(rng, w, h, kind, style)))
    return out
