"""DINOv2 ViT-L/14 golden values from Meta's own model code, with seeded stand-in weights.

The official dinov2_vitl14_pretrain.pth (1.2 GB) is not used: models.dinov2.standin writes
seeded tensors in its exact key layout (numpy; the tests regenerate them from the seed) as a
torch.save file, which torch.load(weights_only=True) reads and Meta's

    dinov2.models.vision_transformer.vit_large(patch_size=14, img_size=518,
                                               init_values=1.0, block_chunks=0)

(dinov2==0.0.1.dev2, what torch.hub's dinov2_vitl14 builds; depth=2 for the reduced
stand-in) loads with strict=True. Each image is preprocessed by the reference code of each
convention:

* dgm-eval: Image.open(f).convert("RGB"), torchvision Resize((224, 224), BICUBIC),
  ToTensor, Normalize(ImageNet mean, std);
* edm2 (DINOv2Detector, resize_mode='torch'): np.array(Image.open(f)) as a uint8 tensor,
  F.interpolate(x.float(), size=(224, 224), mode='bicubic', antialias=True), / 255,
  (x - mean) / std;

and the features are model(x) = x_norm_clstoken. FD of two set pairs in float64 with
scipy's sqrtm as dgm-eval computes it (and the exact low-rank value, as a check on sqrtm for
these tiny sets). It also measures our numpy pieces against torch: the pos-embed resize, the
antialiased bicubic resize of the edm2 convention and the dgm-eval transform.

Run (reference venv, see bench/setup_reference_env.sh):

    nice -n 10 /work/refenv/bin/python tests/reference/make_dinov2_reference.py

Writes tests/fixtures/dinov2/reference.npz and reference.json.
"""
from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
from engine.features import dinov2_preprocess as ours  # noqa: E402
from models.dinov2.posembed import resized_pos_embed  # noqa: E402
from models.dinov2.standin import (STANDIN_SEED, standin_images,  # noqa: E402
                                   standin_tensors, write_torch_state_dict)

PARITY = ROOT / "tests" / "fixtures" / "parity"
OUT_DIR = ROOT / "tests" / "fixtures" / "dinov2"
FILES = ["ref/ref_000.png", "ref/ref_001.png", "ref/ref_002.png",
         "gen/gen_000.jpg", "gen/gen_001.jpg", "gen/gen_002.jpg", "odd/odd_37x53.png"]
SYNTHETIC = ["standin_448x448", "standin_300x257"]  # models.dinov2.standin.standin_images()
NAMES = FILES + SYNTHETIC
# FD set pairs, as indices into NAMES
PAIRS = {"files_vs_files": ([0, 1, 2, 7], [3, 4, 5, 8]),
         "mixed": ([0, 3, 6, 7], [1, 2, 4, 5])}
FULL_DEPTH_IMAGES = [0, 3, 8]  # the 24-block stand-in is run on these only
CONVENTIONS = ("dgm-eval", "edm2")


def import_torchvision_transforms():
    """torchvision.transforms without torchvision/__init__.

    The torchvision 0.28 wheel on PyPI is built against CUDA torch; with the CPU torch wheel
    its compiled ops do not load and ``import torchvision`` fails while registering them.
    The transforms used here (Resize on a PIL image, ToTensor, Normalize) are pure Python and
    never touch those ops, so the package is entered through a bare module object."""
    if "torchvision.transforms" in sys.modules:
        return sys.modules["torchvision.transforms"]
    spec = importlib.util.find_spec("torchvision")
    pkg = types.ModuleType("torchvision")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__file__ = spec.origin
    sys.modules.setdefault("torchvision", pkg)
    import torchvision.transforms as T
    return T


def load_images():
    from PIL import Image
    pil, arrays = [], []
    for name in FILES:
        with Image.open(PARITY / name) as im:
            pil.append(im.convert("RGB"))  # dgm-eval's loader
        with Image.open(PARITY / name) as im:
            arrays.append(np.array(im))  # EDM2's loader (RGB files: no conversion)
    for arr in standin_images():
        pil.append(Image.fromarray(arr, "RGB"))
        arrays.append(arr)
    return pil, arrays


