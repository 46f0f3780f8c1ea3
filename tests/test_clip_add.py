"""Getting OpenAI's CLIP weights and building the image encoders (`model add clip-…`, enable_clip).

Downloads run against a real HTTP server on 127.0.0.1 (tests/httpserve.py) serving a
stand-in of tiny widths (models/clip/standin.py TINY_SPEC: the plumbing does not depend on
the widths, and it builds in a blink) under OpenAI's file name; the RemoteFile carries the
stand-in's SHA-256 in place of OpenAI's (the hash check is the same code), and the build
uses its spec (`spec=`; the CLI builds the full model only, so it is driven here for its
refusals, with the 2-block ViT-B/32 stand-in as the wrong model, and `model info`). Refusal paths: resume after a cut, cancel, a web
page, a file with the wrong hash, a wrong model given as a file.
"""
from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import onnxruntime as ort
import pytest

from cli_here import cli_here, one_line_error
from httpserve import LocalServer, closed_port
from models import registry
from models.clip.enable import OFFICIAL_WEIGHTS, enable_clip, enable_clip_vitb32
from models.clip.standin import TINY_SPEC, spec_tensors, write_standin
from models.clip.weights import SPECS
from models.common import download as dl
from models.common.files import provenance_path, sha256_file
from models.common.torch_writer import write_torch_state_dict
from models.errors import DownloadCancelled, DownloadError, HashMismatchError
from models.paths import download_dir, find_model, user_model_path

SPEC = TINY_SPEC
FILE = SPECS["vitb32"].file_name   # "ViT-B-32.pt"
MODEL_FILE = "clip_vitb32.onnx"


# each test its own data folder (downloads, built models) and no proxy from outside
pytestmark = pytest.mark.usefixtures("isolated_data_dir")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """The tiny stand-in: (path, bytes)."""
    path = write_torch_state_dict(tmp_path_factory.mktemp("clip_add") / "standin_tiny.pt",
                                  spec_tensors(TINY_SPEC))
    return path, path.read_bytes()


@pytest.fixture(scope="module")
def b32(tmp_path_factory):
    """The 2-block ViT-B/32 stand-in, the wrong model for `model add clip-vitl14-336`."""
    return write_standin(tmp_path_factory.mktemp("clip_b32") / "standin_vitb32_d2.pt",
                         "vitb32", depth=2)


@pytest.fixture
def server(good):
    other = bytearray(good[1])
    other[-100] ^= 1  # same size, another hash
    with LocalServer({"good.pt": good[1], "other.pt": bytes(other)}) as s:
        yield s


def _source(server, route: str, name: str = "good.pt", sha256: str | None = None):
    return dl.RemoteFile(server.url(f"{route}/{name}"), FILE,
                         sha256 or hashlib.sha256(server.files["good.pt"]).hexdigest(), 48)


def _downloads() -> list[str]:
    d = download_dir()
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def test_official_sources_are_openais_urls_and_hashes():
    for variant, spec in SPECS.items():
        src = OFFICIAL_WEIGHTS[variant]
        assert src.url == spec.url and src.url.split("/")[-2] == src.sha256 == spec.sha256
        assert src.file_name == spec.file_name == src.url.split("/")[-1]


def test_download_resumes_after_a_cut_and_builds_into_the_data_folder(server, good, capfd):
    said = []
    with pytest.raises(DownloadError, match="interrupted after .* run it again to resume"):
        enable_clip("vitb32", source=_source(server, "cut"), spec=SPEC, say=said.append)
    assert _downloads() == [FILE + ".part"] and find_model(MODEL_FILE) is None
    prov = enable_clip("vitb32", source=_source(server, "cut"), spec=SPEC, say=said.append)
    half = len(good[1]) // 2
    assert server.requests[-1][1].get("Range") == f"bytes={half}-"
    out = user_model_path(MODEL_FILE)
    assert find_model(MODEL_FILE) == out and prov["model_path"] == str(out)
    assert _downloads() == []  # deleted once the image tower is in the model
    sha = hashlib.sha256(good[1]).hexdigest()
    on_disk = json.loads(provenance_path(out).read_text())
    assert on_disk["source_sha256"] == sha and on_disk["source"] == server.url("cut/good.pt")
    assert on_disk["model_sha256"] == sha256_file(out) and on_disk["depth"] == 1
    assert f"Weights SHA-256: {sha}" in said and f"CLIP-FID and CLIPScore (hessel) enabled: {out}" in said
    assert said[-1].startswith("Tokenizer vocabulary: ")  # found (make vocab): nothing fetched
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    feats = sess.run(["features"], {"images": np.zeros((1, 3, 16, 16), np.float32)})[0]
    assert feats.shape == (1, TINY_SPEC.output_dim) and np.isfinite(feats).all()
    got = cli_here(capfd, "model", "info")
    assert got.returncode == 0, got.stderr
    added = json.loads(got.stdout)["added"]
    assert added["clip-vitb32"]["weights_sha256"] == sha and added["clip-vitl14-336"] is None


