"""DINOv2 ViT-L/14 built without torch equals Meta's model code (stand-in weights).

tests/fixtures/dinov2/reference.npz holds the features that dinov2 0.0.1.dev2's
``vit_large(patch_size=14, img_size=518, init_values=1.0, block_chunks=0)`` gave for the
seeded stand-in weights (models.dinov2.standin, regenerated here from the seed) under both
preprocessing conventions, and reference.json the FDs of two set pairs
(tests/reference/make_dinov2_reference.py). The default tier runs the 2-block stand-in; the
24-block one is in the slow tier.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from engine.features.dinov2_preprocess import CONVENTIONS, preprocess
from models.common.files import provenance_path
from models.dinov2.graph import build_dinov2_model
from models.dinov2.standin import (standin_images, standin_tensors, write_standin,
                                   write_torch_state_dict)
from models.common.files import sha256_file
from models.dinov2.weights import ViTSpec, load_dinov2_weights
from models.errors import WeightsFormatError

FIXTURES = Path(__file__).parent / "fixtures"
REF = FIXTURES / "dinov2"
FEATURE_ATOL = 1e-4
FD_RTOL = 1e-5
SMALL = ViTSpec(depth=2)
TINY = ViTSpec(depth=1)  # the refusal tests: same widths, one block, half the bytes again


def _reference():
    meta = json.loads((REF / "reference.json").read_text())
    with np.load(REF / "reference.npz") as z:
        arrays = {k: z[k] for k in z.files}
    return meta, arrays


def _images(names: list[str]):
    """PIL RGB images by reference name: parity files (decode checked against the manifest)
    or the seeded synthetic ones."""
    manifest = json.loads((FIXTURES / "parity" / "images_manifest.json").read_text())["files"]
    synthetic = dict(zip(["standin_448x448", "standin_300x257"], standin_images()))
    out = []
    for name in names:
        if name in synthetic:
            out.append(Image.fromarray(synthetic[name], "RGB"))
            continue
        with Image.open(FIXTURES / "parity" / name) as im:
            rgb = im.convert("RGB")
        pixels = np.asarray(rgb, np.uint8)
        assert hashlib.sha256(pixels.tobytes()).hexdigest() == manifest[name]["pixels_sha256"], \
            f"{name} decodes differently here (Pillow/libjpeg): features cannot match"
        out.append(rgb)
    return out


def _fd(f1: np.ndarray, f2: np.ndarray) -> float:
    """FD in float64. tr sqrtm(S1 S2) is taken as the nuclear norm of A1 A2ᵀ / sqrt((n1-1)
    (n2-1)) (A = centred features): exact for these few-sample sets and far cheaper than
    sqrtm of a 1024 x 1024 product. The reference used scipy's sqrtm (dgm-eval's formula); the
    two agree to 4e-7 relative here (reference.json, 'exact_low_rank')."""
    f1, f2 = f1.astype(np.float64), f2.astype(np.float64)
    a1, a2 = f1 - f1.mean(0), f2 - f2.mean(0)
    n1, n2 = len(f1) - 1, len(f2) - 1
    tr_sqrt = np.linalg.svd(a1 @ a2.T / np.sqrt(n1 * n2), compute_uv=False).sum()
    diff = f1.mean(0) - f2.mean(0)
    return float(diff @ diff + (a1 * a1).sum() / n1 + (a2 * a2).sum() / n2 - 2 * tr_sqrt)


def _features(model: Path, inputs: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    return sess.run(["features"], {"images": inputs})[0]


@pytest.fixture(scope="module")
def small_model(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("dinov2")
    weights = write_standin(d / "standin_d2.pth", depth=2)
    prov = build_dinov2_model(weights, d / "dinov2_d2.onnx", SMALL)
    assert prov["source_sha256"] == sha256_file(weights) and prov["depth"] == 2
    return d / "dinov2_d2.onnx"


@pytest.fixture(scope="module")
def small_features(small_model) -> dict[str, np.ndarray]:
    """Features of the reference images under both conventions, in one session run."""
    meta, _ = _reference()
    images = _images(meta["depths"]["2"]["images"])
    inputs = np.stack([preprocess(im, c) for c in CONVENTIONS for im in images])
    feats = _features(small_model, inputs)
    return dict(zip(CONVENTIONS, np.split(feats, len(CONVENTIONS))))


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_two_block_standin_matches_reference(small_features, convention):
    meta, ref = _reference()
    feats = small_features[convention]
    expected = ref[f"features_d2_{convention}"]
    assert feats.shape == expected.shape == (len(meta["depths"]["2"]["images"]), 1024)
    diff = float(np.abs(feats - expected).max())
    print(f"{convention}: max |feature - reference| = {diff:.2e}")
    assert diff <= FEATURE_ATOL
    for pair, (a, b) in meta["pairs"].items():
        want = meta["depths"]["2"]["fd"][f"{convention}/{pair}"]["sqrtm"]
        got = _fd(feats[a], feats[b])
        print(f"{convention} {pair}: FD {got:.9g}, reference {want:.9g}, "
              f"rel {abs(got - want) / want:.1e}")
        assert got == pytest.approx(want, rel=FD_RTOL), pair


def test_model_file_and_provenance(small_model):
    prov = json.loads(provenance_path(small_model).read_text())
    assert prov["model_sha256"] == sha256_file(small_model)
    assert prov["outputs"] == {"features": ["batch", 1024]}
    assert prov["pos_embed_resize"]["from"] == [37, 37] and prov["pos_embed_resize"]["to"] == [16, 16]
    sess = ort.InferenceSession(str(small_model), providers=["CPUExecutionProvider"])
    assert [i.shape for i in sess.get_inputs()] == [["batch", 3, 224, 224]]


# ---------------------------------------------------------------- refusals

@pytest.fixture(scope="module")
def small_tensors() -> dict[str, np.ndarray]:
    return standin_tensors(depth=1)


def _write(tmp_path: Path, tensors: dict) -> Path:
    return write_torch_state_dict(tmp_path / "w.pth", tensors)


def test_standin_file_verifies(tmp_path, small_tensors):
    back = load_dinov2_weights(_write(tmp_path, small_tensors), TINY)
    assert list(back) == list(small_tensors)
    assert all(np.array_equal(back[k], v) for k, v in small_tensors.items())


def test_missing_key_is_refused(tmp_path, small_tensors):
    t = dict(small_tensors)
    del t["blocks.0.ls2.gamma"]
    with pytest.raises(WeightsFormatError, match="missing.*blocks.0.ls2.gamma"):
        load_dinov2_weights(_write(tmp_path, t), TINY)


def test_extra_key_is_refused(tmp_path, small_tensors):
    t = dict(small_tensors)
    t["register_tokens"] = np.zeros((1, 4, 1024), np.float32)
    with pytest.raises(WeightsFormatError, match="unexpected.*register_tokens"):
        load_dinov2_weights(_write(tmp_path, t), TINY)


def test_wrong_shape_is_refused(tmp_path, small_tensors):
    t = dict(small_tensors)
    t["blocks.0.attn.qkv.weight"] = t["blocks.0.attn.qkv.weight"].T.copy()  # same size
    with pytest.raises(WeightsFormatError, match=r"'blocks.0.attn.qkv.weight' has shape "
                                                 r"\(1024, 3072\), expected \(3072, 1024\)"):
        load_dinov2_weights(_write(tmp_path, t), TINY)


def test_wrong_dtype_is_refused(tmp_path, small_tensors):
    t = dict(small_tensors)
    t["norm.bias"] = t["norm.bias"].astype(np.float64)
    with pytest.raises(WeightsFormatError, match="float64, expected float32"):
        load_dinov2_weights(_write(tmp_path, t), TINY)
    t = dict(small_tensors)
    t["blocks.0.ls1.gamma"] = np.zeros(1024, np.int64)
    with pytest.raises(WeightsFormatError, match="'blocks.0.ls1.gamma' is int64"):
        load_dinov2_weights(_write(tmp_path, t), TINY)


def test_nan_value_is_refused(tmp_path, small_tensors):
    t = dict(small_tensors)
    t["blocks.0.attn.qkv.bias"] = t["blocks.0.attn.qkv.bias"].copy()
    t["blocks.0.attn.qkv.bias"][7] = np.nan
    with pytest.raises(WeightsFormatError, match="blocks.0.attn.qkv.bias.*NaN"):
        load_dinov2_weights(_write(tmp_path, t), TINY)


def test_truncated_file_is_refused(tmp_path, small_tensors):
    path = _write(tmp_path, small_tensors)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsFormatError, match="truncated"):
        load_dinov2_weights(path, TINY)


def _member_offset(path: Path, member: str) -> int:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    with open(path, "rb") as f:  # the local header's name/extra lengths decide the offset
        f.seek(info.header_offset + 26)
        n, m = np.frombuffer(f.read(4), "<u2")
    return info.header_offset + 30 + int(n) + int(m)


@pytest.mark.parametrize("member", ["archive/data.pkl", "archive/data/12"])
def test_corrupted_file_is_refused(tmp_path, small_tensors, member):
    path = _write(tmp_path, small_tensors)
    data = bytearray(path.read_bytes())
    start = _member_offset(path, member)
    data[start + 2: start + 40] = bytes(38)  # a damaged block, same file size
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsFormatError, match="corrupted"):
        load_dinov2_weights(path, TINY)


def test_wrong_architecture_is_refused(tmp_path, small_tensors):
    # another depth: told apart by the file size before anything is read
    with pytest.raises(WeightsFormatError, match="2 blocks.*bytes"):
        load_dinov2_weights(_write(tmp_path, small_tensors), SMALL)
    # the same tensors under block_chunks=4 keys ('blocks.<chunk>.<i>.'): not the hub layout
    chunked = {k.replace("blocks.", "blocks.0."): v for k, v in small_tensors.items()}
    with pytest.raises(WeightsFormatError, match="chunked"):
        load_dinov2_weights(_write(tmp_path, chunked), TINY)


def test_nothing_is_written_for_a_refused_file(tmp_path, small_tensors):
    t = dict(small_tensors)
    del t["norm.weight"]
    out = tmp_path / "m.onnx"
    with pytest.raises(WeightsFormatError):
        build_dinov2_model(_write(tmp_path, t), out, TINY)
    assert not out.exists() and not provenance_path(out).exists()
    assert [p.name for p in tmp_path.iterdir()] == ["w.pth"]


# ---------------------------------------------------------------- full size (slow)

@pytest.fixture(scope="module")
def full_model(tmp_path_factory):
    """The 24-block stand-in as ONNX (1.2 GB), removed after the module: pytest keeps its
    last temp folders, and these files are large."""
    d = tmp_path_factory.mktemp("dinov2_full")
    weights = write_standin(d / "dinov2_vitl14_standin.pth")
    build_dinov2_model(weights, d / "dinov2.onnx")
    weights.unlink()
    yield d / "dinov2.onnx"
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("convention", CONVENTIONS)
def test_full_size_standin_matches_reference(full_model, convention):
    meta, ref = _reference()
    names = meta["depths"]["24"]["images"]
    inputs = np.stack([preprocess(im, convention) for im in _images(names)])
    feats = _features(full_model, inputs)
    diff = float(np.abs(feats - ref[f"features_d24_{convention}"]).max())
    print(f"24 blocks, {convention}: max |feature - reference| = {diff:.2e}")
    assert diff <= FEATURE_ATOL
