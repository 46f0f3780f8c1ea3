"""Standard references by name, downloaded through the mirror setting from a real HTTP server on
127.0.0.1 (tests/httpserve.py) that serves each file under its published HOST/PATH: success
and a second run without network, resume, 404, a web page, a truncated file, a changed file,
a convention mismatch, EDM2's pickle read without running code."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from cli_here import cli_here, one_line_error
from httpserve import LocalServer
from imagegen import make_folder
from refs_files import edm2_pickle, hostile_pickle, moments_npz, served

from engine.errors import InputError
from engine.refs import store
from engine.refs.catalogue import CATALOGUE
from engine.refs.mirror import ENV_VAR, source_url

CIFAR = CATALOGUE["clean-fid/cifar10_clean_train_32"]
EDM2 = CATALOGUE["edm2/img512"]


@pytest.fixture
def refs_env(isolated_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture(scope="module")
def good():
    return moments_npz(0)


def test_mirror_maps_host_and_path(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "http://files.lab/refs/")
    assert source_url(CIFAR.url) == "http://files.lab/refs/www.cs.cmu.edu/~clean-fid/stats/cifar10_clean_train_32.npz"
    monkeypatch.delenv(ENV_VAR)
    assert source_url(CIFAR.url) == CIFAR.url == "https://www.cs.cmu.edu/~clean-fid/stats/cifar10_clean_train_32.npz"


def test_compute_by_name_downloads_validates_caches_scores_then_reads_no_network(
        refs_env, good, capfd, monkeypatch):
    gen = make_folder(refs_env / "gen", 4, seed=3, size=(32, 32))
    with LocalServer({served(CIFAR): good}) as server:
        monkeypatch.setenv(ENV_VAR, server.url("file"))
        first = cli_here(capfd, "compute", CIFAR.name, gen, "--metrics", "fid")
        assert first.returncode == 0, first.stderr
        assert len(server.requests) == 1 and server.requests[0][0].endswith(served(CIFAR))
        # a second use reads the cache, not the network (a second FID of 2048-d statistics
        # would double this test's time: the resolution is the same code, `refs get` shows it)
        again = cli_here(capfd, "refs", "get", CIFAR.name)
        assert again.returncode == 0, again.stderr
        assert len(server.requests) == 1
    out = json.loads(first.stdout)
    fid = out["results"][0]["metrics"]["fid"]
    assert np.isfinite(fid) and fid > 0
    assert json.loads(again.stdout)["path"] == out["reference"]["path"]
    assert out["preset"] == "clean"       # set by the entry
    assert out["reference"]["path"] == os.fspath(store.cached(CIFAR).file)   # the served file, scored
    prov = json.loads((store.entry_folder(CIFAR) / store.PROVENANCE).read_text())
    assert prov["size"] == len(good) and prov["source"] == "download" and len(prov["sha256"]) == 64
    assert prov["source_url"] == server.url("file") + "/" + served(CIFAR)
    # a statistic of clean-fid's "clean" mode with a tensorflow run: refused, never silent
    line = one_line_error(cli_here(capfd, "compute", CIFAR.name, gen, "--metrics", "fid", "--preset", "tensorflow"))
    assert "preset clean" in line and "preset tensorflow" in line
    from engine.run.job import run
    from engine.run.options import Options
    with pytest.raises(InputError, match="preset clean.*preset tensorflow"):   # the GUI / API path too
        run(store.cached(CIFAR).usable, [gen], Options(metrics=("fid",), preset="tensorflow"))


def test_interrupted_download_resumes(refs_env, good, monkeypatch):
    with LocalServer({served(CIFAR): good}) as server:
        monkeypatch.setenv(ENV_VAR, server.url("cut"))
        with pytest.raises(InputError, match="interrupted.*resume"):
            store.obtain(CIFAR)
        part = store.entry_folder(CIFAR) / (CIFAR.file_name + ".part")
        assert 0 < part.stat().st_size < len(good)
        ref = store.obtain(CIFAR)
        assert server.requests[1][1].get("Range") == f"bytes={len(good) // 2}-"
    assert ref.file.read_bytes() == good and not part.exists()


def test_404_names_the_entry_and_the_url(refs_env, monkeypatch):
    with LocalServer({}) as server:
        monkeypatch.setenv(ENV_VAR, server.url("file"))
        with pytest.raises(InputError) as err:
            store.obtain(CIFAR)
    msg = str(err.value)
    assert CIFAR.name in msg and "404" in msg and server.url("file") + "/" + served(CIFAR) in msg
    assert store.cached(CIFAR) is None


@pytest.mark.parametrize("route", ["html", "sniff"])
def test_a_web_page_instead_of_the_file_is_refused(refs_env, monkeypatch, route):
    with LocalServer({}) as server:
        monkeypatch.setenv(ENV_VAR, server.url(route))
        with pytest.raises(InputError, match="web page instead of the statistics file"):
            store.obtain(CIFAR)
    assert not any(store.entry_folder(CIFAR).iterdir())


def test_a_truncated_file_is_refused_and_not_kept(refs_env, good, monkeypatch):
    with LocalServer({served(CIFAR): good[:len(good) // 2]}) as server:
        monkeypatch.setenv(ENV_VAR, server.url("file"))
        with pytest.raises(InputError, match="truncated or not an .npz.*deleted"):
            store.obtain(CIFAR)
    assert not any(store.entry_folder(CIFAR).iterdir())


def test_a_changed_file_is_refused_with_both_hashes(refs_env, good, monkeypatch):
    other = moments_npz(1)
    notes = []
    with LocalServer({served(CIFAR): good}) as server:
        monkeypatch.setenv(ENV_VAR, server.url("file"))
        first = store.obtain(CIFAR).provenance["sha256"]
        # the cached copy damaged on disk: detected at the next use, set aside, fetched again
        cached = store.cached(CIFAR).file
        cached.write_bytes(cached.read_bytes()[:-10])
        assert store.obtain(CIFAR, say=notes.append).provenance["sha256"] == first
        assert len(server.requests) == 2 and "damaged" in notes[0] and "moved aside" in notes[0]
        assert any(p.name.startswith(store.entry_folder(CIFAR).name + ".damaged-")
                   for p in store.refs_root().iterdir())
        # the server's file changes: the first file's recorded SHA-256 refuses it
        server.files[served(CIFAR)] = other
        store.entry_folder(CIFAR).joinpath(CIFAR.file_name).write_bytes(other)
        with pytest.raises(InputError) as err:
            store.obtain(CIFAR, say=notes.append)
    import hashlib
    assert first in str(err.value) and hashlib.sha256(other).hexdigest() in str(err.value)
    assert "changed" in str(err.value)


def test_edm2_pickle_is_read_without_running_code(refs_env, monkeypatch, tmp_path):
    marker = tmp_path / "was-run"
    with LocalServer({served(EDM2): hostile_pickle(marker)}) as server:
        monkeypatch.setenv(ENV_VAR, server.url("file"))
        with pytest.raises(InputError, match="posix.mkdir|os.mkdir"):
            store.obtain(EDM2)
        assert not marker.exists()
        server.files[served(EDM2)] = edm2_pickle(0)
        ref = store.obtain(EDM2)
    assert ref.provenance["summary"]["holds"] == ["fid", "fd_dinov2"]
    assert ref.provenance["summary"]["n_images"] == 12
    with np.load(ref.usable) as z:
        assert z["mu"].shape == (2048,) and z["sigma"].shape == (2048, 2048) and int(z["n"]) == 12
    assert os.path.basename(ref.usable) == "fid.npz"
