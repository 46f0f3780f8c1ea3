"""OpenAI CLIP image encoders (ViT-B/32 for CLIP-FID, ViT-L/14@336px for CMMD) as ONNX
feature extractors, built without torch from OpenAI's released files (TorchScript archives,
float16) or a state dict of the same model: the key layout and clip.load's float16 rounding
(weights.py), the checks (verify.py: the official SHA-256, the architecture by name, every
tensor), the graph (graph.py), seeded stand-ins for the parity tests (standin.py).
Getting them: build.py (``build``: weights -> model + provenance in the user's data folder)
and enable.py (``enable_clip``: a given file or the official download, then build).
"""
from .build import build

__all__ = ["build"]
