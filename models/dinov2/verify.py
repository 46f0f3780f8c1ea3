"""Is a file the DINOv2 ViT-L/14 weights? The checks ``model add dinov2-vitl14`` runs on a given
or downloaded ``.pth`` (no hash is published for it, so it is judged by its contents).

In the order they run, each refusal one WeightsFormatError / ModelBuildError line:

1. the path is a readable file (models.errors.check_weights_file);
2. its pickle alone (a few kB, no tensor data read) names the architecture: another width
   (ViT-S/B/g), patch size, depth, register tokens, chunked blocks or a training-checkpoint
   prefix is refused by name ("it holds a ViT-B/14 (768 wide, 12 blocks)");
3. every tensor read and checked (weights.load_dinov2_weights): the file size plausible
   (else truncated), readable (else corrupted), every expected key with its exact shape and
   dtype, nothing unexpected, all values finite.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..common.torch_layout import peek_layout, state_dict_layout
from ..errors import WeightsFormatError, check_weights_file
from .weights import FULL, WEIGHTS_FILE, ViTSpec, load_dinov2_weights

# DINOv2's released backbones by width (dinov2/hub/backbones.py: vits14 ... vitg14)
_FAMILY = {384: "ViT-S", 768: "ViT-B", 1024: "ViT-L", 1536: "ViT-g"}
_BLOCK = re.compile(r"^blocks\.(\d+)\.")
_CHUNKED = re.compile(r"^blocks\.\d+\.\d+\.")
_PREFIXES = ("module.", "teacher.", "student.", "backbone.", "model.")


def architecture(layout: dict[str, tuple[tuple[int, ...], np.dtype]]) -> dict:
    """What a state dict's keys and shapes say it is: width, patch, depth, register tokens,
    chunked blocks, a training prefix (values None where the file does not tell)."""
    keys = list(layout)
    patch = layout.get("patch_embed.proj.weight")
    cls = layout.get("cls_token")
    width = patch[0][0] if patch else (cls[0][-1] if cls else None)
    blocks = {int(m.group(1)) for k in keys if (m := _BLOCK.match(k))}
    return {
        "width": width,
        "patch": patch[0][-1] if patch and len(patch[0]) == 4 else None,
        "depth": max(blocks) + 1 if blocks else None,
        "registers": any("register_tokens" in k for k in keys),
        "chunked": any(_CHUNKED.match(k) for k in keys),
        "prefix": next((p for p in _PREFIXES if any(k.startswith(p) for k in keys)), None),
    }


def _describe(arch: dict) -> str:
    if arch["prefix"]:
        return (f"a training checkpoint (its keys start with '{arch['prefix']}'), not the "
                "released backbone")
    if arch["chunked"]:
        return "blocks chunked as 'blocks.<chunk>.<i>.…' (block_chunks > 0), not the hub layout"
    if arch["width"] is None:
        return "no ViT patch embedding: not a DINOv2 backbone"
    family = _FAMILY.get(arch["width"], "ViT")
    name = f"{family}/{arch['patch']}" if arch["patch"] else family
    extra = ", with register tokens: a '_reg' model" if arch["registers"] else ""
    depth = f", {arch['depth']} blocks" if arch["depth"] is not None else ""
    return f"a {name} ({arch['width']} wide{depth}{extra})"


def check_architecture(path: Path, spec: ViTSpec = FULL, name: str | None = None) -> None:
    """Refuse, by what it is, a file whose pickle shows another architecture than spec. Cheap
    (reads the pickle only); a file it cannot read that far passes on to the full checks,
    which say truncated or corrupted."""
    path = Path(path)
    name = name or path.name
    layout = peek_layout(path, state_dict_layout)
    if layout is None:
        return
    arch = architecture(layout)
    if (arch["width"] == spec.embed_dim and arch["patch"] == spec.patch
            and arch["depth"] == spec.depth and not (arch["registers"] or arch["chunked"]
                                                     or arch["prefix"])):
        return
    want = _describe({"width": spec.embed_dim, "patch": spec.patch, "depth": spec.depth,
                      "registers": False, "chunked": False, "prefix": None})
    raise WeightsFormatError(f"{name} is not the DINOv2 ViT-L/14 weights: it holds "
                             f"{_describe(arch)}, expected {want}. Use {WEIGHTS_FILE}")


def verify_weights_file(path: Path, spec: ViTSpec = FULL, name: str | None = None,
                        flag: str = "--weights") -> None:
    """Every check above; returns only for the DINOv2 ViT-L/14 weights (of spec's depth)."""
    check_weights_file(path, WEIGHTS_FILE, flag=flag)
    check_architecture(path, spec, name)
    load_dinov2_weights(path, spec, name)  # reads every tensor; dropped on return
