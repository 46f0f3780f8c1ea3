"""Seeded stand-ins for the DINOv2 parity checks (numpy only, no torch).

The real ``dinov2_vitl14_pretrain.pth`` (1.2 GB) is neither shipped nor downloaded by the
tests. Instead the torch reference script (tests/reference/make_dinov2_reference.py) and the
torch-free tests both regenerate the same seeded tensors in the official key layout, at full
depth (24 blocks) or reduced depth (same widths), and the same seeded synthetic images.

Values are uniform draws shifted and scaled by powers of two (correctly rounded float32 ops:
the same bits on every platform). Biases, norms and LayerScale gammas are moved well away
from their init values (0, 1, 1.0) so that every tensor changes the output. The widths are
chosen so that activations stay O(1) through 24 blocks and attention is far from uniform.

``write_torch_state_dict`` (models/common/torch_writer.py) writes it as a torch.save file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..common.torch_writer import write_torch_state_dict
from .weights import FULL, ViTSpec, expected_layout

STANDIN_SEED = 20230414  # DINOv2's arXiv date
IMAGES_SEED = 224

_f = np.float32

# (suffix, kind, scale): weights/biases are centred uniform * scale; "one" = 1 + centred * scale
_RULES = [
    ("patch_embed.proj.weight", "zero", 0.0625), ("patch_embed.proj.bias", "zero", 0.25),
    ("cls_token", "zero", 1.0), ("pos_embed", "zero", 0.5), ("mask_token", "zero", 1.0),
    ("norm1.weight", "one", 0.5), ("norm1.bias", "zero", 0.25),
    ("norm2.weight", "one", 0.5), ("norm2.bias", "zero", 0.25),
    ("attn.qkv.weight", "zero", 0.125), ("attn.qkv.bias", "zero", 0.5),
    ("attn.proj.weight", "zero", 0.0625), ("attn.proj.bias", "zero", 0.25),
    ("ls1.gamma", "half", 0.5), ("ls2.gamma", "half", 0.5),
    ("mlp.fc1.weight", "zero", 0.0625), ("mlp.fc1.bias", "zero", 0.25),
    ("mlp.fc2.weight", "zero", 0.03125), ("mlp.fc2.bias", "zero", 0.25),
    ("norm.weight", "one", 0.5), ("norm.bias", "zero", 0.25),
]


def _rule(key: str) -> tuple[str, float]:
    for suffix, kind, scale in _RULES:
        if key == suffix or key.endswith("." + suffix):
            return kind, scale
    raise KeyError(key)


def standin_tensors(depth: int = FULL.depth, seed: int = STANDIN_SEED) -> dict[str, np.ndarray]:
    """Seeded float32 tensors in the dinov2_vitl14 layout with `depth` blocks.

    Each key draws from its own generator (seed, key index) so a reduced-depth stand-in has
    the same leading tensors as the full one."""
    spec = ViTSpec(depth=depth)
    out = {}
    for index, (key, shape) in enumerate(expected_layout(spec).items()):
        if key.startswith("norm."):
            index = 10_000 + (key == "norm.bias")  # independent of depth
        rng = np.random.default_rng([seed, index])
        kind, scale = _rule(key)
        u = rng.random(shape, dtype=np.float32) - _f(0.5)  # [-0.5, 0.5), exact
        v = u * _f(scale)
        if kind == "one":
            v = v + _f(1.0)  # gamma of a LayerNorm in [1 - s/2, 1 + s/2)
        elif kind == "half":
            v = v + _f(0.5)  # LayerScale in [0.25, 0.75): init_values=1.0 would be 1
        out[key] = v.astype(np.float32)
    return out


def standin_images() -> list[np.ndarray]:
    """Two seeded RGB uint8 images larger than 224 px (the downscaling, antialiased path):
    448 x 448 (exactly 2x) and 300 x 257 (W x H, non-integer factors), blocky noise over
    smooth gradients so both low and high frequencies matter."""
    rng = np.random.default_rng(IMAGES_SEED)
    images = []
    for w, h in ((448, 448), (300, 257)):
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([xx * 255 // (w - 1), yy * 255 // (h - 1), (xx + yy) * 255 // (w + h - 2)],
                        axis=-1)
        blocks = rng.integers(-60, 61, size=(h // 8 + 1, w // 8 + 1, 3))
        noise = np.kron(blocks, np.ones((8, 8, 1), np.int64))[:h, :w]
        fine = rng.integers(-25, 26, size=(h, w, 3))
        images.append(np.clip(base + noise + fine, 0, 255).astype(np.uint8))
    return images


def write_standin(path: Path, depth: int = FULL.depth, seed: int = STANDIN_SEED) -> Path:
    """The seeded stand-in checkpoint as a torch.save file at path."""
    return write_torch_state_dict(path, standin_tensors(depth, seed))


__all__ = ["standin_images", "standin_tensors", "write_standin", "write_torch_state_dict"]
