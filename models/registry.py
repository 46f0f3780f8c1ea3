"""The networks this app builds, one line each.

A network is a subpackage of models/ (``models/inception/`` for the FID Inception) whose
``build(out_path, ...)`` writes the ONNX model and its ``<model>.json`` provenance and returns
that provenance. This table says which package builds which file; paths.py says where built
files are looked for. A network that is not shipped (its weights are large or fetched only on
request) names an ``enable`` function, ``"module:function"``: ``model add NAME`` and the app's
"Enable …" call it to obtain the weights (download or file), verify them and build the model
into the user's data folder. Pure data: importing it imports no network.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Network:
    name: str        # as the CLI, results and provenance name it
    file_name: str   # the built model's file name (searched for by paths.find_model)
    package: str     # the subpackage whose build() writes it
    summary: str
    enable: str | None = None  # "module:function" that obtains the weights and builds it


FID_INCEPTION = Network(
    "fid_inception", "fid_inception.onnx", "models.inception",
    "TF Inception-v3 2015-12-05 as FID uses it: pool3 (2048), sFID's mixed_6/conv (2023), "
    "the Inception Score head when added")

DINOV2_VITL14 = Network(
    "dinov2-vitl14", "dinov2_vitl14.onnx", "models.dinov2",
    "DINOv2 ViT-L/14 (Meta's dinov2_vitl14_pretrain.pth, 1.2 GB, not shipped): the CLS token "
    "after the final norm (1024), the feature space of FD_DINOv2",
    enable="models.dinov2.enable:enable_dinov2")

CLIP_VITB32 = Network(
    "clip-vitb32", "clip_vitb32.onnx", "models.clip",
    "OpenAI CLIP ViT-B/32 image encoder (OpenAI's ViT-B-32.pt, 354 MB, not shipped): "
    "encode_image (512), the feature space of CLIP-FID (clean-fid's clip_vit_b_32)",
    enable="models.clip.enable:enable_clip_vitb32")

CLIP_VITL14_336 = Network(
    "clip-vitl14-336", "clip_vitl14_336.onnx", "models.clip",
    "OpenAI CLIP ViT-L/14@336px image encoder (OpenAI's ViT-L-14-336px.pt, 934 MB, not "
    "shipped): encode_image (768), the embedding of CMMD",
    enable="models.clip.enable:enable_clip_vitl14_336")

CLIP_VITL14 = Network(
    "clip-vitl14", "clip_vitl14.onnx", "models.clip",
    "OpenAI CLIP ViT-L/14 at 224 px (OpenAI's ViT-L-14.pt, about 933 MB, not shipped): "
    "encode_image and encode_text (768), the model of CLIPScore (torchmetrics)",
    enable="models.clip.enable:enable_clip_vitl14")

NETWORKS = {n.name: n for n in (
    FID_INCEPTION,
    DINOV2_VITL14,
    CLIP_VITB32,
    CLIP_VITL14_336,
    CLIP_VITL14,
)}


def _network(name: str) -> Network:
    try:
        return NETWORKS[name]
    except KeyError:
        raise ValueError(f"unknown network {name!r}; known: {', '.join(NETWORKS)}") from None


def builder(name: str) -> Callable[..., dict]:
    """The ``build`` function of network ``name`` (its package is imported now)."""
    return importlib.import_module(_network(name).package).build


def addable() -> list[str]:
    """Names of the networks ``model add NAME`` can add (those with an ``enable``)."""
    return [n.name for n in NETWORKS.values() if n.enable]


def enabler(name: str) -> Callable[..., dict]:
    """The ``enable`` function of network ``name`` (imported now); ValueError for a network
    that is unknown or cannot be added."""
    network = _network(name)
    if not network.enable:
        raise ValueError(f"{name} cannot be added; can be added: {', '.join(addable())}")
    module, _, function = network.enable.partition(":")
    return getattr(importlib.import_module(module), function)


def official_source(name: str):
    """The official download of network ``name``'s weights (a models.common.download.RemoteFile),
    as its enable module names it (``official_source(name)`` beside the ``enable`` function)."""
    module = enabler(name).__module__
    return importlib.import_module(module).official_source(name)
