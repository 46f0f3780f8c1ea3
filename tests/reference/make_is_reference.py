"""Inception Score golden values from torch-fidelity 0.4.0 itself, with a stand-in head.

The official head weights cannot be downloaded here, so this script builds a head
checkpoint in pytorch-fid's key layout (the layout torch-fidelity loads as well): the
convolution / batch-norm tensors are the genuine FID Inception weights (default_1.pt,
mapped by make_pytorch_fid_weights.build_state_dict), and fc.weight / fc.bias are the
seeded random ``models.testing.is_stand_in_head()`` (numpy; the tests regenerate it from
the same seed), with a bias large enough to move the score a lot. Then:

    torch_fidelity.calculate_metrics(input1=<parity folder>, isc=True,
        feature_extractor_weights_path=<stand-in .pth>, samples_shuffle=False,
        isc_splits=10, cache=False, cuda=False)

once with torch-fidelity's default IS layer (``logits_unbiased`` = pool3 @ fc.weight.T)
and once with ``feature_layer_isc="logits"`` (bias included) to show that the bias
matters. torch-fidelity resizes like TF1 (its interpolate_bilinear_2d_like_tensorflow1x),
so the app's ``tensorflow`` preset must reproduce these values.

Run (reference venv: torch 2.14.1 CPU, torch-fidelity 0.4.0):

    /work/refenv/bin/python tests/reference/make_is_reference.py

Writes tests/fixtures/parity/is_reference.json and is_logits.npz (torch-fidelity's own
``logits_unbiased`` rows for the parity images, sorted file order).
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))
import _refcommon as rc  # noqa: E402
from make_pytorch_fid_weights import build_state_dict  # noqa: E402
from models.testing import IS_HEAD_SEED, array_sha256, is_stand_in_head  # noqa: E402

OUT_JSON = rc.PARITY / "is_reference.json"
OUT_NPZ = rc.PARITY / "is_logits.npz"


def stand_in_checkpoint(path: Path) -> str:
    import torch
    sd = build_state_dict(rc.load_ts())
    w, b = is_stand_in_head()
    sd["fc.weight"], sd["fc.bias"] = torch.from_numpy(w.copy()), torch.from_numpy(b.copy())
    torch.save(sd, path)
    return array_sha256(np.concatenate([w.ravel(), b]))


def tf_logits(weights: Path, folder: Path) -> np.ndarray:
    """torch-fidelity's extractor on the images, decoded the way it decodes them."""
    import torch
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    fe = FeatureExtractorInceptionV3("inception-v3-compat", ["logits_unbiased"],
                                     feature_extractor_weights_path=str(weights))
    x = np.stack([rc.load_uint8(p) for p in rc.list_images(folder)]).transpose(0, 3, 1, 2)
    with torch.no_grad():
        return fe(torch.from_numpy(np.ascontiguousarray(x)))[0].numpy().astype(np.float32)


def main() -> int:
    rc.set_threads(2)
    import torch_fidelity
    from torch_fidelity.metric_isc import isc_features_to_metric
    import torch
    out = {"tool": f"torch-fidelity {rc.dist_version('torch-fidelity')}",
           "torch": torch.__version__, "head_seed": IS_HEAD_SEED,
           "head": "models.testing.is_stand_in_head(): fc.weight (1008, 2048), fc.bias (1008,)",
           "call": "torch_fidelity.calculate_metrics(input1=<folder>, isc=True, "
                   "feature_extractor_weights_path=<stand-in .pth>, samples_shuffle=False, "
                   "isc_splits=10, cache=False, cuda=False, verbose=False"
                   "[, feature_layer_isc='logits'])",
           "sets": {}}
    arrays = {}
    with tempfile.TemporaryDirectory() as tmp:
        pth = Path(tmp) / "stand-in-is-head.pth"
        out["head_sha256"] = stand_in_checkpoint(pth)
        for name, folder in (("gen", rc.GEN), ("ref", rc.REF)):
            common = dict(input1=str(folder), isc=True, feature_extractor_weights_path=str(pth),
                          samples_shuffle=False, isc_splits=10, cache=False, cuda=False,
                          verbose=False)
            unbiased = torch_fidelity.calculate_metrics(**common)
            biased = torch_fidelity.calculate_metrics(**common, feature_layer_isc="logits")
            rc.log(name, unbiased, biased)
            logits = tf_logits(pth, folder)
            again = isc_features_to_metric(torch.from_numpy(logits), splits=10, shuffle=False)
            out["sets"][name] = {
                "folder": str(folder.relative_to(rc.ROOT)), "n": len(logits),
                "is_mean": unbiased["inception_score_mean"],
                "is_std": unbiased["inception_score_std"],
                "biased_is_mean": biased["inception_score_mean"],
                "biased_is_std": biased["inception_score_std"],
                "extractor_logits_is_mean": again["inception_score_mean"],
                "extractor_logits_is_std": again["inception_score_std"]}
            arrays[f"{name}_logits_unbiased"] = logits
            arrays[f"{name}_files"] = np.array([p.name for p in rc.list_images(folder)])
    np.savez_compressed(OUT_NPZ, **arrays)
    OUT_JSON.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
