"""``build``: a CLIP image-encoder ONNX model from a weights file, into the user's data folder.

What the registry calls for networks ``clip-vitb32`` and ``clip-vitl14-336``
(registry.CLIP_VITB32, registry.CLIP_VITL14_336): the file is prechecked (a web page, the
official hash when it claims to be OpenAI's file, the architecture from its pickle: verify.py),
then graph.build_clip_model verifies every tensor and writes the model and its provenance
atomically. The provenance also says where the weights came from (``source``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..common.files import write_provenance
from ..errors import ModelBuildError
from ..paths import user_model_path
from ..registry import CLIP_VITB32, CLIP_VITL14_336
from .graph import build_clip_model
from .verify import precheck
from .weights import VITB32, ClipSpec

MODEL_FILES = {"vitb32": CLIP_VITB32.file_name,             # "clip_vitb32.onnx"
               "vitl14-336": CLIP_VITL14_336.file_name}     # "clip_vitl14_336.onnx"


def default_model_path(variant: str) -> Path:
    """``<user data dir>/models/clip_<variant>.onnx``, where ``model add`` writes it."""
    return user_model_path(MODEL_FILES[variant])


def check_output(out_path: Path) -> Path:
    """Refuse, before any work, an output path that is a folder."""
    out_path = Path(out_path)
    if out_path.is_dir():
        raise ModelBuildError(f"{out_path} is a folder: the model needs a file path")
    return out_path


def build(out_path: Path | None = None, *, weights: Path, spec: ClipSpec = VITB32,
          source: str | None = None, official_sha256: str | None = None,
          progress: Callable[[str], None] | None = None,
          cancelled: Callable[[], bool] = lambda: False) -> dict:
    """Verify ``weights`` (OpenAI's file of spec, or a state dict of the same model), write
    the ONNX image encoder at out_path (default: default_model_path(spec.variant)) and its
    provenance JSON beside it; return the provenance.

    source: where the weights came from, recorded as ``source`` (default: the file's path).
    official_sha256: the hash the file must have (verify.precheck). Nothing is written for a
    refused file (WeightsFormatError / HashMismatchError, one line)."""
    out_path = check_output(out_path if out_path is not None
                            else default_model_path(spec.variant))
    weights = Path(weights)
    official = precheck(weights, spec, official_sha256=official_sha256)
    prov = build_clip_model(weights, out_path, spec, progress, official=official, cancelled=cancelled)
    prov["source"] = source or f"file {weights.resolve()}"
    write_provenance(out_path, prov)
    return prov
