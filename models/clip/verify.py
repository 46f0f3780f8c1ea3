"""Is a file OpenAI's CLIP ViT-B/32 or ViT-L/14@336px? The checks ``model add clip-…`` runs.

In the order they run, each refusal one WeightsFormatError / HashMismatchError line:

1. the path is a readable file (models.errors.check_weights_file), not a web page;
2. the official file (named as OpenAI names it, or downloaded from its URL): its SHA-256 must
   be the one in the official URL (clip/clip.py checks the same); both hashes are said;
3. its pickle alone (no tensor data read) names the architecture: a ResNet CLIP, another ViT
   (ViT-B/16 given as ViT-L/14@336px: width, patch, resolution, depth) is refused by name;
4. a plausible size for this model stored in float16 or float32 (else truncated);
5. every tensor read: readable (else corrupted), every expected key of both towers with its
   exact shape, stored as float16 or float32, nothing unexpected (but the three scalars a
   TorchScript archive carries), all values finite.

The weights' SHA-256 is recorded in the model's provenance by the builder (graph.py).
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from ..common.files import sha256_file
from ..common.torch_layout import archive_layout, key_mismatch, peek_layout
from ..common.torch_reader import read_tensors
from ..errors import HashMismatchError, WeightsFormatError, check_weights_file
from .weights import SCALAR_KEYS, ClipSpec, clip_load_values, expected_layout, plausible_size_range

_BLOCK = re.compile(r"^visual\.transformer\.resblocks\.(\d+)\.")
_STORED = {np.dtype("<f2"): "float16", np.dtype("<f4"): "float32", np.dtype("<f8"): "float64",
           np.dtype("<u2"): "bfloat16"}


def _html(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(512).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml"))


def architecture(layout: dict) -> dict:
    """What the image tower's keys and shapes say it is (None where the file does not tell)."""
    conv = layout.get("visual.conv1.weight")
    pos = layout.get("visual.positional_embedding")
    blocks = {int(m.group(1)) for k in layout if (m := _BLOCK.match(k))}
    patch = conv[0][-1] if conv and len(conv[0]) == 4 else None
    grid = round((pos[0][0] - 1) ** 0.5) if pos and len(pos[0]) == 2 else None
    return {"resnet": any(k.startswith("visual.layer1.") for k in layout),
            "width": conv[0][0] if conv else None, "patch": patch,
            "image_size": patch * grid if patch and grid else None,
            "depth": max(blocks) + 1 if blocks else None}


def _describe(arch: dict) -> str:
    if arch["resnet"]:
        return "a ResNet CLIP (RN50 family), not a ViT"
    if arch["width"] is None or arch["patch"] is None:
        return "no CLIP image tower ('visual.conv1.weight')"
    family = {768: "ViT-B", 1024: "ViT-L", 1280: "ViT-H"}.get(arch["width"], "ViT")
    name = f"{family}/{arch['patch']}"
    if arch["image_size"] not in (None, 224):
        name += f"@{arch['image_size']}px"
    depth = f", {arch['depth']} blocks" if arch["depth"] is not None else ""
    return f"a {name} ({arch['width']} wide{depth}, {arch['image_size']} px)"


def _want(spec: ClipSpec) -> dict:
    return {"resnet": False, "width": spec.width, "patch": spec.patch,
            "image_size": spec.image_size, "depth": spec.layers}


def check_architecture(path: Path, spec: ClipSpec, name: str | None = None) -> None:
    """Refuse, by what it is, a file whose pickle shows another model than spec. Cheap (reads
    the pickle only); a file it cannot read that far passes on to the full checks, which say
    truncated or corrupted."""
    path = Path(path)
    name = name or path.name
    layout = peek_layout(path)
    if layout is None:
        return
    arch = architecture(layout)
    if arch == _want(spec):
        return
    raise WeightsFormatError(f"{name} is not the CLIP {spec.label} weights: it holds "
                             f"{_describe(arch)}, expected {_describe(_want(spec))}. "
                             f"Use {spec.file_name}")


def check_official(path: Path, spec: ClipSpec, name: str, official_sha256: str) -> str:
    """The SHA-256 of a file that claims to be OpenAI's: it must be the official one."""
    actual = sha256_file(path)
    if actual != official_sha256:
        raise HashMismatchError(
            f"{name} claims to be OpenAI's {spec.file_name} but its SHA-256 is {actual}, the "
            f"official file's is {official_sha256}: damaged or not the genuine file")
    return actual


