"""The file names of a CLIP variant's two built encoders (found by models.paths.find_model)."""
from __future__ import annotations

from ..registry import NETWORKS


def image_model_file(variant: str) -> str:
    """'vitl14' -> 'clip_vitl14.onnx' (the registry's file of network clip-<variant>)."""
    try:
        return NETWORKS[f"clip-{variant}"].file_name
    except KeyError:
        raise ValueError(f"unknown CLIP variant {variant!r}") from None


def text_model_file(variant: str) -> str:
    """'vitl14' -> 'clip_vitl14_text.onnx', built beside the image encoder by ``model add``."""
    return image_model_file(variant).removesuffix(".onnx") + "_text.onnx"
