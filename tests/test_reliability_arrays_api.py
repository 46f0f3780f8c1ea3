"""Hostile array batches, training logs, executors and folders, made by each test: NaN scores
in the training log, damaged .npz members, ADM reference batches of the wrong size, arrays
whose header lies or whose images are too large, the Python API against the CLI, array
sources on every executor, and folders the scan cannot read. Each ends in a per-file
record, a null with its reason or a one-line error, never a traceback or a wrong number."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import fid_studio
from conftest import ROOT
from cli import main as cli_main
from engine.errors import InputError
from engine.inputs import arrays
from engine.inputs.decode import reader_for
from engine.inputs.sources import open_source
from engine.run.options import Options
from imagegen import make_image
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)


def _images(n, seed=0, size=(40, 36)):
    rng = np.random.default_rng(seed)
    return np.stack([np.asarray(make_image(rng, size, shift=seed * 30)) for _ in range(n)])


def _cli_here(capfd, *args):
    capfd.readouterr()
    rc = cli_main([str(a) for a in args])
    out = capfd.readouterr()
    return rc, out.err


def _one_line_error(rc, err):
    assert rc == 2, (rc, err[-2000:])
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    root = tmp_path_factory.mktemp("batches")
    ref, gen = _images(12, seed=1), _images(10, seed=2)
    np.savez(root / "ref.npz", ref)
    np.savez(root / "gen.npz", gen)
    return {"root": root, "ref": ref, "gen": gen, "ref_npz": root / "ref.npz", "gen_npz": root / "gen.npz"}


def _damage_member_byte(path, member_offset_in_data: int):
    """Flip one byte of a member's stored data (random pixels: deflate stores them as
    literals, so nothing fails before the CRC check at the member's end)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("arr_0.npy")
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + member_offset_in_data] ^= 0xFF
    path.write_bytes(bytes(raw))


def test_a_damaged_compressed_member_is_refused_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(arrays, "CHUNK_BYTES", 64 * 6 * 9 * 3)      # 64 images per chunk
    # ~500 kB: opening the member (its .npy header) does not inflate it to its end
    x = np.random.default_rng(0).integers(0, 256, (3000, 6, 9, 3), dtype=np.uint8)
    path = tmp_path / "c.npz"
    np.savez_compressed(path, x)
    _damage_member_byte(path, 200 + 2 * 6 * 9 * 3)                  # inside image 2
    src = open_source(path)
    read = reader_for(src)
    with pytest.raises(arrays.DamagedArray, match=r"array 'arr_0' is damaged \(Bad CRC-32.*none of its images"):
        for name in src.files:
            read(name)
    # a run that reads only the first images (a shard) still checks the rest before its numbers
    read = reader_for(src)
    first = [read(n) for n in src.files[:3]]
    assert all(d.array is not None for d in first)
    with pytest.raises(arrays.DamagedArray, match="Bad CRC-32"):
        read.finish()
    # thumbnails keep per-image problems
    previews = reader_for(src, previews=True)
    shown = [previews(n) for n in src.files]
    assert shown[-1].problem and "Bad CRC-32" in shown[-1].problem


def test_a_damaged_stored_member_fails_its_crc_check(tmp_path):
    x = _images(6)
    path = tmp_path / "s.npz"
    np.savez(path, x)
    src = open_source(path)
    reader_for(src).finish()                      # intact: passes
    _damage_member_byte(path, 128 + 3 * 40 * 36 * 3 + 17)      # a pixel of image 3
    read = reader_for(open_source(path))
    assert all(read(n).array is not None for n in src.files)  # read in place, image by image
    with pytest.raises(arrays.DamagedArray, match="Bad CRC-32"):
        read.finish()


def test_a_damaged_member_ends_the_run_in_one_line(batches, tmp_path, capfd):
    path = tmp_path / "gen.npz"
    np.savez_compressed(path, np.random.default_rng(3).integers(0, 256, (400, 20, 20, 3), dtype=np.uint8))
    _damage_member_byte(path, 600)
    line = _one_line_error(*_cli_here(capfd, "compute", batches["ref_npz"], path, "--metrics", "fid",
                                      "--device", "cpu", "--no-cache"))
    assert "is damaged (Bad CRC-32" in line and "gen.npz" in line


# -- 8: ADM reference batches of the wrong size -------------------------------------------------
@pytest.mark.parametrize("members, metrics, said", [
    ({"mu": np.zeros(10), "sigma": np.eye(10)}, "fid", r"has 10-d statistics \(mu \(10,\)"),
    ({"mu": np.zeros(2048), "sigma": np.eye(2048), "mu_s": np.zeros(100), "sigma_s": np.eye(100)},
     "fid,sfid", r"has 100-d statistics \(mu_s \(100,\).*sFID spatial features are 2023-d"),
])
def test_adm_reference_batch_of_another_size_is_refused_before_any_feature(batches, tmp_path, capfd,
                                                                          members, metrics, said):
    ref = tmp_path / "adm_ref.npz"
    np.savez(ref, arr_0=batches["ref"], **members)
    rc, err = _cli_here(capfd, "compute", ref, batches["gen_npz"], "--metrics", metrics, "--device", "cpu",
                        "--no-cache")
    line = _one_line_error(rc, err)
    assert "reference batch" in line and "adm_ref.npz" in line
    import re
    assert re.search(said, line), line
    assert "img/s" not in err          # nothing was extracted first


