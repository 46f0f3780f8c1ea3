"""CLIP image encoders built without torch equal OpenAI's model code (stand-in weights).

tests/fixtures/clip/reference.npz holds the embeddings that ``clip.load(stand-in, "cpu")``
gave (tests/reference/make_clip_reference.py): ViT-B/32 through clean-fid 0.1.35's own CLIP
path, ViT-L/14@336px on cmmd's preprocessing; reference.json the CLIP-FID (clean-fid's value
and the exact low-rank one), the CMMD (float64 and float32), and the SHA-256 of every
reference network input. The default tier runs the 2-block stand-ins (conftest's
clip_model_paths); the full-depth ones are in the slow tier.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from engine.features.clip_preprocess import IMAGE_SIZE, preprocess
from models.clip.graph import build_clip_model
from models.clip.standin import TINY_SPEC, spec_tensors, standin_images, write_standin
from models.clip.verify import architecture, load_clip_weights, verify_weights_file
from models.clip.weights import SPECS, clip_load_values, expected_layout, spec_for

# the CLIP-FID / CMMD side (tests/fixtures/clip); CLIPScore's: tests/test_clipscore_model.py
FID_CONVENTIONS = ("clean-fid", "cmmd")
FID_VARIANTS = ("vitb32", "vitl14-336")
from models.common.files import provenance_path, sha256_file
from models.common.torch_layout import archive_layout
from models.common.torch_reader import read_tensors
from models.common.torch_writer import write_torch_state_dict
from models.errors import HashMismatchError, ModelBuildError, WeightsFormatError

REF = Path(__file__).parent / "fixtures" / "clip"
FEATURE_ATOL = 1e-4
CONV = {"vitb32": "clean-fid", "vitl14-336": "cmmd"}


def _reference():
    meta = json.loads((REF / "reference.json").read_text())
    with np.load(REF / "reference.npz") as z:
        return meta, {k: z[k] for k in z.files}


def _sets() -> dict[str, list[tuple[str, np.ndarray]]]:
    """The two seeded image sets in the order the reference tools read the folders."""
    return {f"set{s}": sorted(standin_images(s), key=lambda t: t[0]) for s in (0, 1)}


def _features(model: Path, inputs: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(model), so, providers=["CPUExecutionProvider"])
    return sess.run(["features"], {"images": inputs})[0]


def _fd_low_rank(f1, f2) -> float:
    """FD in float64, tr sqrt(S1 S2) as the nuclear norm of A1 A2ᵀ / sqrt((n1-1)(n2-1))."""
    a1, a2 = f1 - f1.mean(0), f2 - f2.mean(0)
    n1, n2 = len(f1) - 1, len(f2) - 1
    tr = np.linalg.svd(a1 @ a2.T / np.sqrt(n1 * n2), compute_uv=False).sum()
    diff = f1.mean(0) - f2.mean(0)
    return float(diff @ diff + (a1 * a1).sum() / n1 + (a2 * a2).sum() / n2 - 2 * tr)


def _cmmd64(x, y, sigma=10.0, scale=1000.0) -> float:
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    g = 1 / (2 * sigma ** 2)

    def k(a, b):
        d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return np.exp(-g * d).mean()
    return float(scale * (k(x, x) + k(y, y) - 2 * k(x, y)))


@pytest.fixture(scope="module")
def inputs() -> dict[str, dict[str, np.ndarray]]:
    """Our preprocessing of both sets under both conventions."""
    return {conv: {k: np.stack([preprocess(a, conv) for _, a in imgs])
                   for k, imgs in _sets().items()} for conv in FID_CONVENTIONS}


@pytest.mark.parametrize("conv", FID_CONVENTIONS)
def test_preprocessing_is_bit_equal_to_the_reference(inputs, conv):
    meta, _ = _reference()
    want = meta[f"input_sha256_{conv}"]
    names = [n for imgs in _sets().values() for n, _ in imgs]
    got = {n: hashlib.sha256(x.tobytes()).hexdigest()
           for n, x in zip(names, np.concatenate(list(inputs[conv].values())))}
    assert got == want
    size = IMAGE_SIZE[conv]
    assert inputs[conv]["set0"].shape == (6, 3, size, size)
    print(f"{conv}: max |ours - reference| = "
          f"{meta['checks'][f'preprocess_{conv}_max_abs_diff']} (reference script)")


# ViT-L/14@336px costs ~9 s for the 12 images on 2 cores even at 2 blocks: the default tier
# runs 2 images of each set, the slow tier all of them and the CMMD value
SUBSET = {"vitb32": slice(None), "vitl14-336": slice(0, 2)}


@pytest.mark.parametrize("variant", FID_VARIANTS)
def test_two_block_standins_match_reference(clip_model_paths, inputs, variant):
    meta, ref = _reference()
    rows = SUBSET[variant]
    feats = {k: _features(clip_model_paths[variant], x[rows])
             for k, x in inputs[CONV[variant]].items()}
    diff = max(float(np.abs(feats[k] - ref[f"{variant}_d2_{k}"][rows]).max()) for k in feats)
    print(f"{variant}: max |embedding - reference| = {diff:.2e}")
    assert diff <= FEATURE_ATOL
    if variant == "vitb32":
        want = meta["variants"][variant]["depths"]["2"]
        got = _fd_low_rank(*(feats[k].astype(np.float64) for k in ("set0", "set1")))
        print(f"CLIP-FID {got:.9g}; reference exact {want['clip_fid_exact_low_rank']:.9g}, "
              f"clean-fid {want['clip_fid_cleanfid']:.9g}")
        assert got == pytest.approx(want["clip_fid_exact_low_rank"], rel=1e-5)


@pytest.mark.slow
def test_two_block_cmmd_matches_reference(clip_model_paths, inputs):
    meta, ref = _reference()
    feats = {k: _features(clip_model_paths["vitl14-336"], x).astype(np.float64)
             for k, x in inputs["cmmd"].items()}
    want = meta["variants"]["vitl14-336"]["depths"]["2"]["cmmd_float64"]
    got = _cmmd64(feats["set0"], feats["set1"])
    print(f"CMMD {got:.9g}; reference float64 {want:.9g}, rel {abs(got - want) / want:.1e}")
    assert got == pytest.approx(want, rel=1e-4)


def test_model_file_and_provenance(clip_model_paths):
    for variant, path in clip_model_paths.items():
        spec = SPECS[variant]
        prov = json.loads(provenance_path(path).read_text())
        assert prov["model_sha256"] == sha256_file(path) and prov["depth"] == 2
        assert prov["outputs"] == {"features": ["batch", spec.output_dim]}
        assert prov["model"] == f"clip-{variant}" and not prov["source_official"]
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        s = spec.image_size
        assert [i.shape for i in sess.get_inputs()] == [["batch", 3, s, s]]


# ---------------------------------------------------------------- reading

def test_torchscript_archive_is_read_as_the_state_dict():
    """tests/fixtures/clip/tiny_torchscript.pt: a CLIP of tiny widths that the reference
    script traced and saved with torch.jit.save in float16, as OpenAI's files are."""
    archive = REF / "tiny_torchscript.pt"
    want = spec_tensors(TINY_SPEC)
    got = read_tensors(archive)
    assert all(np.array_equal(got[k], v.astype(np.float32)) for k, v in want.items())
    layout = archive_layout(archive)
    assert {layout[k] for k in want} >= {((64,), np.dtype("<f2"))}
    assert all(layout[k] == (v.shape, np.dtype("<f2")) for k, v in want.items())
    back = load_clip_weights(archive, TINY_SPEC)
    assert list(back) == list(expected_layout(TINY_SPEC))


