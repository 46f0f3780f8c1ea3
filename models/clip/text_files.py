"""The file names of a CLIP variant's two built encoders (found by models.paths.find_model)."""
from __future__ import annotations

from ..registry import NETWORKS


def image_model_file(variant: str) -> str:
    """'vitl14' -> 'clip_vitl14.onnx': the registry's file of network clip-<variant> (a
    variant the registry does not list, e.g. a test's tiny CLIP: clip_<variant>.onnx)."""
    network = NETWORKS.get(f"clip-{variant}")
    return network.file_name if network else f"clip_{variant.replace('-', '_')}.onnx"


def text_model_file(variant: str) -> str:
    """'vitl14' -> 'clip_vitl14_text.onnx', built beside the image encoder by ``model add``."""
    return image_model_file(variant).removesuffix(".onnx") + "_text.onnx"
