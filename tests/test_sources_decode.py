import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from badinput import BAD, GOOD, make_bad_folder
from engine.inputs.decode import FolderReader
from engine.errors import InputError, OptionError
from engine.run.options import Options
from engine.features.presets import get_preset
from engine.inputs.sources import display_name, open_source


def test_bad_folder_every_file_accounted_for(tmp_path):
    root = make_bad_folder(tmp_path / "bad")
    src = open_source(root)
    assert src.ignored == ["notes.txt"]
    names = {display_name(n) for n in src.files}
    assert names == {display_name(n) for n in GOOD} | set(BAD)
    read = FolderReader(root)
    outcomes = {display_name(n): read(n) for n in src.files}
    for name, fragment in BAD.items():
        d = outcomes[name]
        assert d.array is None and fragment in d.problem, (name, d.problem)
    for name in GOOD:
        d = outcomes[display_name(name)]
        assert d.array is not None and d.array.dtype == np.uint8 and d.array.shape[2] == 3, (name, d.problem)
    assert "16-bit" in outcomes["gray16.png"].note
    assert outcomes["gray16.png"].array.max() > 200  # scaled, not clipped to a white image
    assert "EXIF orientation ignored" in outcomes["exif_rotated.jpg"].note
    assert outcomes["exif_rotated.jpg"].array.shape[:2] == (40, 50)  # not rotated, like the references
    assert outcomes["one_pixel.png"].array.shape == (1, 1, 3)
    assert "caf\\xe9.png" in names


def test_matches_reference_decoding_for_common_modes(tmp_path):
    # pytorch-fid and clean-fid decode with Image.open(path).convert("RGB"): so must we
    root = make_bad_folder(tmp_path / "bad")
    read = FolderReader(root)
    for name in ("cmyk.jpg", "palette_alpha.png", "rgba.webp", "anim.gif", "ok_b.jpg"):
        with Image.open(root / name) as im:
            expected = np.asarray(im.convert("RGB"))
        assert np.array_equal(read(name).array, expected), name


def test_zip_source_reads_in_place_and_refuses_absurd_members(tmp_path):
    zpath = tmp_path / "set.zip"
    rgb = Image.new("RGB", (16, 16), (1, 2, 3))
    buf = io.BytesIO()
    rgb.save(buf, "PNG")
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("b/two.png", buf.getvalue())
        zf.writestr("a/one.PNG", buf.getvalue())
        zf.writestr("readme.md", "hi")
        zf.writestr("bomb.png", b"\0" * (8 * 1024 * 1024))  # compresses > 1000:1
    src = open_source(zpath)
    assert src.kind == "zip" and src.files == ["a/one.PNG", "b/two.png"]
    assert src.ignored == ["readme.md"]
    assert src.refused and src.refused[0][0] == "bomb.png" and "implausible" in src.refused[0][1]
    from engine.inputs.decode import ZipReader
    assert ZipReader(zpath)("a/one.PNG").array.shape == (16, 16, 3)


def test_stats_npz_and_errors(tmp_path):
    np.savez(tmp_path / "s.npz", mu=np.zeros(4), sigma=np.eye(4))
    src = open_source(tmp_path / "s.npz")
    assert src.kind == "stats" and src.stats["sigma"].shape == (4, 4)
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    with pytest.raises(InputError, match="'mu' and 'sigma'"):
        open_source(tmp_path / "bad.npz")
    with pytest.raises(InputError, match="not found"):
        open_source(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no images"):
        open_source(tmp_path / "empty")


def test_unknown_preset_and_options_raise_with_valid_names():
    with pytest.raises(OptionError, match="clean, pytorch-fid, tensorflow"):
        get_preset("clean-fid")
    with pytest.raises(ValueError, match="valid"):
        Options(metrics=("fid", "lpips"))
    with pytest.raises(OptionError, match="kid_subsetz"):
        Options.from_mapping({"kid_subsetz": 3})
    assert Options.from_mapping({"metrics": "fid,kid", "seed": 3}).metrics == ("fid", "kid")
