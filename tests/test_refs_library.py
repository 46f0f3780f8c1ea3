"""A library of one's own references (`stats SOURCE -o FILE --name NAME`), offline imports of
catalogue files, and the checks of each published layout (ADM batch, clean-fid's KID features)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from cli_here import cli_here, one_line_error
from imagegen import make_folder
from refs_files import adm_batch, gaussian, moments_npz, npz_bytes

from engine.errors import InputError, OptionError
from engine.refs import library, resolve, store
from engine.refs.catalogue import CATALOGUE
from engine.run.options import Options

ADM = CATALOGUE["adm/VIRTUAL_imagenet64_labeled"]
KID = CATALOGUE["clean-fid/afhq_cat_clean_train_512_kid"]
TF_CIFAR = CATALOGUE["clean-fid/cifar10_legacy_tensorflow_train_32"]


@pytest.fixture
def refs_env(isolated_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FID_STUDIO_REFS_MIRROR", raising=False)
    return tmp_path


def _save_own(refs_env, capfd):
    src = make_folder(refs_env / "real", 4, seed=1, size=(32, 32))
    gen = make_folder(refs_env / "gen", 4, seed=3, size=(32, 32))
    out = cli_here(capfd, "stats", src, "-o", refs_env / "mine.npz", "--name", "my-faces", "--preset", "pytorch-fid")
    assert out.returncode == 0, out.stderr
    shutil.rmtree(src)                      # reuse reads no image: the source may be gone
    return src, gen


@pytest.mark.slow   # a 2048-d FID (two eigendecompositions); the catalogue's twin runs by default
def test_own_named_reference_scores_by_name_without_its_images(refs_env, capfd):
    _, gen = _save_own(refs_env, capfd)
    scored = cli_here(capfd, "compute", "my-faces", gen, "--metrics", "fid")
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert result["preset"] == "pytorch-fid" and np.isfinite(result["results"][0]["metrics"]["fid"])
    assert result["reference"]["path"] == str(library.files_dir() / "my-faces.npz")


def test_own_named_reference_is_listed_resolved_and_checked(refs_env, capfd):
    src, gen = _save_own(refs_env, capfd)
    listed = {d["name"]: d for d in json.loads(cli_here(capfd, "refs", "list", "--json").stdout)}
    mine = listed["my-faces"]
    assert mine["origin"] == "library" and mine["preset"] == "pytorch-fid" and mine["n"] == 4
    assert mine["supports"] == ["fid"] and "kid" in mine["not_supported"]
    assert mine["source_path"] == str(src.resolve()) and len(mine["files_sha256"]) > 0
    assert mine["kind"] == "moments" and len(mine["model_sha256"]) == 64
    got = json.loads(cli_here(capfd, "refs", "get", "my-faces").stdout)
    assert got["path"] == str(library.files_dir() / "my-faces.npz") == resolve.resolve("my-faces").path.as_posix()
    # the library's convention is enforced as the catalogue's is
    line = one_line_error(cli_here(capfd, "compute", "my-faces", gen, "--metrics", "fid", "--preset", "clean"))
    assert "my-faces" in line and "preset pytorch-fid" in line and "preset clean" in line
    # a changed library file is refused, both digests named
    lib_file = library.files_dir() / "my-faces.npz"
    lib_file.unlink()
    lib_file.write_bytes(moments_npz(5))
    line = one_line_error(cli_here(capfd, "refs", "get", "my-faces"))
    assert "changed" in line and mine["sha256"] in line


def test_damaged_registry_is_set_aside_and_rebuilt_from_the_files(refs_env):
    stats = refs_env / "s.npz"
    mu, sigma = gaussian(2)
    stats.write_bytes(npz_bytes(mu=mu, sigma=sigma, n=np.int64(12), preset=np.str_("clean"),
                                reference_name=np.str_("ffhq-mine")))
    rec = library.register("ffhq-mine", stats)
    library.registry_path().write_text("{ not json")
    notes = []
    again = library.get("ffhq-mine", say=notes.append)
    assert again["sha256"] == rec["sha256"] and again["preset"] == "clean" and again["n"] == 12
    assert "damaged" in notes[0] and any(p.name.startswith("library.json.damaged-") for p in library.root().iterdir())
    with pytest.raises(InputError, match="catalogue entry"):
        library.register(TF_CIFAR.name, stats)
    with pytest.raises(InputError, match="reference name"):
        library.register("../escape", stats)


def test_catalogue_file_imported_offline_sets_its_convention(refs_env, capfd):
    f = refs_env / "cifar10_legacy_tensorflow_train_32.npz"
    f.write_bytes(moments_npz(0))
    out = cli_here(capfd, "refs", "import", TF_CIFAR.name, f)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["source"] == "import"
    res = resolve.resolve(TF_CIFAR.name)
    opts = resolve.fit_options(res, Options(metrics=("fid",)), preset_given=False, suite_given=False,
                               metrics_given=True)
    assert opts.preset == "tensorflow"
    with pytest.raises(OptionError, match="preset tensorflow.*preset clean"):
        resolve.fit_options(res, Options(metrics=("fid",), preset="clean"), preset_given=True,
                            suite_given=False, metrics_given=True)
    # another file for the same entry later: refused with both digests
    other = refs_env / "other.npz"
    other.write_bytes(moments_npz(1))
    line = one_line_error(cli_here(capfd, "refs", "import", TF_CIFAR.name, other))
    assert "changed" in line and json.loads(out.stdout)["sha256"] in line


def test_adm_batch_is_checked_and_selects_the_adm_suite(refs_env):
    bad = refs_env / "no_spatial.npz"
    bad.write_bytes(adm_batch(0, spatial=False))
    with pytest.raises(InputError, match="lacks mu_s, sigma_s"):
        store.import_file(ADM, bad)
    good = refs_env / "VIRTUAL_imagenet64_labeled.npz"
    good.write_bytes(adm_batch(0))
    ref = store.import_file(ADM, good)
    assert ref.provenance["summary"]["batch_images"] == 4
    res = resolve.resolve(ADM.name)
    opts = resolve.fit_options(res, Options(), preset_given=False, suite_given=False, metrics_given=False)
    assert opts.suite == "adm" and opts.preset == "tensorflow"


def test_kid_features_are_checked_and_not_taken_by_compute(refs_env, capfd):
    rows = np.random.default_rng(0).normal(size=(6, 2048)).astype(np.float32)
    f = refs_env / "kid.npz"
    f.write_bytes(npz_bytes(feats=np.concatenate([rows, [[np.nan] * 2048]]).astype(np.float32)))
    with pytest.raises(InputError, match="non-finite"):
        store.import_file(KID, f)
    f.write_bytes(npz_bytes(feats=rows))
    assert store.import_file(KID, f).provenance["summary"]["feature_rows"] == 6
    line = one_line_error(cli_here(capfd, "compute", KID.name, refs_env, "--metrics", "kid"))
    assert KID.name in line and "images only" in line


def test_broken_statistics_are_refused_by_name(refs_env):
    mu, sigma = gaussian(0)
    cases = {"not symmetric": dict(mu=mu, sigma=sigma + np.triu(np.ones_like(sigma))),
             "non-finite": dict(mu=np.where(np.arange(2048) == 3, np.inf, mu), sigma=sigma),
             "expected 2048": dict(mu=mu[:8], sigma=sigma[:8, :8])}
    for why, arrays in cases.items():
        f = refs_env / "x.npz"
        f.write_bytes(npz_bytes(**arrays))
        with pytest.raises(InputError, match=why):
            store.import_file(TF_CIFAR, f)