# -- 10: arrays whose header lies, images above the pixel limit ---------------------------------
def _npy_header(path, shape):
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False, "shape": shape})
        return fh.tell()


def test_a_header_promising_more_images_gives_one_record(tmp_path):
    path = tmp_path / "liar.npy"
    offset = _npy_header(path, (10 ** 8, 4, 5, 3))
    with open(path, "ab") as fh:
        fh.write(np.random.default_rng(0).integers(0, 256, (8, 4, 5, 3), dtype=np.uint8).tobytes())
    assert offset > 0
    src = open_source(path)
    assert len(src.files) == 8
    assert len(src.refused) == 1
    name, reason = src.refused[0]
    assert name == "arr_0[8:100000000]"
    assert "99,999,992 image(s)" in reason and "promises 100,000,000" in reason
    read = reader_for(src)
    assert all(read(n).array is not None for n in src.files)


def test_array_images_above_the_pixel_limit_are_per_image_records(tmp_path):
    path = tmp_path / "huge.npy"
    offset = _npy_header(path, (4, 20000, 20000, 3))
    with open(path, "r+b") as fh:                # sparse: no disk space, no memory
        fh.truncate(offset + 4 * 20000 * 20000 * 3)
    src = open_source(path)
    assert len(src.files) == 4
    read = reader_for(src)
    got = [read(n) for n in src.files]
    assert all(d.array is None and d.problem == "image too large: 20000x20000 pixels (limit 100,000,000)"
               for d in got)


# -- 11: the Python API reads files as the CLI does ---------------------------------------------
# KID, not FID, where numbers are compared: FID's 2048×2048 eigen-decomposition dominates the
# cost of such small sets on a busy CPU, and KID is computed from the same features
@pytest.fixture(scope="module")
def evaluator(batches, model_path):
    with fid_studio.Evaluator(batches["ref"], metrics=("kid",), device="cpu", model=model_path) as ev:
        yield ev


def _cli_error(capfd, batches, path):
    return _one_line_error(*_cli_here(capfd, "compute", batches["ref_npz"], path, "--device", "cpu",
                                      "--no-cache"))[len("error: "):]


def test_the_api_gives_the_cli_errors_for_bad_npz_batches(evaluator, batches, tmp_path, capfd):
    raw = batches["gen_npz"].read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    np.savez(tmp_path / "float.npz", batches["gen"].astype(np.float32))
    np.savez(tmp_path / "ambiguous.npz", np.zeros((8, 3, 32, 3), np.uint8))
    for name, said in (("cut.npz", "truncated"), ("float.npz", "images must be uint8"),
                       ("ambiguous.npz", "ambiguous")):
        with pytest.raises(fid_studio.InputError) as caught:
            evaluator.score(tmp_path / name)
        assert said in str(caught.value)
        assert str(caught.value) == _cli_error(capfd, batches, tmp_path / name), name