def reference_inputs(pil, arrays):
    import torch
    import torch.nn.functional as F
    T = import_torchvision_transforms()
    dgm = T.Compose([T.Resize((224, 224), interpolation=T.InterpolationMode.BICUBIC),
                     T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    x_dgm = torch.stack([dgm(im) for im in pil])
    edm2 = []
    resized = []
    for arr in arrays:
        x = torch.from_numpy(arr).permute(2, 0, 1)[None]  # uint8 NCHW, as EDM2's loader
        x = F.interpolate(x.to(torch.float32), size=(224, 224), mode="bicubic", antialias=True)
        resized.append(x[0].numpy().copy())
        x = x.to(torch.float32) / 255
        x = x - torch.tensor([0.485, 0.456, 0.406], dtype=torch.float32).reshape(1, -1, 1, 1)
        x = x / torch.tensor([0.229, 0.224, 0.225], dtype=torch.float32).reshape(1, -1, 1, 1)
        edm2.append(x[0])
    return {"dgm-eval": x_dgm, "edm2": torch.stack(edm2)}, resized


def reference_model(weights: Path, depth: int):
    import torch
    from functools import partial

    from dinov2.layers import MemEffAttention, NestedTensorBlock
    from dinov2.models.vision_transformer import DinoVisionTransformer, vit_large
    kwargs = dict(patch_size=14, img_size=518, init_values=1.0, block_chunks=0)
    if depth == 24:
        model = vit_large(**kwargs)
    else:  # vit_large's own arguments with fewer blocks (it fixes depth=24 itself)
        model = DinoVisionTransformer(
            embed_dim=1024, depth=depth, num_heads=16, mlp_ratio=4,
            block_fn=partial(NestedTensorBlock, attn_class=MemEffAttention), **kwargs)
    sd = torch.load(weights, map_location="cpu", weights_only=True)
    model.load_state_dict(sd, strict=True)
    return model.eval().requires_grad_(False)


def features(model, x, batch: int = 3) -> np.ndarray:
    import torch
    with torch.no_grad():
        return np.concatenate([model(x[i:i + batch]).numpy() for i in range(0, len(x), batch)])


def fd_sqrtm(f1: np.ndarray, f2: np.ndarray) -> float:
    """dgm-eval's compute_FD_with_stats (float64, scipy sqrtm, real part)."""
    from scipy import linalg
    mu1, mu2 = f1.astype(np.float64).mean(0), f2.astype(np.float64).mean(0)
    s1 = np.cov(f1.astype(np.float64), rowvar=False)
    s2 = np.cov(f2.astype(np.float64), rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def fd_exact(f1: np.ndarray, f2: np.ndarray) -> float:
    """tr sqrt(S1 S2) = nuclear norm of A1 A2ᵀ / sqrt((n1-1)(n2-1)), A = centred features."""
    a1 = f1.astype(np.float64) - f1.astype(np.float64).mean(0)
    a2 = f2.astype(np.float64) - f2.astype(np.float64).mean(0)
    m = a1 @ a2.T / np.sqrt((len(f1) - 1) * (len(f2) - 1))
    tr = np.linalg.svd(m, compute_uv=False).sum()
    diff = f1.astype(np.float64).mean(0) - f2.astype(np.float64).mean(0)
    t1 = (a1 * a1).sum() / (len(f1) - 1)
    t2 = (a2 * a2).sum() / (len(f2) - 1)
    return float(diff.dot(diff) + t1 + t2 - 2 * tr)


def main() -> int:
    import PIL
    import scipy
    import torch
    torch.set_num_threads(2)
    import_torchvision_transforms()
    from importlib.metadata import version
    t0 = time.time()
    pil, arrays = load_images()
    inputs, resized = reference_inputs(pil, arrays)
    checks = {}
    # our numpy preprocessing against the reference code
    for conv in CONVENTIONS:
        src = pil if conv == "dgm-eval" else arrays
        mine = np.stack([ours.preprocess(im, conv) for im in src])
        checks[f"preprocess_{conv}_max_abs_diff"] = float(np.abs(mine - inputs[conv].numpy()).max())
    mine_resized = [ours.resize_torch_aa_bicubic(a.transpose(2, 0, 1)) for a in arrays]
    checks["edm2_resize_max_abs_diff_0_255"] = max(
        float(np.abs(m - r).max()) for m, r in zip(mine_resized, resized))
    out = {}
    meta = {"depths": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for depth in (2, 24):
            tensors = standin_tensors(depth)
            weights = write_torch_state_dict(Path(tmp) / f"standin_{depth}.pth", tensors)
            back = torch.load(weights, map_location="cpu", weights_only=True)
            assert list(back) == list(tensors)
            assert all(np.array_equal(back[k].numpy(), v) for k, v in tensors.items())
            del back
            model = reference_model(weights, depth)
            if depth == 2:
                x = torch.zeros(1, 257, 1024)
                theirs = model.interpolate_pos_encoding(x, 224, 224).numpy()
                mine = resized_pos_embed(tensors["pos_embed"], 224, 14)
                checks["pos_embed_resize_max_abs_diff"] = float(np.abs(theirs - mine).max())
                checks["pos_embed_resize_bit_equal"] = bool(np.array_equal(theirs, mine))
            del tensors
            rows = list(range(len(NAMES))) if depth == 2 else FULL_DEPTH_IMAGES
            entry = {"images": [NAMES[i] for i in rows], "fd": {}}
            for conv in CONVENTIONS:
                feats = features(model, inputs[conv][rows])
                out[f"features_d{depth}_{conv}"] = feats.astype(np.float32)
                if depth == 2:
                    for pair, (a, b) in PAIRS.items():
                        entry["fd"][f"{conv}/{pair}"] = {
                            "sqrtm": fd_sqrtm(feats[a], feats[b]),
                            "exact_low_rank": fd_exact(feats[a], feats[b])}
            meta["depths"][str(depth)] = entry
            del model
    meta.update({
        "generator": "tests/reference/make_dinov2_reference.py",
        "standin_seed": STANDIN_SEED,
        "reference_model": "dinov2==0.0.1.dev2 vit_large(patch_size=14, img_size=518, "
                           "init_values=1.0, block_chunks=0[, depth=2]); model(x) = "
                           "x_norm_clstoken; no xFormers (plain attention)",
        "images": NAMES, "pairs": {k: [list(a), list(b)] for k, (a, b) in PAIRS.items()},
        "checks": checks,
        "versions": {"torch": torch.__version__, "torchvision": version("torchvision"),
                     "dinov2": version("dinov2"), "numpy": np.__version__,
                     "scipy": scipy.__version__, "pillow": PIL.__version__},
        "seconds": round(time.time() - t0, 1),
    })
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT_DIR / "reference.npz", **out)
    (OUT_DIR / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
