"""Feature-space table: each network a run can take features from, as data.

A space names its network, the model file that holds it (found with
``models.find_model(model_file)``) and how that file is made, the input size, the output
used, the feature dimension, and its conventions: each convention is a preprocessing that
equals one published tool (for Inception the three presets, whose numbers do not move). A
space also names the Fréchet-distance metric it reports (``fid``, ``fd_dinov2``) and why it
cannot run without its model. CLIP spaces are more rows here.

The conventions are ``presets.Preset`` objects (name, equals, resize, prepare: an HxWx3 uint8
image to the model's normalised CHW float32 input), so the pipeline runs any of them alike.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from . import dinov2_preprocess
from .presets import DEFAULT_PRESET, PRESETS, Preset


@dataclass(frozen=True)
class FeatureSpace:
    name: str                  # "inception" | "dinov2" (the option value)
    label: str                 # how tables and reports name the space
    network: str               # the network's name in results and provenance
    model_file: str            # models.find_model(model_file)
    build: str                 # how the model file is made (the command a user runs)
    input_size: int
    output: str                # the model output taken as the feature
    dim: int
    conventions: dict          # name -> Preset (the published tool it equals, its preprocessing)
    default_convention: str
    fd_metric: str             # the metric that reports the Fréchet distance in this space
    fd_label: str              # its heading

    def convention(self, name: str | None) -> Preset:
        name = name or self.default_convention
        try:
            return self.conventions[name]
        except KeyError:
            raise OptionError(f"unknown {self.name} convention {name!r}; valid: "
                              f"{', '.join(self.conventions)}") from None

    @property
    def missing_reason(self) -> str:
        return f"{self.label} model not added ({self.build})"


def _dinov2_convention(name: str, equals: str, resize: str) -> Preset:
    def prepare(image, _c=name):
        return dinov2_preprocess.preprocess(image, _c)
    return Preset(name, equals, resize, prepare)


DINOV2_CONVENTIONS = {c.name: c for c in (
    _dinov2_convention(
        "dgm-eval", "dgm-eval (layer6ai-labs, Stein et al. 2023) FD_DINOv2",
        "PIL bicubic (antialiased) to 224x224, uint8, aspect squashed; ImageNet normalisation"),
    _dinov2_convention(
        "edm2", "EDM2 calculate_metrics.py DINOv2Detector (resize_mode='torch')",
        "torch F.interpolate bicubic antialias=True to 224x224 on 0-255 floats, not rounded; "
        "ImageNet normalisation"),
)}

SPACES: dict[str, FeatureSpace] = {s.name: s for s in (
    FeatureSpace("inception", "Inception", "fid-inception-v3", "fid_inception.onnx",
                 "python main.py model build", 299, "features", 2048, PRESETS, DEFAULT_PRESET,
                 "fid", "FID"),
    FeatureSpace("dinov2", "DINOv2", "dinov2-vitl14", "dinov2_vitl14.onnx",
                 "python main.py model add dinov2-vitl14 --download", dinov2_preprocess.IMAGE_SIZE,
                 "features", 1024, DINOV2_CONVENTIONS, "dgm-eval", "fd_dinov2", "FD_DINOv2"),
)}
DEFAULT_SPACE = "inception"
# the metrics whose features come from the space the user picks (option feature_space);
# FID/sFID/FID∞/the interval/IS/GAN-train/test stay Inception's
SPACE_METRICS = ("kid", "pr")
FD_METRICS = {s.fd_metric: s.name for s in SPACES.values()}


def get_space(name: str) -> FeatureSpace:
    try:
        return SPACES[name]
    except KeyError:
        raise OptionError(f"unknown feature space {name!r}; valid: {', '.join(SPACES)}") from None


def cache_convention(space: FeatureSpace, convention: Preset) -> str:
    """The convention part of a feature-cache key: the preset name alone for Inception (so
    the entries made before spaces existed stay valid), ``space/convention`` otherwise."""
    return convention.name if space.name == "inception" else f"{space.name}/{convention.name}"


def tag(space: FeatureSpace, convention: Preset) -> str:
    """``inception/clean``, ``dinov2/dgm-eval``: how results record where a number comes from."""
    return f"{space.name}/{convention.name}"