def test_float32_copies_are_rounded_as_clip_load_rounds_them():
    t = {"visual.proj": np.array([1 + 2 ** -12], np.float32),
         "visual.ln_post.weight": np.array([1 + 2 ** -12], np.float32),
         "visual.transformer.resblocks.0.mlp.c_fc.bias": np.array([0.1], np.float32)}
    out = clip_load_values(t)
    assert out["visual.proj"][0] == 1.0  # float16 parameter in build_model: rounded
    assert out["visual.ln_post.weight"][0] == np.float32(1 + 2 ** -12)  # LayerNorm: kept
    assert out["visual.transformer.resblocks.0.mlp.c_fc.bias"][0] == np.float16(0.1)


# ---------------------------------------------------------------- refusals

@pytest.fixture(scope="module")
def tiny() -> dict[str, np.ndarray]:
    return spec_tensors(TINY_SPEC)


def _write(tmp_path: Path, tensors: dict, name: str = "w.pt") -> Path:
    return write_torch_state_dict(tmp_path / name, tensors)


@pytest.mark.parametrize("change, reason", [
    (lambda t: t.pop("visual.ln_post.bias"), "missing, e.g. 'visual.ln_post.bias'"),
    (lambda t: t.update({"visual.attnpool.c_proj.bias": np.zeros(8, np.float16)}),
     "unexpected tensor.*visual.attnpool"),
    (lambda t: t.update({"visual.proj": t["visual.proj"].T.copy()}),
     r"'visual.proj' has shape \(8, 64\), expected \(64, 8\)"),
    (lambda t: t.update({"ln_final.bias": t["ln_final.bias"].astype(np.float64)}),
     "'ln_final.bias' is stored as float64, expected float16 or float32"),
    (lambda t: t["visual.ln_pre.weight"].__setitem__(3, np.inf), r"ln_pre.weight' holds 1 NaN"),
])
def test_bad_tensors_are_refused(tmp_path, tiny, change, reason):
    t = {k: v.copy() for k, v in tiny.items()}
    change(t)
    with pytest.raises(WeightsFormatError, match=reason) as err:
        load_clip_weights(_write(tmp_path, t), TINY_SPEC)
    assert "\n" not in str(err.value)


