"""Hostile inputs and hostile machines, made by each test: encrypted, duplicated and
escaping zip members, broken stats files, unwritable caches and outputs, corrupted cache
entries, work folders left by killed runs. Each must end in a per-file record or a
one-line error (exit 2), never a traceback, and never a silently wrong number."""
import io
import json
import os
import resource
import signal
import stat
import struct
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from cli_here import cli_here, one_line_error
from conftest import ROOT
from engine.atomic import write_text
from engine.features import cache as feature_cache
from engine.inputs.decode import ZipReader
from engine.inputs.sources import ENCRYPTED_REASON, UNSAFE_PATH_REASON, open_source
from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder, make_image
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_permissions = pytest.mark.skipif(IS_ROOT, reason="permission bits do not bind root")


def _cli(*args, env=None, preexec_fn=None, drop=()):
    full_env = dict(os.environ, **(env or {}))
    for name in drop:
        full_env.pop(name, None)
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env=full_env, preexec_fn=preexec_fn)



def _png_bytes(seed, size=(32, 32)):
    buf = io.BytesIO()
    make_image(np.random.default_rng(seed), size).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("rel")
    return {"ref": make_folder(root / "ref", 12, seed=1, size=(32, 32)),
            "gen": make_folder(root / "gen", 10, seed=2, size=(32, 32), shift=60)}


# -- zip archives -------------------------------------------------------------------------------
def _mark_encrypted(zpath, names):
    """Set the 'encrypted' flag of ``names`` in the local and central headers (what a
    password-protected member looks like to a reader without the password)."""
    data = bytearray(zpath.read_bytes())
    with zipfile.ZipFile(zpath) as zf:
        for info in zf.infolist():
            if info.filename in names:
                data[info.header_offset + 6] |= 1
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        nlen = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46:pos + 46 + nlen]).decode() in names:
            data[pos + 8] |= 1
        pos = data.find(b"PK\x01\x02", pos + 46)
    zpath.write_bytes(bytes(data))


def test_encrypted_zip_members_are_skipped_with_reason(sets, model_path, tmp_path):
    zpath = tmp_path / "enc.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for i in range(6):
            zf.writestr(f"img_{i}.png", _png_bytes(i))
        zf.writestr("secret_a.png", _png_bytes(10))
        zf.writestr("secret_b.png", _png_bytes(11))
    _mark_encrypted(zpath, {"secret_a.png", "secret_b.png"})
    # the reader alone (a member that slipped past the scan) turns it into a per-file problem
    assert ZipReader(zpath)("secret_a.png").problem == "encrypted (password required)"
    result = run(sets["ref"], [zpath], Options(metrics=("fid",), device="cpu", use_cache=False))
    r = result.results[0]
    assert r.n_images == 6
    assert {s["file"]: s["reason"] for s in r.skipped} == {"secret_a.png": ENCRYPTED_REASON,
                                                          "secret_b.png": ENCRYPTED_REASON}


def test_duplicate_member_names_are_each_read_and_reported(sets, model_path, tmp_path):
    zpath = tmp_path / "dup.zip"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(zpath, "w") as zf:
        for i in range(4):
            zf.writestr(f"img_{i}.png", _png_bytes(i))
        zf.writestr("img_0.png", _png_bytes(20, size=(24, 40)))     # same name, another image
    src = open_source(zpath)
    assert src.files == ["img_0.png", "img_0.png #copy2", "img_1.png", "img_2.png", "img_3.png"]
    read = ZipReader(zpath, src.members)
    assert read("img_0.png").array.shape == (32, 32, 3)       # the first copy, not the last
    assert read("img_0.png #copy2").array.shape == (40, 24, 3)
    assert any("stored more than once" in w and "img_0.png" in w for w in src.warnings())
    r = run(sets["ref"], [zpath], Options(metrics=("fid",), device="cpu", use_cache=False)).results[0]
    assert r.n_images == 5 and any("stored more than once" in w for w in r.warnings)


def test_member_paths_leaving_the_archive_are_listed_as_skipped(tmp_path):
    zpath = tmp_path / "trav.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("ok.png", _png_bytes(1))
        zf.writestr("..\\..\\x.png", _png_bytes(2))
        zf.writestr("../up.png", _png_bytes(3))
        zf.writestr("/abs.png", _png_bytes(4))
    src = open_source(zpath)
    assert src.files == ["ok.png"]
    assert dict(src.refused) == {"..\\..\\x.png": UNSAFE_PATH_REASON, "../up.png": UNSAFE_PATH_REASON,
                                 "/abs.png": UNSAFE_PATH_REASON}


