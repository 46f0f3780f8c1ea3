"""Rebuild pytorch-fid's weight file from default_1.pt so that pytorch-fid 0.3.0 itself can run
offline, and check that it computes the same pool3 features as the TorchScript.

pytorch-fid loads `pt_inception-2015-12-05-6726825d.pth` from $TORCH_HOME/hub/checkpoints
(torch.hub's cache; no hash check).  The official file cannot be downloaded here, so this
script writes a state dict with pytorch-fid's key names built from default_1.pt's tensors:

  <tv>.conv.weight        <- <ts>.weight
  <tv>.bn.bias / running_mean / running_var  <- <ts>.beta / mean / var
  <tv>.bn.weight          = 1  (the TF graph's batch-norm has no gamma; eps 1e-3 in both)
  <tv>.bn.num_batches_tracked = 0
  fc.weight = zeros(1008, 2048), fc.bias = zeros(1008)   (default_1.pt has no logits head:
                                  this file is for pool3 features only, never for IS)

Module names (default_1.pt, read from its TorchScript code -> torchvision / pytorch-fid):
  conv, conv_1, conv_2, conv_3, conv_4 -> Conv2d_1a_3x3, 2a_3x3, 2b_3x3, 3b_1x1, 4a_3x3
  mixed, mixed_1, mixed_2 (A)  -> Mixed_5b/5c/5d: conv->branch1x1, tower.conv/conv_1 ->
      branch5x5_1/2, tower_1.conv/conv_1/conv_2 -> branch3x3dbl_1/2/3, tower_2.conv ->
      branch_pool
  mixed_3 (B) -> Mixed_6a: conv->branch3x3, tower.conv..conv_2 -> branch3x3dbl_1..3
  mixed_4..mixed_7 (C) -> Mixed_6b..6e: conv->branch1x1, tower.conv..conv_2 ->
      branch7x7_1..3, tower_1.conv..conv_4 -> branch7x7dbl_1..5, tower_2.conv->branch_pool
  mixed_8 (D) -> Mixed_7a: tower.conv/conv_1 -> branch3x3_1/2, tower_1.conv..conv_3 ->
      branch7x7x3_1..4
  mixed_9, mixed_10 (E) -> Mixed_7b, Mixed_7c: conv->branch1x1, tower_conv->branch3x3_1,
      tower_mixed_conv/_1 -> branch3x3_2a/2b, tower_1_conv/_1 -> branch3x3dbl_1/2,
      tower_1_mixed_conv/_1 -> branch3x3dbl_3a/3b, tower_2_conv -> branch_pool
The branch concatenation orders are the same on both sides (checked in the TorchScript code).
The result is loaded with strict=True (every key and every shape must match) and then its
features are compared with the TorchScript's on the same inputs.

Run (reference venv: Python 3.11, torch 2.14.1, torchvision 0.29.1, pytorch-fid 0.3.0):

    /work/refenv/bin/python tests/reference/make_pytorch_fid_weights.py

Writes $FID_REF_TORCH_HOME/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth
(default /work/refenv/torch_home) and prints a JSON line with the feature check; the same
check is repeated and recorded by compute_references.py.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _refcommon as rc  # noqa: E402


def mapping() -> dict[str, str]:
    """default_1.pt module path (under net.layers.) -> torchvision module path."""
    m = {
        "conv": "Conv2d_1a_3x3", "conv_1": "Conv2d_2a_3x3", "conv_2": "Conv2d_2b_3x3",
        "conv_3": "Conv2d_3b_1x1", "conv_4": "Conv2d_4a_3x3",
    }
    for ts_name, tv in (("mixed", "Mixed_5b"), ("mixed_1", "Mixed_5c"), ("mixed_2", "Mixed_5d")):
        m.update({
            f"{ts_name}.conv": f"{tv}.branch1x1",
            f"{ts_name}.tower.conv": f"{tv}.branch5x5_1",
            f"{ts_name}.tower.conv_1": f"{tv}.branch5x5_2",
            f"{ts_name}.tower_1.conv": f"{tv}.branch3x3dbl_1",
            f"{ts_name}.tower_1.conv_1": f"{tv}.branch3x3dbl_2",
            f"{ts_name}.tower_1.conv_2": f"{tv}.branch3x3dbl_3",
            f"{ts_name}.tower_2.conv": f"{tv}.branch_pool",
        })
    m.update({
        "mixed_3.conv": "Mixed_6a.branch3x3",
        "mixed_3.tower.conv": "Mixed_6a.branch3x3dbl_1",
        "mixed_3.tower.conv_1": "Mixed_6a.branch3x3dbl_2",
        "mixed_3.tower.conv_2": "Mixed_6a.branch3x3dbl_3",
    })
    for ts_name, tv in (("mixed_4", "Mixed_6b"), ("mixed_5", "Mixed_6c"),
                        ("mixed_6", "Mixed_6d"), ("mixed_7", "Mixed_6e")):
        m[f"{ts_name}.conv"] = f"{tv}.branch1x1"
        for i, suf in enumerate(["", "_1", "_2"]):
            m[f"{ts_name}.tower.conv{suf}"] = f"{tv}.branch7x7_{i + 1}"
        for i, suf in enumerate(["", "_1", "_2", "_3", "_4"]):
            m[f"{ts_name}.tower_1.conv{suf}"] = f"{tv}.branch7x7dbl_{i + 1}"
        m[f"{ts_name}.tower_2.conv"] = f"{tv}.branch_pool"
    m.update({
        "mixed_8.tower.conv": "Mixed_7a.branch3x3_1",
        "mixed_8.tower.conv_1": "Mixed_7a.branch3x3_2",
        "mixed_8.tower_1.conv": "Mixed_7a.branch7x7x3_1",
        "mixed_8.tower_1.conv_1": "Mixed_7a.branch7x7x3_2",
        "mixed_8.tower_1.conv_2": "Mixed_7a.branch7x7x3_3",
        "mixed_8.tower_1.conv_3": "Mixed_7a.branch7x7x3_4",
    })
    for ts_name, tv in (("mixed_9", "Mixed_7b"), ("mixed_10", "Mixed_7c")):
        m.update({
            f"{ts_name}.conv": f"{tv}.branch1x1",
            f"{ts_name}.tower_conv": f"{tv}.branch3x3_1",
            f"{ts_name}.tower_mixed_conv": f"{tv}.branch3x3_2a",
            f"{ts_name}.tower_mixed_conv_1": f"{tv}.branch3x3_2b",
            f"{ts_name}.tower_1_conv": f"{tv}.branch3x3dbl_1",
            f"{ts_name}.tower_1_conv_1": f"{tv}.branch3x3dbl_2",
            f"{ts_name}.tower_1_mixed_conv": f"{tv}.branch3x3dbl_3a",
            f"{ts_name}.tower_1_mixed_conv_1": f"{tv}.branch3x3dbl_3b",
            f"{ts_name}.tower_2_conv": f"{tv}.branch_pool",
        })
    return m


def build_state_dict(ts) -> dict:
    import torch
    src = {k[len("net.layers."):]: v for k, v in ts.state_dict().items()}
    assert all(k.startswith("net.layers.") for k in ts.state_dict())
    convs = sorted({k.rsplit(".", 1)[0] for k in src})
    mp = mapping()
    if sorted(mp) != convs:
        raise SystemExit(f"mapping mismatch: {sorted(set(convs) ^ set(mp))}")
    sd = {}
    for ts_name, tv in mp.items():
        w = src[f"{ts_name}.weight"]
        sd[f"{tv}.conv.weight"] = w.detach().clone()
        n = w.shape[0]
        sd[f"{tv}.bn.weight"] = torch.ones(n)
        sd[f"{tv}.bn.bias"] = src[f"{ts_name}.beta"].detach().clone()
        sd[f"{tv}.bn.running_mean"] = src[f"{ts_name}.mean"].detach().clone()
        sd[f"{tv}.bn.running_var"] = src[f"{ts_name}.var"].detach().clone()
        sd[f"{tv}.bn.num_batches_tracked"] = torch.tensor(0, dtype=torch.long)
    sd["fc.weight"] = torch.zeros(1008, 2048)
    sd["fc.bias"] = torch.zeros(1008)
    return sd


def weights_path() -> Path:
    return rc.TORCH_HOME / "hub" / "checkpoints" / rc.PTFID_WEIGHTS_NAME


def write_weights() -> Path:
    import torch
    ts = rc.load_ts()
    sd = build_state_dict(ts)
    # strict load into the exact torchvision module pytorch-fid builds, before writing
    from pytorch_fid import inception as pi
    net = pi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = pi.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pi.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pi.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pi.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pi.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pi.FIDInceptionE_1(1280)
    net.Mixed_7c = pi.FIDInceptionE_2(2048)
    net.load_state_dict(sd, strict=True)
    p = weights_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    torch.save(sd, p)
    return p


def feature_check(n_random: int = 4) -> dict:
    """pytorch-fid InceptionV3 (its own loader, its own resize/normalise on 299x299 input in
    [0,1], a no-op resize) vs TorchScript on 2x-1 of the same input."""
    import torch
    os.environ["TORCH_HOME"] = str(rc.TORCH_HOME)
    from pytorch_fid.inception import InceptionV3
    from cleanfid.resize import build_resizer
    ts = rc.load_ts()
    model = InceptionV3([3]).eval()
    rs = build_resizer("clean")
    imgs = [rs(rc.load_uint8(p)) for p in
            rc.list_images(rc.PARITY / "ref")[:4] + rc.list_images(rc.PARITY / "gen")[:4]]
    x_img = np.stack(imgs).transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    rng = np.random.default_rng(0)
    x_rand = rng.uniform(0, 1, size=(n_random, 3, 299, 299)).astype(np.float32)
    x = np.concatenate([x_img, x_rand])
    with torch.no_grad():
        t = torch.from_numpy(x)
        a = model(t)[0].squeeze(3).squeeze(2).numpy()
        b = ts(2 * t - 1).numpy()
    diff = np.abs(a.astype(np.float64) - b)
    return {"inputs": f"{len(x_img)} parity images (clean resize) + {n_random} uniform noise, "
                      "299x299 in [0,1]; pytorch-fid InceptionV3([3]) vs default_1.pt(2x-1)",
            "max_abs_diff": float(diff.max()),
            "max_rel_diff": float((diff / np.maximum(np.abs(b), 1e-3)).max()),
            "feature_abs_max": float(np.abs(b).max())}


def main() -> int:
    rc.set_threads(2)
    p = write_weights()
    res = {"weights": str(p), "sha256": rc.sha256_file(p)}
    res.update(feature_check())
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
