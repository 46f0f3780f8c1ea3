"""The common downloader (models/common/download.py) against a real HTTP server on 127.0.0.1
(tests/httpserve.py): resume, clean restart, HTML instead of the file, wrong file, wrong size,
full or prefix SHA-256, HTTP error, offline, timeout, proxy, cancel; and the IS head's
`model add-is-head --download` end to end."""
import hashlib
import json
import os
import shutil

import numpy as np
import pytest

from cli import main as cli_main
from models.common import download as dl
from models.inception import is_head
from models.errors import DownloadCancelled, DownloadError, HashMismatchError
from httpserve import LocalServer, closed_port

PAYLOAD = np.random.default_rng(3).integers(0, 256, 600_000, dtype=np.uint8).tobytes()
PREFIX = hashlib.sha256(PAYLOAD).hexdigest()[:8]
NAME = "pt_inception-2015-12-05-6726825d.pth"


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server():
    with LocalServer({NAME: PAYLOAD}) as s:
        yield s


def _src(server, route, prefix=PREFIX):
    return dl.RemoteFile(server.url(f"{route}/{NAME}"), NAME, prefix, 1)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_download_verifies_and_moves_into_place(server, tmp_path):
    seen = []
    got = dl.download(_src(server, "file"), tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert got == tmp_path / NAME and got.read_bytes() == PAYLOAD
    assert _leftovers(tmp_path) == [NAME]
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) and len(seen) > 2
    n = len(server.requests)
    assert dl.download(_src(server, "file"), tmp_path) == got and len(server.requests) == n  # reused


def test_interrupted_transfer_resumes(server, tmp_path):
    with pytest.raises(DownloadError, match="interrupted after 0.3 MB of 0.6 MB.*run it again to resume"):
        dl.download(_src(server, "cut"), tmp_path)
    assert _leftovers(tmp_path) == [NAME + ".part"]  # never under the final name
    assert (tmp_path / (NAME + ".part")).stat().st_size == len(PAYLOAD) // 2
    got = dl.download(_src(server, "cut"), tmp_path)
    assert got.read_bytes() == PAYLOAD and _leftovers(tmp_path) == [NAME]
    assert server.requests[-1][1].get("Range") == f"bytes={len(PAYLOAD) // 2}-"


def test_server_without_range_support_restarts_cleanly(server, tmp_path):
    (tmp_path / (NAME + ".part")).write_bytes(b"stale partial bytes")
    got = dl.download(_src(server, "norange"), tmp_path)
    assert got.read_bytes() == PAYLOAD
    assert server.requests[-1][1].get("Range") == "bytes=19-"


def test_wrong_file_is_refused_and_deleted(server, tmp_path):
    with pytest.raises(HashMismatchError, match="expected it to start with 6726825d.*deleted"):
        dl.download(_src(server, "file", prefix="6726825d"), tmp_path)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("route", ["html", "sniff"])
def test_html_instead_of_the_file(server, tmp_path, route):
    with pytest.raises(DownloadError, match="web page instead of the weights file"):
        dl.download(_src(server, route), tmp_path)
    assert _leftovers(tmp_path) == []


def test_http_error(server, tmp_path):
    src = dl.RemoteFile(server.url("missing"), NAME, PREFIX, 1)
    with pytest.raises(DownloadError, match="HTTP 404"):
        dl.download(src, tmp_path)


def test_offline(tmp_path):
    src = dl.RemoteFile(f"http://127.0.0.1:{closed_port()}/{NAME}", NAME, PREFIX, 1)
    with pytest.raises(DownloadError, match="cannot reach 127.0.0.1.*offline"):
        dl.download(src, tmp_path)


def test_timeout(server, tmp_path):
    src = dl.RemoteFile(server.url("slow"), NAME, PREFIX, 1)
    with pytest.raises(DownloadError, match="no answer from 127.0.0.1 within|cannot reach"):
        dl.download(src, tmp_path, timeout=0.5)


def test_cancel_keeps_nothing(server, tmp_path):
    calls = []
    with pytest.raises(DownloadCancelled):
        dl.download(_src(server, "file"), tmp_path, progress=lambda d, t: calls.append(d),
                    cancelled=lambda: len(calls) >= 2)
    assert _leftovers(tmp_path) == []


def test_proxy_environment_variable_is_used(tmp_path, monkeypatch):
    with LocalServer({NAME: PAYLOAD}, proxy=True) as proxy:
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
        src = dl.RemoteFile(f"http://weights.example.invalid/file/{NAME}", NAME, PREFIX, 1)
        assert dl.download(src, tmp_path).read_bytes() == PAYLOAD
        assert proxy.requests[0][0] == f"http://weights.example.invalid/file/{NAME}"


