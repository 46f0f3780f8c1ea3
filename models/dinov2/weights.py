"""DINOv2 ViT-L/14 weights: the key layout of ``dinov2_vitl14_pretrain.pth`` and its checks.

The official file (https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/
dinov2_vitl14_pretrain.pth, ~1.2 GB) is a plain ``torch.save`` state dict of the model that
``torch.hub.load('facebookresearch/dinov2', 'dinov2_vitl14')`` builds: Meta's
``vit_large(patch_size=14, img_size=518, init_values=1.0, block_chunks=0)`` from
``dinov2/models/vision_transformer.py`` (PyPI ``dinov2==0.0.1.dev2``). With
``block_chunks=0`` the blocks are a flat ``nn.ModuleList``, so their keys are
``blocks.<i>.…``; ``init_values=1.0`` gives each block LayerScale ``ls1``/``ls2`` (a
``gamma`` vector each); ``head`` is ``nn.Identity`` (no tensors); ``mask_token`` is a
parameter although inference never reads it.

No hash is published for the file, so it is judged by its contents: every expected key with
its exact shape and dtype (float32), nothing else, every value finite, and a file size that
fits. The layout is parameterised by depth so reduced-depth stand-ins (same widths, fewer
blocks) go through the same code; the app asks for the full 24 blocks.

numpy only (the reader is models.torch_reader: no pickled code runs).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import WeightsFormatError
from ..common.files import sha256_file  # noqa: F401 (re-exported for the builder)
from ..common.torch_layout import key_mismatch
from ..common.torch_reader import load_state_dict

MODEL_NAME = "dinov2-vitl14"
WEIGHTS_FILE = "dinov2_vitl14_pretrain.pth"
WEIGHTS_URL = ("https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/"
               "dinov2_vitl14_pretrain.pth")


@dataclass(frozen=True)
class ViTSpec:
    """Widths of Meta's ``vit_large(patch_size=14, img_size=518)``; depth may be reduced."""

    depth: int = 24
    embed_dim: int = 1024
    num_heads: int = 16
    mlp_dim: int = 4096  # mlp_ratio 4
    patch: int = 14
    train_grid: int = 37  # img_size 518 / patch 14: pos_embed has 37 * 37 + 1 rows
    in_chans: int = 3
    ln_eps: float = 1e-6  # partial(nn.LayerNorm, eps=1e-6)

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads


FULL = ViTSpec()


