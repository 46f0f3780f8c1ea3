"""sFID (Nash et al. 2021, as the ADM evaluator of openai/guided-diffusion computes it): the
Fréchet distance, in float64 exactly as FID, between the statistics of spatial features —
TF ``mixed_6/conv:0`` (mixed_6's first 1x1 conv branch after batch norm and ReLU, 17x17x192),
its first 7 channels flattened channel-last to 2,023 values. The ONNX model emits them as
the ``mixed_6_conv`` output in the same pass as pool3; the pipeline streams their moments.
"""
from __future__ import annotations

from .fid import FidValue, GaussianStats, compute as frechet

DIM = 2023

UNAVAILABLE_REASON = (
    "the Inception model was built before sFID and has no 'mixed_6_conv' output; "
    "rebuild it with `python main.py model build`")


def compute(ref: GaussianStats, gen: GaussianStats) -> FidValue:
    if len(ref.mu) != DIM or len(gen.mu) != DIM:
        raise ValueError(f"sFID statistics must be {DIM}-dimensional, got {len(ref.mu)} and {len(gen.mu)}")
    return frechet(ref, gen)
