"""DINOv2 ViT-L/14 (Meta's ``dinov2_vitl14_pretrain.pth``) as an ONNX feature extractor, built
without torch: the weights' layout and checks (weights.py), the 37×37 → 16×16 position-embedding
resize done at build time (posembed.py), the graph (graph.py), and seeded stand-in weights in
the official layout for the parity tests (standin.py).
Getting them: verify.py (is a file the weights? judged tensor by tensor, since no hash is
published), build.py (``build``: weights -> model + provenance in the user's data folder) and
enable.py (``enable_dinov2``: a given file or the official download, then build).
"""
from .build import build

__all__ = ["build"]
