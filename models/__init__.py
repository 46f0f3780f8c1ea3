"""The networks behind the metrics: where their ONNX models live, and how to build them.

``find_model()`` is all the app needs at run time; ``build_model()`` (which needs the
``onnx`` package, imported only while building) writes the FID Inception model from the
genuine weights. No torch and no Qt here.

Layout. ``common/`` holds what every network shares: the restricted torch reader
(torch_reader), the ONNX wire reader/patcher (onnx_wire), the verified, resumable
downloader (download.RemoteFile + download()), hashing, atomic writes and the provenance
JSON (files), and the float16 variant (fp16). Each network is one subpackage
(``inception/``). paths.py says where model files are looked for; registry.py lists the
networks. Nothing in common/, paths.py or registry.py imports a network.

Adding a network (say DINOv2 ViT-L/14):

1. Write ``models/dinov2/`` with
   - the weights' source: a ``common.download.RemoteFile`` (URL, file name, SHA-256, size),
     fetched with ``common.download.download`` into ``paths.default_cache_dir()``;
   - a weights reader that loads them with ``common.torch_reader`` and checks every
     tensor's name, shape and dtype (like ``inception/weights.py``);
   - a graph builder writing the ONNX model (like ``inception/graph.py``);
   - ``build(out_path, *, cache_dir=None, progress=None) -> dict``: obtain, verify, write
     the model with ``common.files.atomic_write`` and its provenance with
     ``common.files.write_provenance``, return the provenance;
   - ``__init__.py`` exporting ``build`` (and ``__main__.py`` for ``python -m``, if wanted).
2. Add one line to ``NETWORKS`` in registry.py:
   ``Network("dinov2_vitl14", "dinov2_vitl14.onnx", "models.dinov2", "...")``.
   ``paths.find_model("dinov2_vitl14.onnx")`` then finds the built file, and
   ``registry.builder("dinov2_vitl14")`` builds it.
3. Tests: tests/test_import_graph.py keeps the new package below engine/ and free of cycles.
"""

from __future__ import annotations

from .common.files import provenance_path
from .errors import HashMismatchError, ModelBuildError, UnsafePickleError, WeightsFormatError
from .inception.build import build_model
from .paths import (APP_NAME, DATA_DIR_ENV, DEFAULT_MODEL_PATH, ENV_VAR, MODEL_FILE, find_model,
                    model_search_paths, user_model_path)

__all__ = ["APP_NAME", "DATA_DIR_ENV", "DEFAULT_MODEL_PATH", "ENV_VAR", "MODEL_FILE",
           "HashMismatchError", "ModelBuildError", "UnsafePickleError", "WeightsFormatError",
           "build_model", "find_model", "model_search_paths", "provenance_path",
           "user_model_path"]
