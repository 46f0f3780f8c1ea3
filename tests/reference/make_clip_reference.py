"""CLIP golden values from OpenAI's model code and clean-fid's own CLIP path, with seeded stand-ins.

OpenAI's files are not used: models.clip.standin writes seeded float16 tensors in their exact
key layout (numpy; the tests regenerate them from the seed) as a torch.save state dict, which
``clip.load(path, device="cpu")`` (clip-anytorch, OpenAI's ``clip`` module) reads with
``build_model`` and ``model.float()``. For each variant and depth (2 and full):

* ViT-B/32, convention clean-fid: clean-fid 0.1.35 itself, ``compute_fid(dir1, dir2,
  mode="clean", model_name="clip_vit_b_32", device=cpu)`` with only ``clip.load`` patched
  (it would download "ViT-B/32"; it gets the stand-in's path), and ``get_folder_features``
  with the same ``CLIP_fx`` and ``img_preprocess_clip`` for the embeddings per image; the
  network inputs come from clean-fid's ``ResizeDataset`` + ``CLIP_fx``'s normalisation.
* ViT-L/14@336px, convention cmmd: google-research cmmd/io_util.py's ``_read_image`` /
  ``_center_crop_and_resize`` / gray tiling (transcribed below: cmmd needs jax/tensorflow),
  ``/ 255``, CLIP normalisation, ``model.encode_image`` (float32), L2-normalised; the MMD of
  cmmd/distance.py (sigma 10, scale 1000, biased) in float64, and in float32 as the
  reference runs it.

Also: the 2-block stand-ins saved as TorchScript archives (``torch.jit.trace`` of the whole
CLIP, then ``.half()``, ``torch.jit.save``: OpenAI's files are such archives), read back by
clip.load (same embeddings) and by our reader (same tensors); and TINY, a CLIP of tiny widths,
saved the same way as tests/fixtures/clip/tiny_torchscript.pt.

Run (reference venv: CLIP_ONLY=1 bench/setup_reference_env.sh):

    nice -n 10 /work/refenv-clip/bin/python tests/reference/make_clip_reference.py

Writes tests/fixtures/clip/reference.npz, reference.json and tiny_torchscript.pt.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from engine.features import clip_preprocess as ours  # noqa: E402
from make_dinov2_reference import import_torchvision_transforms  # noqa: E402
from models.clip.standin import (STANDIN_SEED, TINY_SPEC, spec_tensors,  # noqa: E402
                                 standin_images, standin_tensors)
from models.clip.verify import load_clip_weights  # noqa: E402
from models.clip.weights import SPECS, spec_for  # noqa: E402
from models.common.torch_reader import read_tensors  # noqa: E402
from models.common.torch_writer import write_torch_state_dict  # noqa: E402

OUT_DIR = ROOT / "tests" / "fixtures" / "clip"
CONVENTION = {"vitb32": "clean-fid", "vitl14-336": "cmmd"}
SIGMA, SCALE = 10, 1000  # cmmd/distance.py


def write_folders(tmp: Path) -> dict[str, list[str]]:
    """The two seeded sets as PNG folders (one-channel files for 'gray' images)."""
    from PIL import Image
    names = {}
    for style in (0, 1):
        d = tmp / f"set{style}"
        d.mkdir()
        names[f"set{style}"] = []
        for name, arr in standin_images(style):
            im = Image.fromarray(arr[..., 0], "L") if name.endswith("gray") else \
                Image.fromarray(arr, "RGB")
            im.save(d / f"{name}.png")
            names[f"set{style}"].append(name)
        names[f"set{style}"].sort()  # the order every tool here reads a folder in
    return names


# ---------------------------------------------------------------- cmmd/io_util.py

def cmmd_center_crop_and_resize(im, size):
    w, h = im.size
    side = min(w, h)
    top = (h - side) // 2
    left = (w - side) // 2
    im = im.crop((left, top, left + side, top + side))
    return im.resize((size, size), resample=__import__("PIL.Image").Image.BICUBIC)


def cmmd_read_image(path, reshape_to):
    from PIL import Image
    with open(path, "rb") as f:
        im = Image.open(f)
        im.load()
    im = cmmd_center_crop_and_resize(im, reshape_to)
    x = np.asarray(im).astype(np.float32)
    return np.tile(x[..., np.newaxis], (1, 1, 3)) if x.ndim == 2 else x


def cmmd_inputs(folder: Path):
    """cmmd: images / 255.0 (float32), then scenic's normalize_image (float32)."""
    import torch
    files = sorted(folder.glob("*.png"))
    x = np.stack([cmmd_read_image(f, 336) for f in files]) / 255.0
    assert x.dtype == np.float32
    mean = np.array(ours.CLIP_MEAN, np.float32)
    std = np.array(ours.CLIP_STD, np.float32)
    x = (x - mean) / std
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def mmd(x: np.ndarray, y: np.ndarray, dtype) -> float:
    """cmmd/distance.py's mmd, in numpy at the given dtype."""
    x, y = x.astype(dtype), y.astype(dtype)
    gamma = dtype(1 / (2 * SIGMA ** 2))
    xx, yy = np.diag(x @ x.T), np.diag(y @ y.T)

    def k(a, b, na, nb):
        return np.mean(np.exp(-gamma * (-2 * (a @ b.T) + na[:, None] + nb[None, :])))

    return float(dtype(SCALE) * (k(x, x, xx, xx) + k(y, y, yy, yy) - 2 * k(x, y, xx, yy)))


