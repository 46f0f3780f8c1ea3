"""``build``: a CLIP variant's two ONNX encoders from one weights file, into the user's data folder.

What the registry calls for networks ``clip-vitb32``, ``clip-vitl14`` and ``clip-vitl14-336``:
the file is prechecked (a web page, the official hash when it claims to be OpenAI's file, the
architecture from its pickle: verify.py) and read once; graph.build_clip_model writes the image
encoder (``clip_<variant>.onnx``), text_graph.build_text_model the text encoder
(``clip_<variant>_text.onnx``, beside it), each with its provenance, atomically. The provenance
also says where the weights came from (``source``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..common.files import write_provenance
from ..errors import ModelBuildError
from ..paths import user_model_path
from .graph import build_clip_model
from .text_files import image_model_file, text_model_file
from .text_graph import build_text_model
from .verify import load_clip_weights, precheck
from .weights import SPECS, VITB32, ClipSpec

MODEL_FILES = {v: image_model_file(v) for v in SPECS}  # "clip_vitb32.onnx", ...


def default_model_path(variant: str) -> Path:
    """``<user data dir>/models/clip_<variant>.onnx``, where ``model add`` writes it."""
    return user_model_path(MODEL_FILES[variant])


def text_path_beside(image_path: Path, variant: str) -> Path:
    """The text encoder's path: beside the image encoder, under text_model_file(variant)."""
    return Path(image_path).with_name(text_model_file(variant))


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
    the ONNX image encoder at out_path (default: default_model_path(spec.variant)) and the
    text encoder beside it (text_path_beside), each with its provenance JSON; return the image
    encoder's provenance, with ``text_model`` {path, model_sha256} added.

    source: where the weights came from, recorded as ``source`` (default: the file's path).
    official_sha256: the hash the file must have (verify.precheck). Nothing is written for a
    refused file (WeightsFormatError / HashMismatchError, one line)."""
    out_path = check_output(out_path if out_path is not None
                            else default_model_path(spec.variant))
    text_out = check_output(text_path_beside(out_path, spec.variant))
    weights = Path(weights)
    official = precheck(weights, spec, official_sha256=official_sha256)
    read: dict = {}

    def load() -> dict:  # one read: the image build takes its keys, the text tower's stay
        read["tensors"] = load_clip_weights(weights, spec, official=official)
        return read["tensors"]
    prov = build_clip_model(weights, out_path, spec, progress, official=official,
                            cancelled=cancelled, load=load)
    text = build_text_model(weights, text_out, spec, progress, official=official,
                            cancelled=cancelled, load=lambda: read.pop("tensors"))
    origin = source or f"file {weights.resolve()}"
    text["source"] = prov["source"] = origin
    write_provenance(text_out, text)
    prov["text_model"] = {"path": str(text_out), "model_sha256": text["model_sha256"]}
    write_provenance(out_path, prov)
    return prov
