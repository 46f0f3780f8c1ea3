"""engine.npz.write_npz: np.savez's layout, written in slices (so the GIL is let go)."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from engine import npz


def test_round_trip_equals_np_savez(tmp_path, monkeypatch):
    monkeypatch.setattr(npz, "CHUNK", 1000)        # several slices per array, a ragged last one
    rng = np.random.default_rng(0)
    arrays = {"mu": rng.random(77), "sigma": rng.random((77, 77)), "n": np.int64(12345),
              "preset": np.str_("clean"), "fortran": np.asfortranarray(rng.random((5, 3))),
              "empty": np.zeros((0, 4), np.float32), "u8": rng.integers(0, 255, (3, 7, 7, 3), dtype=np.uint8)}
    ours, theirs = tmp_path / "ours.npz", tmp_path / "theirs.npz"
    npz.write_npz(ours, arrays)
    np.savez(theirs, **arrays)
    with np.load(ours, allow_pickle=False) as a, np.load(theirs, allow_pickle=False) as b:
        assert a.files == b.files
        for k in b.files:
            assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
            np.testing.assert_array_equal(a[k], b[k])
    with zipfile.ZipFile(ours) as zf:             # stored, like np.savez: readable at byte offsets
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        for i in zf.infolist():
            assert zf.read(i.filename) == zipfile.ZipFile(theirs).read(i.filename), i.filename


def test_file_object_and_object_arrays_refused():
    buf = io.BytesIO()
    npz.write_npz(buf, {"x": np.arange(3)})
    buf.seek(0)
    assert np.load(buf)["x"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="object arrays"):
        npz.write_npz(io.BytesIO(), {"o": np.array([{}], dtype=object)})