def expected_layout(spec: ViTSpec = FULL) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the state dict, in the order ``model.state_dict()`` lists them."""
    d, m, p, c = spec.embed_dim, spec.mlp_dim, spec.patch, spec.in_chans
    layout: dict[str, tuple[int, ...]] = {
        "cls_token": (1, 1, d),
        "pos_embed": (1, spec.train_grid * spec.train_grid + 1, d),
        "mask_token": (1, d),
        "patch_embed.proj.weight": (d, c, p, p),
        "patch_embed.proj.bias": (d,),
    }
    for i in range(spec.depth):
        b = f"blocks.{i}."
        layout.update({
            b + "norm1.weight": (d,), b + "norm1.bias": (d,),
            b + "attn.qkv.weight": (3 * d, d), b + "attn.qkv.bias": (3 * d,),
            b + "attn.proj.weight": (d, d), b + "attn.proj.bias": (d,),
            b + "ls1.gamma": (d,),
            b + "norm2.weight": (d,), b + "norm2.bias": (d,),
            b + "mlp.fc1.weight": (m, d), b + "mlp.fc1.bias": (m,),
            b + "mlp.fc2.weight": (d, m), b + "mlp.fc2.bias": (d,),
            b + "ls2.gamma": (d,),
        })
    layout["norm.weight"] = (d,)
    layout["norm.bias"] = (d,)
    return layout


def parameter_count(spec: ViTSpec = FULL) -> int:
    return sum(int(np.prod(s)) for s in expected_layout(spec).values())


def plausible_size_range(spec: ViTSpec = FULL) -> tuple[int, int]:
    """Bytes a torch.save file of this layout can take: the float32 payload plus torch's
    zip overhead (per-entry headers and 64-byte alignment, the pickle), generously."""
    payload = 4 * parameter_count(spec)
    n_keys = len(expected_layout(spec))
    return payload, payload + 4096 * n_keys + (1 << 20)


_BLOCK_KEY = re.compile(r"^blocks\.(\d+)\.")


def _describe_architecture(keys) -> str:
    """A hint for a file of another model: its depth / chunking, or a foreign prefix."""
    blocks = {int(m.group(1)) for k in keys if (m := _BLOCK_KEY.match(k))}
    if any(re.match(r"^blocks\.\d+\.\d+\.", k) for k in keys):
        return " (its blocks are chunked, 'blocks.<chunk>.<i>.…': not the hub layout)"
    if any(k.startswith(("module.", "teacher.", "student.", "backbone.")) for k in keys):
        return " (its keys carry a training-checkpoint prefix: not the released backbone)"
    if any("register_tokens" in k for k in keys):
        return " (it has register tokens: a '_reg' model, not dinov2_vitl14)"
    if blocks:
        return f" (it has {max(blocks) + 1} blocks)"
    return ""


def verify_tensors(tensors: dict[str, np.ndarray], spec: ViTSpec = FULL,
                   name: str = "the weights file") -> None:
    """Raise WeightsFormatError unless tensors are exactly the layout of spec, float32 and
    finite. The first problem found is named, with what was expected."""
    layout = expected_layout(spec)
    missing = [k for k in layout if k not in tensors]
    extra = [k for k in tensors if k not in layout]
    what = f"DINOv2 ViT-L/14 with {spec.depth} blocks"
    if missing or extra:
        raise WeightsFormatError(
            f"{name} is not the {what} state dict: {key_mismatch(missing, extra)}"
            f"{_describe_architecture(tensors)}. Use dinov2_vitl14_pretrain.pth.")
    for key, shape in layout.items():
        arr = tensors[key]
        if tuple(arr.shape) != shape:
            raise WeightsFormatError(
                f"{name}: tensor '{key}' has shape {tuple(arr.shape)}, expected {shape} "
                f"({what}). Wrong architecture; use dinov2_vitl14_pretrain.pth.")
        if arr.dtype != np.float32:
            raise WeightsFormatError(
                f"{name}: tensor '{key}' is {arr.dtype}, expected float32 (the released "
                "file is float32; a converted or quantised copy is not accepted).")
        if not np.isfinite(arr).all():
            bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            raise WeightsFormatError(
                f"{name}: tensor '{key}' holds {bad} NaN/infinite value(s): the file is "
                "corrupted. Download it again.")


def _verify_dtypes_on_disk(path: Path, name: str) -> None:
    """torch_reader widens every float storage to float32 on read; the released file is
    float32, so a half / bfloat16 / double storage in the pickle means a converted copy.
    (torch.save pickles with protocol 2: each storage class is a GLOBAL 'torch\\n<Name>\\n'.)"""
    if not zipfile.is_zipfile(path):
        return  # the legacy format: its size gives another dtype away (plausible_size_range)
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl")]
        data = zf.read(pkl[0]) if pkl else b""
    for storage, dtype in ((b"HalfStorage", "float16"), (b"BFloat16Storage", "bfloat16"),
                           (b"DoubleStorage", "float64")):
        if b"torch\n" + storage + b"\n" in data:
            raise WeightsFormatError(
                f"{name} stores tensors as {dtype}, expected float32 (the released file is "
                "float32; a converted copy is not accepted).")


def load_dinov2_weights(path: Path, spec: ViTSpec = FULL,
                        name: str | None = None) -> dict[str, np.ndarray]:
    """Read and verify a DINOv2 ViT-L/14 state dict; return its tensors by key.

    Refuses (WeightsFormatError) a file of implausible size before reading it, a file the
    restricted reader cannot parse (truncated, corrupted, not a state dict), and any
    departure from expected_layout(spec) (see verify_tensors). ``name`` is how messages call
    the file (default: its file name).
    """
    path = Path(path)
    name = name or path.name
    if not path.is_file():
        raise WeightsFormatError(f"weights file not found: {path}")
    lo, hi = plausible_size_range(spec)
    size = path.stat().st_size
    if not lo <= size <= hi:
        hint = "truncated (an interrupted download?)" if size < lo else "too large"
        raise WeightsFormatError(
            f"{name} is {size:,} bytes; the DINOv2 ViT-L/14 weights ({spec.depth} blocks, "
            f"float32) take {lo:,}–{hi:,} bytes: the file is {hint} or not those weights.")
    try:
        _verify_dtypes_on_disk(path, name)
        tensors = load_state_dict(path)
    except (zipfile.BadZipFile, EOFError, WeightsFormatError) as exc:
        if isinstance(exc, WeightsFormatError) and "expected float32" in str(exc):
            raise
        # BadZipFile: a damaged zip directory or a CRC mismatch (a flipped bit in a tensor)
        raise WeightsFormatError(f"{name} cannot be read as a PyTorch state dict ({exc}): "
                                 "the file is corrupted. Download it again.") from exc
    verify_tensors(tensors, spec, name)
    return tensors
