"""The Python API (published as ``fid_studio``): score images from inside a training loop."""
from .evaluator import API_METRICS, Evaluator
from .model_setup import ensure_model
from .scores import Scores

__all__ = ["API_METRICS", "Evaluator", "Scores", "ensure_model"]
