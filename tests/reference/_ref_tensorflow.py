"""The `tensorflow` preset's reference (TTUR / StyleGAN convention), for compute_references.py:
TF1 resize_bilinear (TensorFlow itself), (x-128)/128, default_1.pt, pytorch-fid's Fréchet
distance; cross-checked with clean-fid's legacy_tensorflow mode and a numpy TF1 resize."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import _refcommon as rc
from _refchecks import _np_tf1_bilinear, numerics

REF, GEN, PRE_FILES = rc.REF, rc.GEN, rc.PRE_FILES
_log, _rel, _ver = rc.log, rc.rel, rc.dist_version


def preset_tensorflow(ts) -> tuple[dict, dict]:
    import tensorflow as tf
    import torch
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from pytorch_fid.fid_score import calculate_frechet_distance
    feats = {}
    for name, d in (("ref", REF), ("gen", GEN)):
        _log(f"tensorflow: features {name} ...")
        u8 = np.stack([rc.load_uint8(p) for p in rc.list_images(d)])
        out = []
        for i in range(0, len(u8), 16):
            r = rc.tf_resize_nhwc(u8[i:i + 16].astype(np.float32))
            out.append(rc.ts_features(ts, ((r - 128) / 128).transpose(0, 3, 1, 2)))
        feats[name] = np.concatenate(out)
    fr, fg = feats["ref"], feats["gen"]
    m1, s1 = rc.stats(fr)
    m2, s2 = rc.stats(fg)
    fid_direct = float(calculate_frechet_distance(m1, s1, m2, s2))
    _log("tensorflow: clean-fid legacy_tensorflow ...")
    from cleanfid import fid as cfid
    ext = rc.TFExtractor.make(ts)
    fid_cf = float(cfid.compute_fid(str(REF), str(GEN), mode="legacy_tensorflow",
                                    custom_feat_extractor=ext, num_workers=0, batch_size=16,
                                    device=torch.device("cpu"), verbose=False))
    pre = {Path(f).stem: rc.tf_resize_nhwc(rc.load_uint8(rc.PARITY / f)[None]
                                           .astype(np.float32))[0]
           for f in PRE_FILES}
    np_diff = {Path(f).stem: float(np.abs(_np_tf1_bilinear(rc.load_uint8(rc.PARITY / f))
                                          - pre[Path(f).stem]).max()) for f in PRE_FILES}
    res = {
        "fid": fid_direct,
        "tool": "tensorflow (resize) + default_1.pt TorchScript (network) + pytorch-fid "
                "calculate_frechet_distance",
        "tool_version": {"tensorflow": tf.__version__, "pytorch-fid": _ver("pytorch-fid")},
        "call": ("tf.compat.v1.image.resize_bilinear(float32 0-255 NHWC, [299, 299], "
                 "align_corners=False, half_pixel_centers=False) -> (x-128)/128 -> "
                 "default_1.pt (batches of 16) -> np.mean / np.cov(rowvar=False) float64 -> "
                 "pytorch_fid.fid_score.calculate_frechet_distance"),
        "resize": "TF1 bilinear, align_corners=False, half_pixel_centers=False",
        "normalise": "(x - 128) / 128",
        "max_abs_diff_tf_resize_vs_numpy_float32_reimplementation": np_diff,
        "clean_fid_legacy_tensorflow": {
            "fid": fid_cf, "tool_version": _ver("clean-fid"),
            "call": "cleanfid.fid.compute_fid(ref, gen, mode='legacy_tensorflow', "
                    "custom_feat_extractor=TFExtractor(TF resize + (x-128)/128 + "
                    "default_1.pt), num_workers=0, batch_size=16, device=cpu, verbose=False)",
            "how_clean_fid_passes_images": "build_resizer('legacy_tensorflow') is the "
                    "identity: the extractor gets un-resized float32 NCHW 0-255 "
                    "(ToTensor()/255 then *255, exact for uint8)",
            "rel_diff_vs_direct": _rel(fid_cf, fid_direct),
        },
    }
    res["numerics"] = numerics(fr, fg, fid_direct)
    return res, {"features": feats, "pre": pre}


# ------------------------------------------------------------------------------ output
