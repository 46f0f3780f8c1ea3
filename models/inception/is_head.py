"""Add the Inception Score head to a built model, keeping its genuine body byte for byte.

The standard Inception Score (improved-gan, TTUR, torch-fidelity's ``logits_unbiased``,
the ADM evaluator) uses pool3 · Wᵀ of the 1008-class classifier **without its bias**. The
head comes from pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (or torch-fidelity's
copy ``weights-inception-2015-12-05-6726825d.pth``, same file). Before it is used:

1. its SHA-256 must start with ``6726825d`` (the check torch.hub applies to that name);
2. it is read by the restricted unpickler (nothing from the file is run);
3. every convolution / batch-norm tensor, folded exactly as the model builder folds them,
   must equal the weights already in the model within 1e-6 of each tensor's largest
   magnitude: a damaged or substituted file is refused, only a genuine head is used.

The head is appended to the model file as one MatMul (``features`` × Wᵀ ->
``logits_unbiased``) without touching the existing bytes, so FID/KID cannot move and the
feature cache (keyed by the body's SHA-256, recorded in the model's metadata) stays valid.
No ``onnx`` package needed (see onnx_wire.py).
"""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..common import onnx_wire
from ..common.download import RemoteFile
from ..common.files import atomic_write, read_provenance, sha256_file as _sha256, utc_now, write_provenance
from ..errors import HashMismatchError, ModelBuildError, WeightsFormatError, check_weights_file
from ..paths import user_model_path
from . import spec
from .weights import PytorchFidWeights

LOGITS_UNBIASED = "logits_unbiased"
HEAD_WEIGHT = "is_head.fc_weight_t"
HEAD_NODE = "is_head.matmul"
OFFICIAL_SHA256_PREFIX = "6726825d"
KNOWN_FILE_NAMES = ("pt_inception-2015-12-05-6726825d.pth",        # pytorch-fid
                    "weights-inception-2015-12-05-6726825d.pth")   # torch-fidelity
TOLERANCE = 1e-6  # of each tensor's max magnitude
# metadata keys written with the head
META_BODY_SHA = "body_sha256"
META_BODY_BYTES = "body_bytes"
META_HEAD_SHA = "is_head_sha256"

# pytorch-fid's own URL (FID_WEIGHTS_URL in pytorch_fid/inception.py).
PYTORCH_FID_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                   "pt_inception-2015-12-05-6726825d.pth")
OFFICIAL_HEAD = RemoteFile(PYTORCH_FID_URL, KNOWN_FILE_NAMES[0], OFFICIAL_SHA256_PREFIX, 91)


@dataclass(frozen=True)
class VerifiedHead:
    weight: np.ndarray        # (1008, 2048) float32: fc.weight
    file_sha256: str
    worst_rel_diff: float     # largest per-tensor max|diff| / max|genuine| seen


def body_of(data: bytes) -> tuple[bytes, dict]:
    """The model's bytes without a head appended by add_is_head, and its parsed form."""
    info = onnx_wire.read_model(data)
    n = info["metadata"].get(META_BODY_BYTES)
    if n is not None:
        data = data[:int(n)]
        info = onnx_wire.read_model(data)
    return data, info


