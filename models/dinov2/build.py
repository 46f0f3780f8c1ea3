"""``build``: the DINOv2 ViT-L/14 ONNX model from a weights file, into the user's data folder.

What the registry calls for network ``dinov2-vitl14`` (registry.DINOV2_VITL14): the file's
architecture is checked from its pickle first (cheap, refused by name: verify.py), then
graph.build_dinov2_model verifies every tensor and writes the model and its provenance
atomically. The provenance also says where the weights came from (``source``: the URL or the
file).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..common.files import write_provenance
from ..errors import ModelBuildError
from ..paths import user_model_path
from ..registry import DINOV2_VITL14
from .graph import build_dinov2_model
from .verify import check_architecture
from .weights import FULL, ViTSpec

MODEL_FILE = DINOV2_VITL14.file_name  # "dinov2_vitl14.onnx"


def default_model_path() -> Path:
    """``<user data dir>/models/dinov2_vitl14.onnx``, where ``model add`` writes it."""
    return user_model_path(MODEL_FILE)


def check_output(out_path: Path) -> Path:
    """Refuse, before any work, an output path that is a folder."""
    out_path = Path(out_path)
    if out_path.is_dir():
        raise ModelBuildError(f"{out_path} is a folder: the model needs a file path")
    return out_path


def build(out_path: Path | None = None, *, weights: Path, source: str | None = None,
          spec: ViTSpec = FULL, progress: Callable[[str], None] | None = None,
          cancelled: Callable[[], bool] = lambda: False) -> dict:
    """Verify ``weights`` (a dinov2_vitl14_pretrain.pth), write the ONNX model at out_path
    (default: default_model_path()) and its provenance JSON beside it; return the provenance.

    source: where the weights came from, recorded as ``source`` (default: the file's path).
    Nothing is written for a refused file (WeightsFormatError, one line)."""
    out_path = check_output(out_path if out_path is not None else default_model_path())
    weights = Path(weights)
    check_architecture(weights, spec)
    prov = build_dinov2_model(weights, out_path, spec, progress, cancelled)
    prov["source"] = source or f"file {weights.resolve()}"
    write_provenance(out_path, prov)
    return prov
