"""The networks behind the metrics: where their ONNX models live, and how to build them.

``find_model()`` is all the app needs at run time; ``build_model()`` (which needs the
``onnx`` package, imported only while building) writes the FID Inception model from the
genuine weights. No torch and no Qt here.

Layout. ``common/`` holds what every network shares: the restricted torch reader
(torch_reader), the ONNX wire reader/patcher (onnx_wire), the verified, resumable
downloader (download.RemoteFile + download()), hashing, atomic writes and the provenance
JSON (files), and the float16 variant (fp16). Each network is one subpackage
(``inception/``, ``dinov2/``). paths.py says where model files are looked for; registry.py
lists the networks. Nothing in common/, paths.py or registry.py imports a network.

Adding a network. Two kinds: one built at setup (the FID Inception, ``model build``), and one
the user adds on request because its weights are large or not ours to ship
(``model add NAME --download | --weights FILE``, in the app "Enable …"). DINOv2 ViT-L/14 is
the second kind; a new network (say CLIP ViT-L/14) follows it:

1. Write ``models/<net>/`` with
   - ``weights.py``: the key layout (name -> shape, float32) and a reader that loads the file
     with ``common.torch_reader`` (no pickled code runs) and checks every tensor's name,
     shape, dtype and finiteness, plus a plausible file size (``dinov2/weights.py``);
   - ``verify.py``: ``verify_weights_file(path, ...)``: ``errors.check_weights_file`` (exists,
     a file, readable), the architecture read from the pickle alone
     (``torch_layout.state_dict_layout``) and refused by name, then every tensor;
   - ``graph.py``: the ONNX graph and ``build_<net>_model(weights, out, ...)`` writing the
     model with ``common.files.atomic_write`` and its provenance JSON (``source_sha256``:
     the weights' SHA-256, shown in results);
   - ``build.py``: ``build(out_path=None, *, weights, source=None, progress=None) -> dict``
     (default out_path: ``paths.user_model_path("<net>.onnx")``), exported by ``__init__``;
   - ``enable.py``: ``enable_<net>(*, weights=None, source=None, progress=None,
     cancelled=..., say=None, out_path=None)``: a given file, or a download of the official
     ``common.download.RemoteFile`` into ``paths.download_dir()`` with ``download(...,
     verify=<the tensor checks>)`` when no SHA-256 is published (the ``.part`` is verified
     before it is moved into place); then ``build``; the downloaded file is deleted after a
     successful build, kept after a failed one (a retry finds it and downloads nothing),
     nothing is kept on cancel.
2. Add one line to ``NETWORKS`` in registry.py, naming the enable function:
   ``Network("clip-vitl14", "clip_vitl14.onnx", "models.clip", "...",
   enable="models.clip.enable:enable_clip")``. Then ``registry.addable()`` lists it,
   ``python main.py model add clip-vitl14 --download | --weights FILE`` adds it
   (``registry.enabler(name)``), ``model info`` shows it, and
   ``paths.find_model("clip_vitl14.onnx")`` finds the built file.
3. Tests (like tests/test_dinov2_add.py): a seeded stand-in in the official layout served by
   tests/httpserve.py, every refusal path, and a reduced-depth spec to keep them fast;
   tests/test_import_graph.py keeps the new package below engine/ and free of cycles.
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
