"""Build an ONNX model from a weights file and save it with its provenance, in stages that a
cancel can stop: the part every network added on request (DINOv2, the CLIP image towers)
shares. The caller gives how the weights are read, how the graph is made and what its
provenance says about itself; nothing is written for a refused file or a cancel."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

from ..errors import DownloadCancelled, ModelBuildError
from .files import atomic_write, provenance_path, sha256_file, utc_now

CANCELLED = "cancelled; nothing was kept"


def build_and_save(weights: Path, out_path: Path, *, load: Callable[[], dict],
                   make: Callable[[dict, str], object], describe: Callable[[str], dict],
                   progress: Callable[[str], None] | None = None,
                   cancelled: Callable[[], bool] = lambda: False) -> dict:
    """Check ``weights`` (``load()`` returns its verified tensors), make the ONNX model
    (``make(tensors, weights_sha256)`` returns a ModelProto), check it and write it at
    ``out_path`` with the provenance JSON beside it; return the provenance:
    ``describe(weights_sha256)`` (the network's own fields, ``model`` first) plus what every
    build records.

    ``cancelled`` is asked between the stages, up to the moment the model is saved
    (DownloadCancelled, nothing written)."""
    try:
        import onnx
    except ImportError:
        raise ModelBuildError("Building the model needs the 'onnx' package: "
                              "pip install onnx==1.23.2") from None
    say = progress or (lambda msg: None)
    weights, out_path = Path(weights), Path(out_path)

    def stage(msg: str) -> None:
        if cancelled():
            raise DownloadCancelled(CANCELLED)
        say(msg)
    t0 = time.perf_counter()
    stage(f"Checking {weights.name}")
    weights_sha256 = sha256_file(weights)
    tensors = load()
    stage("Writing the ONNX graph")
    model = make(tensors, weights_sha256)
    del tensors
    data = model.SerializeToString()
    ir_version = model.ir_version
    del model  # the serialized bytes are all we keep: the weights are large
    stage("Checking the ONNX graph")
    onnx.checker.check_model(data, full_check=True)  # also infers and checks shapes
    stage(f"Saving {out_path.name}")
    if cancelled():     # asked once more: saving is the point of no return
        raise DownloadCancelled(CANCELLED)
    atomic_write(out_path, data)
    own = describe(weights_sha256)
    prov = {"model": own["model"], "model_file": out_path.name,
            "model_sha256": hashlib.sha256(data).hexdigest(), "model_size_bytes": len(data),
            "source_file": weights.name, "source_sha256": weights_sha256,
            "source_size_bytes": weights.stat().st_size}
    prov.update((k, v) for k, v in own.items() if k != "model")
    prov.update(ir_version=ir_version, onnx_version=onnx.__version__,
                build_seconds=round(time.perf_counter() - t0, 2), created_utc=utc_now())
    atomic_write(provenance_path(out_path), (json.dumps(prov, indent=2) + "\n").encode())
    say(f"Wrote {out_path} ({len(data) / 1e6:.1f} MB)")
    return prov