def test_cancel_keeps_nothing(server):
    seen = []
    with pytest.raises(DownloadCancelled, match="nothing was kept"):
        enable_clip("vitb32", source=_source(server, "trickle"), spec=SPEC,
                    progress=lambda d, t: seen.append(d), cancelled=lambda: bool(seen))
    assert len(seen) == 1 and _downloads() == [] and find_model(MODEL_FILE) is None
    # cancelled during the build, at each of its stages up to saving: no model, no download
    for stage in ("Writing the ONNX graph", "Checking the ONNX graph", "Saving "):
        flag = []
        with pytest.raises(DownloadCancelled, match="nothing was kept"):
            enable_clip("vitb32", source=_source(server, "file"), spec=SPEC, cancelled=lambda: bool(flag),
                        say=lambda msg, _s=stage: flag.append(msg) if msg.startswith(_s) else None)
        assert flag and _downloads() == [] and find_model(MODEL_FILE) is None


@pytest.mark.parametrize("route", ["html", "sniff"])
def test_a_web_page_instead_of_the_file(server, route):
    with pytest.raises(DownloadError, match="web page instead of the weights file"):
        enable_clip("vitb32", source=_source(server, route), spec=SPEC)
    assert _downloads() == [] and find_model(MODEL_FILE) is None


def test_a_download_with_another_hash_is_refused_and_deleted(server):
    with pytest.raises(HashMismatchError, match="has SHA-256 .* expected") as err:
        enable_clip("vitb32", source=_source(server, "file", "other.pt"), spec=SPEC)
    assert "\n" not in str(err.value)
    assert _downloads() == [] and find_model(MODEL_FILE) is None


def test_a_given_file_is_built_and_kept(good, tmp_path):
    out = tmp_path / "out" / MODEL_FILE
    prov = enable_clip_vitb32(weights=good[0], spec=SPEC, out_path=out)
    assert good[0].is_file() and out.is_file() and _downloads() == []
    assert prov["source"] == f"file {good[0].resolve()}"
    assert prov["source_sha256"] == sha256_file(good[0]) and not prov["source_official"]


def test_registry_lists_both_clip_networks():
    assert registry.addable() == ["dinov2-vitl14", "clip-vitb32", "clip-vitl14-336", "clip-vitl14"]
    assert registry.NETWORKS["clip-vitb32"].file_name == MODEL_FILE
    assert registry.NETWORKS["clip-vitl14-336"].file_name == "clip_vitl14_336.onnx"
    assert registry.enabler("clip-vitb32") is enable_clip_vitb32


def test_cli_refusals_are_one_line(capfd, tmp_path, good, b32, monkeypatch):
    cut = tmp_path / "cut.pt"
    cut.write_bytes(b32.read_bytes()[:1000])
    named = tmp_path / FILE
    named.write_bytes(good[1])
    page = tmp_path / "page.pt"
    page.write_bytes(b"<!DOCTYPE html><html>sign in</html>")
    cases = [
        (("model", "add", "clip-vitb16", "--download"), "unknown network 'clip-vitb16'"),
        (("model", "add", "clip-vitb32"), "give either --download or --weights FILE"),
        (("model", "add", "clip-vitl14-336", "--weights", tmp_path / "nope.pt"), "no such file"),
        (("model", "add", "clip-vitl14-336", "--weights", tmp_path), "is a folder"),
        (("model", "add", "clip-vitl14-336", "--weights", b32),
         r"holds a ViT-B/32 \(768 wide, 2 blocks, 224 px\), expected a ViT-L/14@336px "
         r"\(1024 wide, 24 blocks, 336 px\)"),
        (("model", "add", "clip-vitb32", "--weights", b32),
         r"holds a ViT-B/32 \(768 wide, 2 blocks, 224 px\), expected a ViT-B/32 \(768 wide, 12"),
        (("model", "add", "clip-vitb32", "--weights", cut), "truncated"),
        (("model", "add", "clip-vitb32", "--weights", page), "web page"),
        (("model", "add", "clip-vitb32", "--weights", named),
         f"claims to be OpenAI's ViT-B-32.pt but its SHA-256 is {sha256_file(named)}, "
         f"the official file's is {SPECS['vitb32'].sha256}"),
    ]
    for args, reason in cases:
        line = one_line_error(cli_here(capfd, *args))
        assert re.search(reason, line), (args, line)
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{closed_port()}")
    got = cli_here(capfd, "model", "add", "clip-vitl14-336", "--download")
    assert "cannot reach openaipublic.azureedge.net" in one_line_error(got)
    assert "Downloading https://openaipublic.azureedge.net/clip/models/3035c92b" in got.stderr
    assert find_model("clip_vitl14_336.onnx") is None and _downloads() == []