# ---------------------------------------------------------------- clean-fid

def cleanfid_run(weights: Path, folders: dict[str, Path]):
    """compute_fid and get_folder_features with clip.load pointed at the stand-in."""
    import clip
    import torch
    from cleanfid import fid
    from cleanfid.clip_features import CLIP_fx, img_preprocess_clip
    from cleanfid.utils import ResizeDataset
    T = import_torchvision_transforms()
    real_load = clip.load
    clip.load = lambda name, device="cpu", **kw: real_load(str(weights), device=device, **kw)
    try:
        cpu = torch.device("cpu")
        value = fid.compute_fid(str(folders["set0"]), str(folders["set1"]), mode="clean",
                                model_name="clip_vit_b_32", device=cpu, num_workers=0,
                                verbose=False)
        fx = CLIP_fx("ViT-B/32", device=cpu)
        feats = {k: fid.get_folder_features(str(d), fx, num_workers=0, device=cpu,
                                            mode="clean", custom_fn_resize=img_preprocess_clip,
                                            verbose=False) for k, d in folders.items()}
    finally:
        clip.load = real_load
    inputs = {}
    norm = T.Normalize((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
    for k, d in folders.items():
        ds = ResizeDataset(sorted(str(p) for p in d.glob("*.png")), mode="clean")
        ds.fn_resize = img_preprocess_clip
        inputs[k] = torch.stack([norm(ds[i] / 255.0) for i in range(len(ds))])
    return float(value), feats, inputs


def fd_exact(f1: np.ndarray, f2: np.ndarray) -> float:
    """tr sqrt(S1 S2) = nuclear norm of A1 A2ᵀ / sqrt((n1-1)(n2-1)), A = centred features."""
    a1 = f1.astype(np.float64) - f1.astype(np.float64).mean(0)
    a2 = f2.astype(np.float64) - f2.astype(np.float64).mean(0)
    tr = np.linalg.svd(a1 @ a2.T / np.sqrt((len(f1) - 1) * (len(f2) - 1)),
                       compute_uv=False).sum()
    diff = f1.astype(np.float64).mean(0) - f2.astype(np.float64).mean(0)
    return float(diff @ diff + (a1 * a1).sum() / (len(f1) - 1) + (a2 * a2).sum() / (len(f2) - 1)
                 - 2 * tr)


# ---------------------------------------------------------------- TorchScript archives

def save_torchscript(model, spec, path: Path) -> None:
    """Trace the whole float32 CLIP (image and text), convert to float16, jit.save."""
    import copy

    import torch
    image = torch.zeros(1, 3, spec.image_size, spec.image_size)
    text = torch.zeros(1, spec.context_length, dtype=torch.long)
    # a copy: the traced module shares its parameters, and .half() converts them in place
    model = copy.deepcopy(model).float().eval()
    traced = torch.jit.trace(model, (image, text), check_trace=False)
    traced.half()
    torch.jit.save(traced, str(path))


def tiny_archive(path: Path) -> dict:
    import torch
    from clip.model import CLIP
    s = TINY_SPEC
    model = CLIP(s.output_dim, s.image_size, s.layers, s.width, s.patch, s.context_length,
                 s.vocab_size, s.text_width, 1, s.text_layers)
    tensors = spec_tensors(s)
    model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()})
    save_torchscript(model, s, path)
    back = read_tensors(path)
    return {"tiny_archive_bytes": path.stat().st_size,
            "tiny_archive_tensors_equal": all(
                np.array_equal(back[k], v.astype(np.float32)) for k, v in tensors.items())}