FULL = hashlib.sha256(PAYLOAD).hexdigest()


def test_full_digest_and_exact_size(server, tmp_path):
    seen = []
    src = dl.RemoteFile(server.url(f"file/{NAME}"), NAME, FULL, 1, size_bytes=len(PAYLOAD))
    got = dl.download(src, tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert got.read_bytes() == PAYLOAD and _leftovers(tmp_path) == [NAME]
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))


def test_full_digest_mismatch_names_the_expected_digest(server, tmp_path):
    other = hashlib.sha256(b"another file").hexdigest()
    with pytest.raises(HashMismatchError, match=f"expected {other[:16]}….*deleted"):
        dl.download(dl.RemoteFile(server.url(f"file/{NAME}"), NAME, other, 1), tmp_path)
    assert _leftovers(tmp_path) == []


def test_complete_transfer_of_the_wrong_size_is_refused(server, tmp_path):
    # the right bytes, but not the size the source promises: not the file it describes
    src = dl.RemoteFile(server.url(f"file/{NAME}"), NAME, FULL, 1, size_bytes=len(PAYLOAD) + 1)
    with pytest.raises(HashMismatchError, match=f"has {len(PAYLOAD):,} bytes, expected "
                                                f"{len(PAYLOAD) + 1:,}.*deleted"):
        dl.download(src, tmp_path)
    assert _leftovers(tmp_path) == []


def test_part_longer_than_the_file_restarts_without_range(server, tmp_path):
    (tmp_path / (NAME + ".part")).write_bytes(PAYLOAD + b"trailing junk")
    src = dl.RemoteFile(server.url(f"file/{NAME}"), NAME, FULL, 1, size_bytes=len(PAYLOAD))
    assert dl.download(src, tmp_path).read_bytes() == PAYLOAD
    assert "Range" not in server.requests[-1][1]


def test_cut_transfer_with_known_size_resumes(server, tmp_path):
    src = dl.RemoteFile(server.url(f"cut/{NAME}"), NAME, FULL, 1, size_bytes=len(PAYLOAD))
    with pytest.raises(DownloadError, match="interrupted after 0.3 MB of 0.6 MB"):
        dl.download(src, tmp_path)
    assert dl.download(src, tmp_path).read_bytes() == PAYLOAD
    assert server.requests[-1][1].get("Range") == f"bytes={len(PAYLOAD) // 2}-"


@pytest.mark.parametrize("digest", ["6726825", "", "not-hex-6726825d", "a" * 65])
def test_remote_file_wants_a_real_sha256(digest):
    with pytest.raises(ValueError, match="8 to 64 hex digits"):
        dl.RemoteFile("https://example.invalid/f", "f", digest, 1)


def test_official_source_is_pytorch_fids_release():
    assert is_head.OFFICIAL_HEAD.url == ("https://github.com/mseitzer/pytorch-fid/releases/download/"
                               "fid_weights/pt_inception-2015-12-05-6726825d.pth")
    assert is_head.OFFICIAL_HEAD.sha256 == "6726825d"


def test_cli_download_end_to_end(model_path, stand_in_head_file, tmp_path, monkeypatch, capsys):
    model = tmp_path / "m" / "fid_inception.onnx"
    model.parent.mkdir()
    shutil.copy(model_path, model)
    shutil.copy(str(model_path) + ".json", str(model) + ".json")
    data = stand_in_head_file.read_bytes()
    with LocalServer({NAME: data}) as server:
        prefix = hashlib.sha256(data).hexdigest()[:8]
        monkeypatch.setattr(is_head, "OFFICIAL_HEAD", dl.RemoteFile(server.url(f"cut/{NAME}"), NAME, prefix, 91))
        # the first attempt is cut off: one line, exit 2, the model untouched
        assert cli_main(["model", "add-is-head", "--download", "--model", str(model)]) == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("error: download interrupted") and "resume" in err
        assert model.read_bytes() == model_path.read_bytes()
        assert cli_main(["model", "add-is-head", "--download", "--model", str(model)]) == 0
    prov = json.loads(capsys.readouterr().out)
    assert prov["is_head"]["source"] == server.url(f"cut/{NAME}")
    assert prov["is_head"]["sha256"] == hashlib.sha256(data).hexdigest()
    from models.paths import download_dir
    assert not any(download_dir().glob("*.pth*"))  # the download is gone once it is in the model
    assert os.path.getsize(model) > model_path.stat().st_size
