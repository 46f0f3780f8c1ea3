"""Getting the DINOv2 weights and building the model (`model add dinov2-vitl14`, enable_dinov2).

Downloads run against a real HTTP server on 127.0.0.1 (tests/httpserve.py) serving a 2-block
stand-in in the official key layout (models/dinov2/standin.py), built with a 2-block spec
(`spec=`, passed to enable_dinov2 directly: the CLI builds the full 24 blocks only, so it is
driven here for its refusals, `model info`, and in the slow tier for a full-size --weights run).
Each refusal path of the weights: resume after a cut connection, cancel, a web page, a
truncated, corrupted, NaN-holding or wrong-architecture file (ViT-B/14, register tokens).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import zipfile

import numpy as np
import onnxruntime as ort
import pytest

from cli_here import cli_here, one_line_error
from httpserve import LocalServer, closed_port
from models import registry
from models.common import download as dl
from models.common.files import provenance_path, sha256_file
from models.dinov2.enable import OFFICIAL_WEIGHTS, enable_dinov2
from models.dinov2.standin import standin_tensors, write_standin, write_torch_state_dict
from models.dinov2.weights import WEIGHTS_FILE, ViTSpec, expected_layout
from models.errors import DownloadCancelled, DownloadError, ModelBuildError, WeightsFormatError
from models.paths import download_dir, find_model, user_model_path

SMALL = ViTSpec(depth=2)
MODEL_FILE = "dinov2_vitl14.onnx"


# each test its own data folder (downloads, built models) and no proxy from outside
pytestmark = pytest.mark.usefixtures("isolated_data_dir")


def _member_offset(data: bytes, path, member: str) -> int:
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    n, m = np.frombuffer(data[info.header_offset + 26: info.header_offset + 30], "<u2")
    return info.header_offset + 30 + int(n) + int(m)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    """The served files: the good 2-block stand-in and one bad variant per refusal."""
    d = tmp_path_factory.mktemp("dinov2_add")
    tensors = standin_tensors(depth=2)
    good_path = write_torch_state_dict(d / "good.pth", tensors)
    good = good_path.read_bytes()
    corrupted = bytearray(good)
    start = _member_offset(good, good_path, "archive/data/12")  # blocks.0.attn.proj.weight
    corrupted[start + 2: start + 40] = bytes(38)  # a damaged block, same size: CRC mismatch
    nan = dict(tensors)
    nan["blocks.1.mlp.fc1.bias"] = nan["blocks.1.mlp.fc1.bias"].copy()
    nan["blocks.1.mlp.fc1.bias"][5] = np.nan
    reg = dict(tensors, register_tokens=np.zeros((1, 4, 1024), np.float32))
    vitb = {k: np.zeros(s, np.float32) for k, s in
            expected_layout(ViTSpec(depth=2, embed_dim=768, num_heads=12, mlp_dim=3072)).items()}
    out = {"good.pth": good, "truncated.pth": good[: len(good) // 2],
           "corrupted.pth": bytes(corrupted)}
    for name, t in (("nan.pth", nan), ("reg.pth", reg), ("vitb.pth", vitb)):
        out[name] = write_torch_state_dict(d / name, t).read_bytes()
    shutil.rmtree(d, ignore_errors=True)
    return out


@pytest.fixture
def server(files):
    with LocalServer(files) as s:
        yield s


def _source(server, route: str, name: str = "good.pth") -> dl.RemoteFile:
    return dl.RemoteFile(server.url(f"{route}/{name}"), WEIGHTS_FILE, None, 109)


def _downloads() -> list[str]:
    d = download_dir()
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def test_download_resumes_after_a_cut_and_builds_into_the_data_folder(server, files, capfd):
    said = []
    with pytest.raises(DownloadError, match="interrupted after .* run it again to resume"):
        enable_dinov2(source=_source(server, "cut"), spec=SMALL, say=said.append)
    assert _downloads() == [WEIGHTS_FILE + ".part"]  # kept for the resume, never the final name
    assert find_model(MODEL_FILE) is None
    seen = []
    prov = enable_dinov2(source=_source(server, "cut"), spec=SMALL, say=said.append,
                         progress=lambda d, t: seen.append((d, t)))
    half = len(files["good.pth"]) // 2
    assert server.requests[-1][1].get("Range") == f"bytes={half}-"
    assert seen[0][0] > half and seen[-1] == (len(files["good.pth"]),) * 2
    out = user_model_path(MODEL_FILE)
    assert find_model(MODEL_FILE) == out and prov["model_path"] == str(out)
    assert _downloads() == []  # the 1.2 GB .pth is deleted once its tensors are in the model
    weights_sha = hashlib.sha256(files["good.pth"]).hexdigest()
    on_disk = json.loads(provenance_path(out).read_text())
    assert on_disk["source_sha256"] == prov["source_sha256"] == weights_sha
    assert on_disk["source"] == server.url("cut/good.pth") and on_disk["depth"] == 2
    assert on_disk["model_sha256"] == sha256_file(out)
    assert f"Weights SHA-256: {weights_sha}" in said
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    feats = sess.run(["features"], {"images": np.zeros((1, 3, 224, 224), np.float32)})[0]
    assert feats.shape == (1, 1024) and np.isfinite(feats).all()
    # `model info` lists the added model with the weights' hash
    got = cli_here(capfd, "model", "info")
    assert got.returncode == 0, got.stderr
    added = json.loads(got.stdout)["added"]["dinov2-vitl14"]
    assert added["path"] == str(out) and added["weights_sha256"] == weights_sha


def test_cancel_keeps_nothing(server):
    seen = []
    with pytest.raises(DownloadCancelled, match="nothing was kept"):
        enable_dinov2(source=_source(server, "trickle"), spec=SMALL,
                      progress=lambda d, t: seen.append(d), cancelled=lambda: bool(seen))
    assert len(seen) == 1 and _downloads() == []
    # cancelled after the download checked out, before the build: the .pth goes too
    flag = []
    with pytest.raises(DownloadCancelled):
        enable_dinov2(source=_source(server, "file"), spec=SMALL, cancelled=lambda: bool(flag),
                      say=lambda msg: flag.append(msg) if msg.startswith("Checking") else None)
    assert flag and _downloads() == [] and find_model(MODEL_FILE) is None
    # cancelled during the build, at each of its stages up to saving: no model, no .pth
    for stage in ("Writing the ONNX graph", "Checking the ONNX graph", "Saving "):
        flag = []
        with pytest.raises(DownloadCancelled, match="nothing was kept"):
            enable_dinov2(source=_source(server, "file"), spec=SMALL, cancelled=lambda: bool(flag),
                          say=lambda msg, _s=stage: flag.append(msg) if msg.startswith(_s) else None)
        assert flag and _downloads() == [] and find_model(MODEL_FILE) is None


@pytest.mark.parametrize("route", ["html", "sniff"])
def test_a_web_page_instead_of_the_file(server, route):
    with pytest.raises(DownloadError, match="web page instead of the weights file"):
        enable_dinov2(source=_source(server, route), spec=SMALL)
    assert _downloads() == [] and find_model(MODEL_FILE) is None


@pytest.mark.parametrize("name, reason", [
    ("truncated.pth", r"is [\d,]+ bytes.*truncated"),
    ("corrupted.pth", "cannot be read as a PyTorch state dict.*corrupted"),
    ("nan.pth", r"'blocks.1.mlp.fc1.bias' holds 1 NaN/infinite value\(s\)"),
    ("vitb.pth", r"holds a ViT-B/14 \(768 wide, 2 blocks\), expected a ViT-L/14 \(1024 wide"),
    ("reg.pth", r"with register tokens: a '_reg' model\)"),
])
def test_a_bad_download_is_refused_and_deleted(server, name, reason):
    out = user_model_path(MODEL_FILE)
    out.parent.mkdir(parents=True)
    out.write_bytes(b"the model built before")  # a good file already there stays as it is
    with pytest.raises(WeightsFormatError, match=reason) as err:
        enable_dinov2(source=_source(server, "file", name), spec=SMALL)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("the downloaded dinov2_vitl14_pretrain.pth")
    assert msg.endswith("(the downloaded file was deleted)")
    assert _downloads() == [] and out.read_bytes() == b"the model built before"
    assert sorted(p.name for p in out.parent.iterdir()) == [MODEL_FILE]


def test_a_failed_build_keeps_the_download_and_the_retry_reuses_it(server, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the model's folder should be")
    with pytest.raises(OSError):
        enable_dinov2(source=_source(server, "file"), spec=SMALL,
                      out_path=blocker / MODEL_FILE)
    assert _downloads() == [WEIGHTS_FILE]  # verified, in place: a retry need not download
    n = len(server.requests)
    said = []
    prov = enable_dinov2(source=_source(server, "file"), spec=SMALL, say=said.append)
    assert len(server.requests) == n and _downloads() == []
    assert prov["source"] == server.url("file/good.pth")
    assert any(m.startswith("Checking the downloaded") for m in said)  # re-verified, not trusted


def test_a_given_file_is_built_and_kept(tmp_path):
    weights = write_standin(tmp_path / "my copy.pth", depth=2)
    out = tmp_path / "out" / MODEL_FILE
    prov = enable_dinov2(weights=weights, spec=SMALL, out_path=out)
    assert weights.is_file() and out.is_file() and _downloads() == []
    assert prov["source"] == f"file {weights.resolve()}"
    assert prov["source_sha256"] == sha256_file(weights) and prov["source_file"] == "my copy.pth"


def test_downloader_without_a_hash_needs_verify_and_runs_it_on_the_part(server, tmp_path, files):
    source = _source(server, "file")
    assert OFFICIAL_WEIGHTS.sha256 is None and OFFICIAL_WEIGHTS.url.endswith(WEIGHTS_FILE)
    with pytest.raises(ValueError, match="needs verify="):
        dl.download(source, tmp_path)
    checked = []

    def verify(path):
        checked.append((path.name, path.stat().st_size, (tmp_path / WEIGHTS_FILE).exists()))

    got = dl.download(source, tmp_path, verify=verify)
    assert checked == [(WEIGHTS_FILE + ".part", len(files["good.pth"]), False)]
    assert got.read_bytes() == files["good.pth"]

    def refuse(path):
        raise ModelBuildError("not\nthe weights.")

    with pytest.raises(ModelBuildError, match=r"^not the weights \(the downloaded file was deleted\)$"):
        dl.download(_source(server, "file", "vitb.pth"), tmp_path / "other", verify=refuse)
    assert list((tmp_path / "other").iterdir()) == []


def test_registry_says_what_can_be_added():
    assert registry.addable()[0] == "dinov2-vitl14"
    assert registry.enabler("dinov2-vitl14") is enable_dinov2
    assert registry.NETWORKS["dinov2-vitl14"].file_name == MODEL_FILE
    assert registry.NETWORKS["fid_inception"].enable is None
    with pytest.raises(ValueError, match="fid_inception cannot be added; can be added: dinov2"):
        registry.enabler("fid_inception")
    with pytest.raises(ValueError, match="unknown network 'nope'"):
        registry.enabler("nope")


# ---------------------------------------------------------------- the command line

def test_cli_refusals_are_one_line(capfd, tmp_path, files, monkeypatch):
    small = tmp_path / "standin_d2.pth"
    small.write_bytes(files["good.pth"])
    cut = tmp_path / "cut.pth"
    cut.write_bytes(files["good.pth"][:1000])
    cases = [
        (("model", "add", "dinov2-vitb14", "--download"), "unknown network 'dinov2-vitb14'.*"
         "can be added: dinov2-vitl14"),
        (("model", "add", "dinov2-vitl14"), "give either --download or --weights FILE"),
        (("model", "add", "dinov2-vitl14", "--download", "--weights", small), "not both"),
        (("model", "add", "dinov2-vitl14", "--weights", tmp_path / "nope.pth"), "no such file"),
        (("model", "add", "dinov2-vitl14", "--weights", tmp_path), "is a folder"),
        (("model", "add", "dinov2-vitl14", "--weights", small),
         r"holds a ViT-L/14 \(1024 wide, 2 blocks\), expected a ViT-L/14 \(1024 wide, 24 blocks\)"),
        (("model", "add", "dinov2-vitl14", "--weights", cut), "truncated"),
    ]
    for args, reason in cases:
        line = one_line_error(cli_here(capfd, *args))
        assert re.search(reason, line), (args, line)
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{closed_port()}")
    got = cli_here(capfd, "model", "add", "dinov2-vitl14", "--download")
    assert "cannot reach dl.fbaipublicfiles.com" in one_line_error(got)
    assert "Downloading https://dl.fbaipublicfiles.com/" in got.stderr
    assert find_model(MODEL_FILE) is None and _downloads() == []


@pytest.mark.slow
def test_cli_adds_the_full_size_standin_from_a_file(capfd, tmp_path):
    weights = write_standin(tmp_path / WEIGHTS_FILE)  # 24 blocks, 1.2 GB
    try:
        t0 = time.perf_counter()
        got = cli_here(capfd, "model", "add", "dinov2-vitl14", "--weights", weights)
        seconds = time.perf_counter() - t0
        print(f"model add dinov2-vitl14 --weights (24-block stand-in): {seconds:.1f} s")
        assert got.returncode == 0, got.stderr[-2000:]
        prov = json.loads(got.stdout)
        out = user_model_path(MODEL_FILE)
        assert prov["model_path"] == str(out) and find_model(MODEL_FILE) == out
        on_disk = json.loads(provenance_path(out).read_text())
        assert on_disk["source_sha256"] == sha256_file(weights) == prov["source_sha256"]
        assert on_disk["depth"] == 24 and on_disk["model"] == "dinov2-vitl14"
        assert on_disk["source"] == f"file {weights.resolve()}" and weights.is_file()
        assert f"Weights SHA-256: {on_disk['source_sha256']}" in got.stderr
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