def main() -> int:  # noqa: C901 (one linear script)
    import PIL
    import scipy
    import torch
    from importlib.metadata import version
    torch.set_num_threads(2)
    import_torchvision_transforms()
    import clip
    t0 = time.time()
    out, checks = {}, {}
    meta = {"variants": {}}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        names = write_folders(tmp)
        folders = {k: tmp / k for k in names}
        for variant, spec in SPECS.items():
            conv = CONVENTION[variant]
            entry = meta["variants"][variant] = {"convention": conv, "depths": {}}
            for depth in (2, spec.layers):
                tensors = standin_tensors(variant, depth)
                weights = write_torch_state_dict(tmp / f"{variant}_{depth}.pt", tensors)
                back = torch.load(weights, map_location="cpu", weights_only=True)
                assert all(np.array_equal(back[k].numpy(), v) for k, v in tensors.items())
                del back
                model, _ = clip.load(str(weights), device="cpu")
                d = {}
                if variant == "vitb32":
                    value, feats, inputs = cleanfid_run(weights, folders)
                    d["clip_fid_cleanfid"] = value
                    d["clip_fid_exact_low_rank"] = fd_exact(feats["set0"], feats["set1"])
                else:
                    inputs = {k: cmmd_inputs(f) for k, f in folders.items()}
                    with torch.no_grad():
                        feats = {k: model.encode_image(x).numpy() for k, x in inputs.items()}
                for k in folders:
                    out[f"{variant}_d{depth}_{k}"] = feats[k].astype(np.float32)
                if variant == "vitl14-336":
                    unit = {k: v / np.linalg.norm(v, axis=1, keepdims=True)
                            for k, v in feats.items()}
                    d["cmmd_float64"] = mmd(unit["set0"], unit["set1"], np.float64)
                    d["cmmd_float32"] = mmd(unit["set0"], unit["set1"], np.float32)
                    d["cmmd_float32_rel_diff"] = abs(d["cmmd_float32"] - d["cmmd_float64"]) \
                        / d["cmmd_float64"]
                entry["depths"][str(depth)] = d
                if depth == 2:
                    from PIL import Image
                    mine = {k: np.stack([ours.preprocess(
                        np.asarray(Image.open(p).convert("RGB")), conv)
                        for p in sorted(f.glob("*.png"))]) for k, f in folders.items()}
                    checks[f"preprocess_{conv}_max_abs_diff"] = max(
                        float(np.abs(mine[k] - inputs[k].numpy()).max()) for k in folders)
                    # the reference inputs by SHA-256 of their float32 bytes: the tests
                    # check ours bit for bit without storing megabytes of pixels
                    meta[f"input_sha256_{conv}"] = {
                        n: hashlib.sha256(np.ascontiguousarray(
                            inputs[k][i].numpy(), np.float32).tobytes()).hexdigest()
                        for k in folders for i, n in enumerate(names[k])}
                    archive = tmp / f"{variant}_{depth}_torchscript.pt"
                    save_torchscript(model, spec_for(variant, 2), archive)
                    ts_model, _ = clip.load(str(archive), device="cpu")
                    with torch.no_grad():
                        x = inputs["set0"][:2]
                        same = torch.equal(ts_model.encode_image(x), model.encode_image(x))
                    ours_back = load_clip_weights(archive, spec_for(variant, 2))
                    ref = load_clip_weights(weights, spec_for(variant, 2))
                    checks[f"{variant}_torchscript"] = {
                        "bytes": archive.stat().st_size,
                        "clip_load_same_embeddings": bool(same),
                        "our_reader_tensors_equal": list(ours_back) == list(ref) and all(
                            np.array_equal(ours_back[k], ref[k]) for k in ref)}
                del model
        checks.update(tiny_archive(OUT_DIR / "tiny_torchscript.pt"))
    meta.update({
        "generator": "tests/reference/make_clip_reference.py",
        "standin_seed": STANDIN_SEED,
        "sets": names,
        "reference": "clip-anytorch clip.load(path, device='cpu') (build_model, float32); "
                     "clean-fid 0.1.35 compute_fid/get_folder_features(model_name="
                     "'clip_vit_b_32', mode='clean'); cmmd io_util + distance (sigma 10, "
                     "scale 1000, biased) on L2-normalised encode_image",
        "checks": checks,
        "versions": {"torch": torch.__version__, "torchvision": version("torchvision"),
                     "clean-fid": version("clean-fid"), "clip-anytorch": version("clip-anytorch"),
                     "numpy": np.__version__, "scipy": scipy.__version__,
                     "pillow": PIL.__version__},
        "seconds": round(time.time() - t0, 1),
    })
    np.savez_compressed(OUT_DIR / "reference.npz", **out)
    (OUT_DIR / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
