"""The networks this app builds, one line each.

A network is a subpackage of models/ (``models/inception/`` for the FID Inception) whose
``build(out_path, *, cache_dir=None, progress=None)`` writes the ONNX model and its
``<model>.json`` provenance and returns that provenance. This table says which package
builds which file; paths.py says where built files are looked for. Pure data: importing it
imports no network.
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


FID_INCEPTION = Network(
    "fid_inception", "fid_inception.onnx", "models.inception",
    "TF Inception-v3 2015-12-05 as FID uses it: pool3 (2048), sFID's mixed_6/conv (2023), "
    "the Inception Score head when added")

NETWORKS = {n.name: n for n in (
    FID_INCEPTION,
)}


def builder(name: str) -> Callable[..., dict]:
    """The ``build`` function of network ``name`` (its package is imported now)."""
    try:
        network = NETWORKS[name]
    except KeyError:
        raise ValueError(f"unknown network {name!r}; known: {', '.join(NETWORKS)}") from None
    return importlib.import_module(network.package).build