def test_truncated_corrupted_and_web_page_files_are_refused(tmp_path, tiny):
    path = _write(tmp_path, tiny)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsFormatError, match="truncated"):
        load_clip_weights(path, TINY_SPEC)
    path = _write(tmp_path, tiny)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("archive/data/6")  # visual.conv1.weight
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 64
    data[start: start + 40] = bytes(40)  # a damaged block, same size: CRC mismatch
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsFormatError, match="cannot be read.*corrupted"):
        load_clip_weights(path, TINY_SPEC)
    page = tmp_path / "page.pt"
    page.write_bytes(b"<!DOCTYPE html><html><body>sign in</body></html>" * 4000)
    with pytest.raises(WeightsFormatError, match="is a web page"):
        verify_weights_file(page, TINY_SPEC)


def test_a_file_named_as_openais_must_have_its_hash(tmp_path, tiny):
    spec = SPECS["vitb32"]
    fake = _write(tmp_path, tiny, spec.file_name)
    with pytest.raises(HashMismatchError) as err:
        verify_weights_file(fake, spec)
    msg = str(err.value)
    assert "\n" not in msg and "claims to be OpenAI's ViT-B-32.pt" in msg
    assert sha256_file(fake) in msg and spec.sha256 in msg


def test_another_model_is_refused_by_name():
    def layout(spec):
        return {k: (s, np.dtype("<f2")) for k, s in expected_layout(spec).items()}
    b16 = architecture(layout(dataclasses.replace(spec_for("vitb32"), patch=16)))
    assert b16 == {"resnet": False, "width": 768, "patch": 16, "image_size": 224, "depth": 12}
    l14 = architecture(layout(SPECS["vitl14-336"]))
    assert l14["image_size"] == 336 and l14["depth"] == 24
    rn = architecture({"visual.layer1.0.conv1.weight": ((64, 64, 1, 1), np.dtype("<f2"))})
    assert rn["resnet"]


def test_nothing_is_written_for_a_refused_file(tmp_path, tiny):
    t = dict(tiny)
    del t["visual.conv1.weight"]
    out = tmp_path / "m.onnx"
    with pytest.raises(ModelBuildError):
        build_clip_model(_write(tmp_path, t), out, TINY_SPEC)
    assert not out.exists() and not provenance_path(out).exists()


# ---------------------------------------------------------------- full size (slow)

@pytest.mark.slow
@pytest.mark.parametrize("variant", FID_VARIANTS)
def test_full_size_standin_matches_reference(tmp_path, inputs, variant, capfd, monkeypatch):
    """The full-depth stand-in (both towers, OpenAI's full layout) added as a user would,
    `python main.py model add clip-… --weights FILE` (the same checks as OpenAI's file), its
    embeddings against clip.load's."""
    from cli_here import cli_here
    from models.clip.build import MODEL_FILES
    meta, ref = _reference()
    spec = SPECS[variant]
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    try:
        weights = write_standin(tmp_path / "standin.pt", variant, depth=None)
        got = cli_here(capfd, "model", "add", spec.model_name, "--weights", str(weights))
        assert got.returncode == 0, got.stderr
        weights.unlink()
        model = tmp_path / "data" / "models" / MODEL_FILES[variant]
        prov = json.loads(model.with_name(model.name + ".json").read_text())
        assert prov["depth"] == spec.layers and prov["source"].startswith("file ")
        feats = {}
        for k, x in inputs[CONV[variant]].items():
            feats[k] = _features(model, x)
            diff = float(np.abs(feats[k] - ref[f"{variant}_d{spec.layers}_{k}"]).max())
            print(f"{variant} full depth, {k}: max |embedding - reference| = {diff:.2e}")
            assert diff <= FEATURE_ATOL
        want = meta["variants"][variant]["depths"][str(spec.layers)]
        f0, f1 = feats["set0"].astype(np.float64), feats["set1"].astype(np.float64)
        if variant == "vitb32":
            assert _fd_low_rank(f0, f1) == pytest.approx(want["clip_fid_exact_low_rank"],
                                                         rel=1e-5)
        else:
            assert _cmmd64(f0, f1) == pytest.approx(want["cmmd_float64"], rel=1e-4)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