def test_the_api_refuses_an_ambiguous_in_memory_batch(evaluator):
    with pytest.raises(fid_studio.InputError, match="ambiguous"):
        evaluator.score(np.zeros((8, 3, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="images must be uint8"):   # still a ValueError too
        evaluator.score(np.zeros((2, 8, 8, 3), np.float32))


def test_the_api_scores_an_npz_batch_as_the_cli_does(evaluator, batches, tmp_path, capfd):
    out = tmp_path / "cli.json"
    rc, _ = _cli_here(capfd, "compute", batches["ref_npz"], batches["gen_npz"], "--metrics", "kid",
                      "--device", "cpu", "--no-cache", "--json", out)
    assert rc == 0
    cli = json.loads(out.read_text())["results"][0]["metrics"]
    assert cli["kid_mean"] is not None
    for given in (batches["gen_npz"], batches["gen"]):
        s = evaluator.score(given)
        assert (s.kid_mean, s.kid_std) == (cli["kid_mean"], cli["kid_std"])


def test_the_api_uses_an_adm_batch_precomputed_statistics(batches, model_path, tmp_path):
    ref = tmp_path / "adm.npz"
    rng = np.random.default_rng(5)
    a = rng.normal(size=(64, 2048))
    np.savez(ref, arr_0=batches["ref"], mu=a.mean(0), sigma=np.cov(a, rowvar=False))
    with fid_studio.Evaluator(ref, metrics=("fid",), device="cpu", model=model_path) as ev:
        assert ev.images_run == 0                 # FID only: the images are not needed
        np.testing.assert_array_equal(ev._ref.stats.mu, a.mean(0))
    with fid_studio.Evaluator(ref, metrics=("kid",), device="cpu", model=model_path) as ev:
        assert ev.images_run == 12 and ev.n_reference == 12   # KID: its images, as the CLI does
        np.testing.assert_array_equal(ev._ref.stats.mu, a.mean(0))
    np.savez(tmp_path / "adm_small.npz", arr_0=batches["ref"], mu=np.zeros(10), sigma=np.eye(10))
    with pytest.raises(fid_studio.InputError, match="10-d statistics"):
        fid_studio.Evaluator(tmp_path / "adm_small.npz", metrics=("fid",), device="cpu", model=model_path)


# -- 12: array sources on every executor ---------------------------------------------------------
# The features (hence the statistics and every metric) are compared bitwise: same pixels, same
# preprocessing, same batches through the same model, in the same order.
def _features(src, inference_model, **opt):
    from engine.features.pipeline import extract
    from engine.features.presets import get_preset
    opts = Options(metrics=("fid",), batch_size=4, workers=2, use_cache=False, device="cpu", **opt)
    ext = extract(src, get_preset("clean"), inference_model, opts)
    return ext.files, ext.skipped, np.array(ext.features), ext.stats


@pytest.fixture(scope="module")
def thread_features(batches, inference_model):
    return _features(open_source(batches["gen_npz"]), inference_model)


@pytest.mark.parametrize("compressed", [False, True])
def test_array_sources_on_processes_equal_threads(batches, inference_model, thread_features, tmp_path,
                                                  compressed):
    gen = batches["gen_npz"]
    if compressed:
        gen = tmp_path / "gen_c.npz"
        np.savez_compressed(gen, batches["gen"])
    files, skipped, feats, stats = _features(open_source(gen), inference_model, decode_processes=True)
    assert files == thread_features[0] and len(files) == 10 and skipped == thread_features[1] == []
    np.testing.assert_array_equal(feats, thread_features[2])
    np.testing.assert_array_equal(stats.sigma, thread_features[3].sigma)


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")   # the duplicate is the point
def test_duplicate_zip_members_read_in_processes(tmp_path, model_path):
    import io
    from PIL import Image
    path = tmp_path / "dup.zip"
    x = _images(4)
    with zipfile.ZipFile(path, "w") as zf:
        for i, a in enumerate(x):
            buf = io.BytesIO()
            Image.fromarray(a).save(buf, format="PNG")
            zf.writestr("same.png" if i < 2 else f"img_{i}.png", buf.getvalue())
    src = open_source(path)
    assert "same.png #copy2" in src.files
    from engine.features.process_pool import ordered_decode
    got = list(ordered_decode(src, "clean", workers=2, depth=4))
    assert [d.name for d, _ in got] == src.files and all(a is not None for _, a in got), \
        [(d.name, d.problem) for d, _ in got]


# -- 13: folders the scan cannot read -----------------------------------------------------------
_SCAN_AS_NOBODY = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from engine.inputs.sources import scan_folder
os.chdir(sys.argv[2])
if os.geteuid() == 0:
    import pwd
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
src = scan_folder("tree")
print(json.dumps({"files": src.files, "refused": src.refused}))
"""


def test_an_unreadable_sub_folder_gets_a_record(tmp_path):
    from PIL import Image
    tree = tmp_path / "tree"
    (tree / "open").mkdir(parents=True)
    (tree / "locked").mkdir()
    Image.fromarray(_images(1)[0]).save(tree / "open" / "a.png")
    Image.fromarray(_images(1)[0]).save(tree / "locked" / "b.png")
    os.chmod(tmp_path, 0o755)
    for d in (tree, tree / "open"):
        os.chmod(d, 0o755)
    os.chmod(tree / "open" / "a.png", 0o644)
    os.chmod(tree / "locked", 0)
    try:
        # as root, permission bits do not bind: the scan runs in a child that drops to nobody
        out = subprocess.run([sys.executable, "-c", _SCAN_AS_NOBODY, str(ROOT), str(tmp_path)],
                             capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(tree / "locked", 0o755)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["files"] == ["open/a.png"]
    assert got["refused"] == [["locked/", "folder cannot be read (permission denied): the images in it "
                                          "are not scored"]]


def test_files_under_a_path_longer_than_the_system_allows_get_a_record(tmp_path):
    from PIL import Image
    limit = os.pathconf(tmp_path, "PC_PATH_MAX")
    part = "d" * 200
    depth = limit // (len(part) + 1) + 2
    # built with directory descriptors: no single path passed to the system exceeds the limit
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        os.mkdir("tree", dir_fd=fd)
        cur = os.open("tree", os.O_RDONLY, dir_fd=fd)
        for _ in range(depth):
            os.mkdir(part, dir_fd=cur)
            nxt = os.open(part, os.O_RDONLY, dir_fd=cur)
            os.close(cur)
            cur = nxt
        png = os.open("deep.png", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=cur)
        with os.fdopen(png, "wb") as fh:
            Image.fromarray(_images(1)[0]).save(fh, format="PNG")
        os.close(cur)
    finally:
        os.close(fd)
    Image.fromarray(_images(1)[0]).save(tmp_path / "tree" / "top.png")
    src = open_source(tmp_path / "tree")
    assert "top.png" in src.files
    assert len(src.files) + len(src.refused) >= 2
    assert src.refused and all("not scored" in r or "too long" in r for _, r in src.refused)
    assert any("longer than the system allows" in r for _, r in src.refused), src.refused