def verify_tensors(tensors: dict[str, np.ndarray], stored: dict, spec: ClipSpec,
                   name: str, official: bool = False) -> None:
    """Raise WeightsFormatError unless tensors are exactly the layout of spec (both towers),
    stored as float16 or float32 (``stored``: key -> (shape, dtype) on disk), and finite.
    official: the file's hash is OpenAI's; then tensors the module tree holds beyond its
    state dict are let be (they are not read)."""
    layout = expected_layout(spec)
    missing = [k for k in layout if k not in tensors]
    extra = [] if official else [k for k in tensors if k not in layout and k not in SCALAR_KEYS]
    what = f"CLIP {spec.label} with {spec.layers} image blocks"
    if missing or extra:
        raise WeightsFormatError(f"{name} is not the {what}: {key_mismatch(missing, extra)}. "
                                 f"Use {spec.file_name}")
    for key, shape in layout.items():
        arr = tensors[key]
        if tuple(arr.shape) != shape:
            raise WeightsFormatError(
                f"{name}: tensor '{key}' has shape {tuple(arr.shape)}, expected {shape} "
                f"({what}). Wrong architecture; use {spec.file_name}")
        dtype = stored.get(key, (None, np.dtype("<f4")))[1]
        if dtype not in (np.dtype("<f2"), np.dtype("<f4")):
            raise WeightsFormatError(
                f"{name}: tensor '{key}' is stored as {_STORED.get(dtype, str(dtype))}, "
                "expected float16 or float32 (OpenAI's files are float16; a float32 copy is "
                "accepted, a quantised or bfloat16 one is not)")
        if not np.isfinite(arr).all():
            bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
            raise WeightsFormatError(
                f"{name}: tensor '{key}' holds {bad} NaN/infinite value(s): the file is "
                "corrupted. Download it again.")


def load_clip_weights(path: Path, spec: ClipSpec, name: str | None = None,
                      official: bool = False) -> dict[str, np.ndarray]:
    """Read and verify a CLIP file (TorchScript archive or torch.save state dict); return its
    tensors as clip.load(..., device="cpu") computes with them (weights.clip_load_values),
    both towers, by key (nothing else). official: see verify_tensors."""
    path = Path(path)
    name = name or path.name
    lo, hi = plausible_size_range(spec)
    size = path.stat().st_size
    if not lo <= size <= hi:
        hint = "truncated (an interrupted download?)" if size < lo else "too large"
        raise WeightsFormatError(
            f"{name} is {size:,} bytes; the CLIP {spec.label} weights ({spec.layers} image "
            f"blocks, float16 or float32) take {lo:,}–{hi:,} bytes: the file is {hint} or "
            "not those weights")
    try:
        stored = archive_layout(path)
        tensors = read_tensors(path)
    except (zipfile.BadZipFile, EOFError, WeightsFormatError) as exc:
        # BadZipFile: a damaged zip directory or a CRC mismatch (a flipped bit in a tensor)
        raise WeightsFormatError(f"{name} cannot be read as a PyTorch file ({exc}): the file "
                                 "is corrupted. Download it again.") from exc
    verify_tensors(tensors, stored, spec, name, official)
    layout = expected_layout(spec)
    return clip_load_values({k: v for k, v in tensors.items() if k in layout})


def official_sha256_for(path: Path, spec: ClipSpec) -> str | None:
    """The official SHA-256 when the file claims to be OpenAI's by its name, else None."""
    return spec.sha256 if Path(path).name == spec.file_name else None


def precheck(path: Path, spec: ClipSpec, name: str | None = None, flag: str = "--weights",
             official_sha256: str | None = None) -> bool:
    """Checks 1-3 (nothing but the pickle is read, and the file hashed when it claims to be
    OpenAI's). official_sha256: the hash the file must have (a download from the official
    URL); by default the official one when the file carries the official name. Returns
    whether the file's hash was checked to be OpenAI's."""
    path = Path(path)
    name = name or path.name
    check_weights_file(path, spec.file_name, flag=flag)
    if _html(path):
        raise WeightsFormatError(f"{name} is a web page (HTML), not the weights file: "
                                 "download it again (a proxy login or captive portal?)")
    official = official_sha256 or official_sha256_for(path, spec)
    if official is not None:
        check_official(path, spec, name, official)
    check_architecture(path, spec, name)
    return official == spec.sha256


def verify_weights_file(path: Path, spec: ClipSpec, name: str | None = None,
                        flag: str = "--weights", official_sha256: str | None = None,
                        ) -> dict[str, np.ndarray]:
    """Every check above; returns the tensors (load_clip_weights) only for weights of spec."""
    official = precheck(path, spec, name, flag, official_sha256)
    return load_clip_weights(path, spec, name, official=official)