def verify_head_file(weights: Path, model_path: Path,
                     expected_prefix: str = OFFICIAL_SHA256_PREFIX) -> VerifiedHead:
    """Check the head file as the module docstring says; raise a ModelBuildError that
    names the reason otherwise."""
    weights = Path(weights)
    check_weights_file(weights)
    digest = _sha256(weights)
    if not digest.startswith(expected_prefix.lower()):
        raise HashMismatchError(
            f"{weights.name} has SHA-256 {digest[:16]}…, expected it to start with "
            f"{expected_prefix}: not pytorch-fid's pt_inception-2015-12-05-6726825d.pth. "
            "Refusing to use it.")
    _, info = body_of(Path(model_path).read_bytes())
    genuine = info["initializers"]
    reader = PytorchFidWeights(weights)  # folds as the builder does
    fc_w, _fc_b = reader.head()  # the bias is read (layout check) but never used
    worst = 0.0
    for c in spec.all_convs():
        folded = reader.conv(c)
        for suffix, ours in zip(("weight", "bias"), folded):
            key = f"{c.fid}.{suffix}"
            ref = genuine.get(key)
            if ref is None or ref.shape != ours.shape:
                raise ModelBuildError(
                    f"the model has no tensor {key} of shape {ours.shape}: it is not the "
                    "FID Inception this app builds; rebuild it with `python main.py model build`")
            scale = float(np.abs(ref).max()) or 1.0
            rel = float(np.abs(ours.astype(np.float64) - ref).max()) / scale
            worst = max(worst, rel)
            if not rel <= TOLERANCE:
                raise WeightsFormatError(
                    f"{weights.name}: {c.fid} differs from the genuine FID Inception weights "
                    f"in the model (max difference {rel:.2g} of the tensor's scale, allowed "
                    f"{TOLERANCE:g}): not the genuine file. Refusing to use it.")
    reader.finish()
    if not np.isfinite(fc_w).all():
        raise WeightsFormatError(f"{weights.name}: fc.weight holds NaN or infinity")
    return VerifiedHead(fc_w, digest, worst)


def add_is_head(model_path: Path, weights: Path, *, source: str, out_path: Path | None = None,
                expected_prefix: str = OFFICIAL_SHA256_PREFIX) -> dict:
    """Verify ``weights`` and write ``out_path`` (default: in place) = the model's body +
    the unbiased head; returns the updated provenance (also written beside the model).

    source: where the file came from, for the provenance (a URL or "file <path>").
    """
    model_path = Path(model_path)
    out_path = Path(out_path) if out_path is not None else model_path
    data = model_path.read_bytes()
    body, info = body_of(data)
    if "logits" in info["outputs"]:
        raise ModelBuildError(
            f"{model_path.name} already has a biased 'logits' head from an older build; "
            "rebuild it with `python main.py model build`, then add the IS head")
    if "features" not in info["outputs"]:
        raise ModelBuildError(f"{model_path.name} has no 'features' output: not an FID model")
    head = verify_head_file(weights, model_path, expected_prefix)
    body_sha = hashlib.sha256(body).hexdigest()
    head_meta = {META_BODY_SHA: body_sha, META_BODY_BYTES: str(len(body)),
                 META_HEAD_SHA: head.file_sha256}
    patch = onnx_wire.graph_patch(
        nodes=[onnx_wire.node_proto("MatMul", ["features", HEAD_WEIGHT], [LOGITS_UNBIASED],
                                    HEAD_NODE)],
        initializers=[onnx_wire.tensor_proto(HEAD_WEIGHT, head.weight.T)],
        outputs=[onnx_wire.float_output(LOGITS_UNBIASED, ["batch", spec.NUM_CLASSES])])
    new = body + patch + onnx_wire.metadata_patch(head_meta)
    atomic_write(out_path, new)
    prov = read_provenance(model_path)
    outputs = {k: v for k, v in prov.get("outputs", {"features": ["batch", spec.NUM_FEATURES]}).items()
               if k != LOGITS_UNBIASED}
    outputs[LOGITS_UNBIASED] = ["batch", spec.NUM_CLASSES]
    prov.update({
        "model_file": out_path.name,
        "model_sha256": hashlib.sha256(new).hexdigest(),
        "model_size_bytes": len(new),
        "body_sha256": body_sha,
        "has_logits": True,
        "outputs": outputs,
        "is_head": {"source": source, "file": Path(weights).name,
                    "sha256": head.file_sha256, "logits": "pool3 @ fc.weight.T (no fc.bias)",
                    "max_body_difference": head.worst_rel_diff, "added_utc": utc_now()},
    })
    write_provenance(out_path, prov)
    return prov


def writable_target(model_path: Path) -> Path:
    """Where the model with the head goes: in place when its folder is writable and not
    inside a packaged app, else the user's model location (searched first)."""
    model_path = Path(model_path)
    bundle = getattr(sys, "_MEIPASS", None)
    inside_bundle = bundle is not None and Path(bundle) in model_path.resolve().parents
    if inside_bundle or not os.access(model_path.parent, os.W_OK):
        return user_model_path()
    return model_path
