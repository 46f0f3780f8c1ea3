"""Feature-space table: each network a run can take features from, as data.

A space names its network, the model file that holds it (found with
``models.find_model(model_file)``) and how that file is made, the Options field that overrides
that file (``dinov2_model_path``...), the input size, the output used, the feature dimension,
and its conventions: each convention is a preprocessing that equals one published tool (for
Inception the three presets, whose numbers do not move). A space also names the distance
metrics it reports (``SpaceMetric``: FID, FD_DINOv2, CLIP-FID are Fréchet distances between
Gaussian moments; CMMD is an MMD over the embeddings themselves) and why it cannot run without
its model. ``selectable`` spaces are values of the ``feature_space`` option (KID, precision/
recall... in that space); the others feed their own metrics only.

The conventions are ``presets.Preset`` objects (name, equals, resize, prepare: an HxWx3 uint8
image to the model's normalised CHW float32 input), so the pipeline runs any of them alike.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from . import clip_preprocess, dinov2_preprocess
from .presets import DEFAULT_PRESET, PRESETS, Preset

FRECHET = "frechet"   # Fréchet distance of the two sets' Gaussian moments (FID's formula)
MMD = "mmd"           # maximum mean discrepancy: needs the embeddings, not moments


@dataclass(frozen=True)
class SpaceMetric:
    name: str                  # the metric name users type (and its result key)
    label: str                 # its heading
    distance: str              # FRECHET | MMD
    min_images: int = 0        # fewer images on a side: warned as biased


@dataclass(frozen=True)
class FeatureSpace:
    name: str                  # "inception" | "dinov2" | "clip" | "clip-l14-336"
    label: str                 # how tables and reports name the space
    network: str               # the network's name in results and provenance
    model_file: str            # models.find_model(model_file)
    build: str                 # how the model file is made (the command a user runs)
    input_size: int
    output: str                # the model output taken as the feature
    dim: int
    conventions: dict          # name -> Preset (the published tool it equals, its preprocessing)
    default_convention: str
    metrics: tuple = ()        # SpaceMetric: the distances reported in this space
    path_option: str | None = None   # the Options field naming the model file (tests, scripts)
    selectable: bool = True    # a value of the feature_space option

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


def _clip_convention(name: str, equals: str, resize: str) -> Preset:
    def prepare(image, _c=name):
        return clip_preprocess.preprocess(image, _c)
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
CLIP_B32_CONVENTIONS = {c.name: c for c in (
    _clip_convention(
        "clean-fid", "clean-fid 0.1.35 compute_fid(model_name='clip_vit_b_32'), CPU float32",
        "PIL bicubic (antialiased), shorter side to 224, centre crop 224, uint8; CLIP normalisation"),
)}
CLIP_L336_CONVENTIONS = {c.name: c for c in (
    _clip_convention(
        "cmmd", "CMMD (google-research cmmd, Jayasumana et al. CVPR 2024)",
        "centre crop to a square, PIL bicubic to 336x336, /255; CLIP normalisation"),
)}

# CLIPScore's image towers (the text towers are not feature spaces: engine/run/clip_score_run.py)
CLIPSCORE_L14_CONVENTIONS = {c.name: c for c in (
    _clip_convention(
        "torchmetrics", "torchmetrics 1.9 CLIPScore(model_name_or_path='openai/clip-vit-large-patch14')",
        "Hugging Face CLIPImageProcessor: shorter side to 224, centre crop 224, rescale; CLIP normalisation"),
)}
CLIPSCORE_B32_CONVENTIONS = {c.name: c for c in (
    _clip_convention(
        "hessel", "CLIPScore of Hessel et al. 2021 (jmhessel/clipscore, ViT-B/32)",
        "the clip package's transform: shorter side to 224 (bicubic), centre crop 224; CLIP normalisation"),
)}

ALL_SPACES: dict[str, FeatureSpace] = {s.name: s for s in (
    FeatureSpace("inception", "Inception", "fid-inception-v3", "fid_inception.onnx",
                 "python main.py model build", 299, "features", 2048, PRESETS, DEFAULT_PRESET,
                 (SpaceMetric("fid", "FID", FRECHET),)),
    FeatureSpace("dinov2", "DINOv2", "dinov2-vitl14", "dinov2_vitl14.onnx",
                 "python main.py model add dinov2-vitl14 --download", dinov2_preprocess.IMAGE_SIZE,
                 "features", 1024, DINOV2_CONVENTIONS, "dgm-eval",
                 (SpaceMetric("fd_dinov2", "FD_DINOv2", FRECHET, min_images=1024),),
                 path_option="dinov2_model_path"),
    FeatureSpace("clip", "CLIP ViT-B/32", "clip-vitb32", "clip_vitb32.onnx",
                 "python main.py model add clip-vitb32 --download", clip_preprocess.IMAGE_SIZE["clean-fid"],
                 "features", 512, CLIP_B32_CONVENTIONS, "clean-fid",
                 (SpaceMetric("clip_fid", "CLIP-FID", FRECHET, min_images=1024),),
                 path_option="clip_model_path"),
    FeatureSpace("clip-l14-336", "CLIP ViT-L/14@336", "clip-vitl14-336", "clip_vitl14_336.onnx",
                 "python main.py model add clip-vitl14-336 --download", clip_preprocess.IMAGE_SIZE["cmmd"],
                 "features", 768, CLIP_L336_CONVENTIONS, "cmmd",
                 (SpaceMetric("cmmd", "CMMD", MMD),),
                 path_option="clip_l336_model_path", selectable=False),
    FeatureSpace("clip-l14", "CLIP ViT-L/14", "clip-vitl14", "clip_vitl14.onnx",
                 "python main.py model add clip-vitl14 --download", clip_preprocess.IMAGE_SIZE["torchmetrics"],
                 "features", 768, CLIPSCORE_L14_CONVENTIONS, "torchmetrics",
                 path_option="clip_vitl14_model_path", selectable=False),
    # the ViT-B/32 of the "clip" space with CLIPScore's own preprocessing (hessel)
    FeatureSpace("clip-b32-hessel", "CLIP ViT-B/32", "clip-vitb32", "clip_vitb32.onnx",
                 "python main.py model add clip-vitb32 --download", clip_preprocess.IMAGE_SIZE["hessel"],
                 "features", 512, CLIPSCORE_B32_CONVENTIONS, "hessel",
                 path_option="clip_model_path", selectable=False),
)}
# CLIPScore's conventions -> the space of its image tower (engine/metrics/clip_score.py's
# CONVENTION_NETWORK names the same networks; tests/test_clip_score_run.py checks it)
CLIPSCORE_SPACES = {"torchmetrics": "clip-l14", "hessel": "clip-b32-hessel"}
# the values of the feature_space option (what the CLI and the GUI offer)
SPACES: dict[str, FeatureSpace] = {n: s for n, s in ALL_SPACES.items() if s.selectable}
DEFAULT_SPACE = "inception"
# the metrics whose features come from the space the user picks (option feature_space);
# FID/sFID/FID∞/the interval/IS/GAN-train/test stay Inception's
SPACE_METRICS = ("kid", "pr")
# every distance metric of a space -> (space name, SpaceMetric)
DISTANCE_METRICS = {m.name: (s.name, m) for s in ALL_SPACES.values() for m in s.metrics}
# the Fréchet distances -> their space (fid, fd_dinov2, clip_fid)
FD_METRICS = {name: space for name, (space, m) in DISTANCE_METRICS.items() if m.distance == FRECHET}


def get_space(name: str) -> FeatureSpace:
    """Any space of the table (``feature_space`` takes the selectable ones: ``feature_space``)."""
    try:
        return ALL_SPACES[name]
    except KeyError:
        raise OptionError(f"unknown feature space {name!r}; valid: {', '.join(SPACES)}") from None


def feature_space(name: str) -> FeatureSpace:
    """The space of the ``feature_space`` option: a selectable one."""
    if name not in SPACES:
        raise OptionError(f"unknown feature space {name!r}; valid: {', '.join(SPACES)}")
    return SPACES[name]


def cache_convention(space: FeatureSpace, convention: Preset) -> str:
    """The convention part of a feature-cache key: the preset name alone for Inception (so
    the entries made before spaces existed stay valid), ``space/convention`` otherwise."""
    return convention.name if space.name == "inception" else f"{space.name}/{convention.name}"


def tag(space: FeatureSpace, convention: Preset) -> str:
    """``inception/clean``, ``dinov2/dgm-eval``: how results record where a number comes from."""
    return f"{space.name}/{convention.name}"