# -- stats files --------------------------------------------------------------------------------
def test_malformed_stats_files_are_one_line_errors(sets, tmp_path, capfd):
    good = tmp_path / "good.npz"
    np.savez(good, mu=np.zeros(2048), sigma=np.eye(2048), n=np.int64(100))
    raw = good.read_bytes()
    bad = {"truncated.npz": raw[: len(raw) // 2], "head.npz": raw[:100], "empty.npz": b""}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    np.save(tmp_path / "array.npy", np.zeros(2048))
    os.rename(tmp_path / "array.npy", tmp_path / "array.npz")
    np.savez(tmp_path / "n_shape.npz", mu=np.zeros(2048), sigma=np.eye(2048), n=np.array([5, 6]))
    for name in list(bad) + ["array.npz", "n_shape.npz"]:
        line = one_line_error(cli_here(capfd, "compute", sets["ref"], tmp_path / name, "--device", "cpu"))
        assert name in line, line
    # consistent but of another size: refused before any reference feature is computed
    np.savez(tmp_path / "small.npz", mu=np.zeros(10), sigma=np.eye(10), n=np.int64(50))
    out = cli_here(capfd, "compute", sets["ref"], tmp_path / "small.npz", "--device", "cpu", "--no-cache")
    assert "10-d statistics" in one_line_error(out) and "img/s" not in out.stderr


# -- outputs ------------------------------------------------------------------------------------
def test_unwritable_outputs_are_refused_before_the_run(sets, tmp_path, capfd):
    (tmp_path / "a_folder").mkdir()
    blocker = tmp_path / "plain_file"
    blocker.write_text("x")
    for flag, target in (("--json", tmp_path / "a_folder"), ("--csv", blocker / "r.csv"),
                         ("--pdf", blocker / "sub" / "r.pdf")):
        out = cli_here(capfd, "compute", sets["ref"], sets["gen"], "--device", "cpu", "--metrics", "fid",
                        "--json" if flag != "--json" else "--csv", tmp_path / "other.out", flag, target)
        line = one_line_error(out)
        assert "output not writable" in line and str(target) in line
        assert "img/s" not in out.stderr and not (tmp_path / "other.out").exists()


@needs_permissions
def test_read_only_output_folder_is_refused_before_the_run(sets, tmp_path, capfd):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        out = cli_here(capfd, "compute", sets["ref"], sets["gen"], "--device", "cpu",
                        "--json", tmp_path / "r.json", "--csv", ro / "r.csv")
        assert "output not writable" in one_line_error(out) and not (tmp_path / "r.json").exists()
    finally:
        ro.chmod(0o755)


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.json", "{}")
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
        os.umask(0o077)
        write_text(tmp_path / "b.json", "{}")
        assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o600
        (tmp_path / "a.json").chmod(0o640)          # an existing file keeps its mode
        write_text(tmp_path / "a.json", "[]")
        assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640
    finally:
        os.umask(old)


# -- the cache folder ---------------------------------------------------------------------------
def test_unwritable_cache_root_falls_back_with_one_warning(sets, model_path, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    opts = Options(metrics=("fid", "kid"), device="cpu", kid_subsets=5)
    result = run(sets["ref"], [sets["gen"], sets["gen"]], opts, cache_root=blocker / "cache")
    for r in result.results:
        notes = [w for w in r.warnings if "cannot be written" in w]
        assert len(notes) == 1 and "temporary folder" in notes[0]
        assert r.metrics["fid"] > 0 and r.metrics["kid_mean"] is not None
    assert blocker.read_text() == "x"
    expected = run(sets["ref"], [sets["gen"]], dataclass_replace(opts, use_cache=False)).results[0].metrics
    assert result.results[0].metrics["fid"] == pytest.approx(expected["fid"], rel=1e-12)


def dataclass_replace(opts, **kw):
    import dataclasses
    return dataclasses.replace(opts, **kw)


@needs_permissions
def test_read_only_cache_root_falls_back(sets, model_path, tmp_path):
    ro = tmp_path / "ro_cache"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        r = run(sets["ref"], [sets["gen"]], Options(metrics=("fid",), device="cpu"), cache_root=ro).results[0]
        assert r.metrics["fid"] > 0 and any("cannot be written" in w for w in r.warnings)
        assert not list(ro.iterdir())
    finally:
        ro.chmod(0o755)


def test_no_cache_writes_nothing_under_the_cache_root_nor_home(sets, model_path, tmp_path):
    cache, home = tmp_path / "cache", tmp_path / "home"
    home.mkdir()
    env = {"FID_STUDIO_CACHE_DIR": str(cache), "HOME": str(home)}
    out = _cli("compute", sets["ref"], sets["gen"], "--device", "cpu", "--metrics", "fid", "--no-cache",
               env=env, drop=("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME"))
    assert out.returncode == 0, out.stderr
    assert not cache.exists()
    # ONNX Runtime's telemetry device id (~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid)
    assert [p for p in home.rglob("*")] == []


def _limit_file_size():
    # every file this process writes stops at 64 KB, as on a full disk (EFBIG instead of ENOSPC)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_full_disk_falls_back_to_memory_and_the_run_finishes(sets, model_path, tmp_path):
    out = _cli("compute", sets["ref"], sets["gen"], "--device", "cpu", "--metrics", "fid,kid",
               env={"FID_STUDIO_CACHE_DIR": str(tmp_path / "cache")}, preexec_fn=_limit_file_size)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout)["results"][0]
    assert r["metrics"]["fid"] > 0 and r["metrics"]["kid_mean"] is not None
    assert [w for w in r["warnings"] if "cannot be written" in w and "memory" in w]
    assert not list((tmp_path / "cache" / "features").glob("*"))


def _entry_for(cache_root, names):
    for e in (cache_root / "features").iterdir():
        if json.loads((e / "meta.json").read_text())["files"] == names:
            return e
    raise AssertionError("no entry")


def test_corrupted_feature_file_of_same_size_is_detected_and_rebuilt(sets, model_path, tmp_path):
    opts = Options(metrics=("fid", "kid"), device="cpu", kid_subsets=5)
    first = run(sets["ref"], [sets["gen"]], opts, cache_root=tmp_path).results[0]
    gen_entry = _entry_for(tmp_path, sorted(p.name for p in sets["gen"].iterdir()))
    feats = np.fromfile(gen_entry / "features.f32", np.float32)
    (feats * 1.5).tofile(gen_entry / "features.f32")                # scaled rows, same size
    second = run(sets["ref"], [sets["gen"]], opts, cache_root=tmp_path).results[0]
    assert second.metrics["kid_mean"] == first.metrics["kid_mean"]
    assert second.metrics["fid"] == pytest.approx(first.metrics["fid"], rel=1e-12)
    assert any("damaged" in w and "features.f32" in w for w in second.warnings)
    # NaN bytes in the reference's features: the reference's note reaches the result too
    ref_entry = _entry_for(tmp_path, sorted(p.name for p in sets["ref"].iterdir()))
    with open(ref_entry / "features.f32", "r+b") as fh:
        fh.seek(4 * 2048 * 3)
        fh.write(np.full(16, np.nan, np.float32).tobytes())
    third = run(sets["ref"], [sets["gen"]], opts, cache_root=tmp_path)
    assert third.results[0].metrics["kid_mean"] == first.metrics["kid_mean"]
    notes = [w for w in third.results[0].warnings if w.startswith("reference: feature cache entry was damaged")]
    assert len(notes) == 1 and third.reference["warnings"] == notes


def test_null_metric_always_has_a_reason():
    from engine.run.job import _reason_for_nulls
    from engine.run.result import SourceResult
    res = SourceResult(path="x", n_images=3)
    res.metrics.update(fid=1.0, kid_mean=float("nan"), kid_std=float("nan"))
    res.warnings.append("KID subsets shrunk to 3 images (requested 1000): a set has fewer images")
    _reason_for_nulls(Options(metrics=("fid", "kid")), res)
    assert [w for w in res.warnings if w.startswith("KID could not be computed")]
    assert not [w for w in res.warnings if w.startswith("FID could not")]


def test_work_folders_of_dead_processes_are_removed_at_the_next_start(sets, model_path, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    tmp = tmp_path / "tmp"
    stale = tmp / f"{dead.pid}-0123abcd"
    alive = tmp / f"{os.getppid()}-4567ef01"        # a running process: its folder stays
    for d in (stale, alive):
        d.mkdir(parents=True)
        (d / "features.f32").write_bytes(b"\0" * 8192)
    run(sets["ref"], [sets["gen"]], Options(metrics=("fid",), device="cpu"), cache_root=tmp_path)
    assert not stale.exists() and alive.exists()
    assert sorted(p.name for p in tmp.iterdir()) == [alive.name]
