"""Image arrays (.npz / .npy) as sources: layouts, refusals, streaming, names, cache keys."""
import zipfile

import numpy as np
import pytest

from engine.errors import InputError
from engine.features import cache as feature_cache
from engine.inputs import arrays
from engine.inputs.decode import reader_for
from engine.inputs.sources import open_source


def _images(n=20, h=6, w=9, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def _read_all(src, order=None):
    read = reader_for(src)
    names = src.files if order is None else [src.files[i] for i in order]
    return np.stack([read(n).array for n in names]), read


@pytest.mark.parametrize("writer", ["savez", "savez_compressed", "npy", "npy_nchw", "npz_nchw"])
def test_every_layout_reads_back_the_same_images(tmp_path, writer):
    x = _images()
    path = tmp_path / ("a.npy" if writer.startswith("npy") else "a.npz")
    if writer == "savez":
        np.savez(path, x)
    elif writer == "savez_compressed":
        np.savez_compressed(path, x)
    elif writer == "npy":
        np.save(path, x)
    elif writer == "npy_nchw":
        np.save(path, x.transpose(0, 3, 1, 2))
    else:
        np.savez(path, arr_0=x.transpose(0, 3, 1, 2))
    src = open_source(path)
    assert src.kind == "array" and src.files[0] == "arr_0[0]" and src.files[-1] == "arr_0[19]"
    assert src.array.compressed == (writer == "savez_compressed")
    assert src.array.channels_first == writer.endswith("nchw") and src.array.size_hw == (6, 9)
    got, _ = _read_all(src)
    np.testing.assert_array_equal(got, x)
    order = [19, 0, 7, 8, 3]          # out of order, as decode threads may ask
    got, _ = _read_all(src, order)
    np.testing.assert_array_equal(got, x[order])


def test_compressed_member_streams_in_a_bounded_window(tmp_path, monkeypatch):
    x = _images(n=60, h=8, w=8)
    np.savez_compressed(tmp_path / "c.npz", x)
    # chunks of 2 images, a window of 4 images: the reader must never hold the whole array
    monkeypatch.setattr(arrays, "CHUNK_BYTES", 2 * 8 * 8 * 3)
    monkeypatch.setattr(arrays, "WINDOW_IMAGES", 4)
    src = open_source(tmp_path / "c.npz")
    got, read = _read_all(src)
    np.testing.assert_array_equal(got, x)
    held = sum(len(c) for c in read._window.values())
    assert read.rewinds == 0 and held <= 4
    # asking for an image behind the window starts the member again and still reads right
    np.testing.assert_array_equal(read("arr_0[1]").array, x[1])
    assert read.rewinds == 1


def test_which_array_is_used(tmp_path):
    x = _images(n=5)
    np.savez(tmp_path / "labelled.npz", x, np.arange(5))          # arr_0 images, arr_1 labels
    assert open_source(tmp_path / "labelled.npz").array.member == "arr_0"
    np.savez(tmp_path / "single.npz", samples=x)                   # the only array
    src = open_source(tmp_path / "single.npz")
    assert src.array.member == "samples" and src.files[2] == "samples[2]"
    np.savez(tmp_path / "two.npz", a=x, b=x)
    with pytest.raises(InputError, match="holds a, b: expected images in 'arr_0'"):
        open_source(tmp_path / "two.npz")
    np.savez(tmp_path / "stats.npz", mu=np.zeros(4), sigma=np.eye(4))
    assert open_source(tmp_path / "stats.npz").kind == "stats"


def test_adm_reference_batch_keeps_its_statistics(tmp_path):
    x = _images(n=5)
    np.savez(tmp_path / "ref.npz", arr_0=x, mu=np.ones(4), sigma=np.eye(4),
             mu_s=np.zeros(3), sigma_s=2 * np.eye(3))
    src = open_source(tmp_path / "ref.npz")
    assert src.kind == "array" and len(src.files) == 5
    assert set(src.stats) == {"mu", "sigma", "mu_s", "sigma_s", "n"} and src.stats["n"] is None
    np.testing.assert_array_equal(src.stats["sigma_s"], 2 * np.eye(3))


@pytest.mark.parametrize("array, message", [
    (np.zeros((4, 3, 5, 3), np.uint8), r"shape \(4, 3, 5, 3\): ambiguous"),
    (np.zeros((4, 5, 5, 3), np.float32), r"float32 array of shape \(4, 5, 5, 3\); images must be uint8"),
    (np.zeros((4, 5, 5), np.uint8), r"shape \(4, 5, 5\); images must be N×H×W×3 or N×3×H×W"),
    (np.zeros((4, 5, 5, 4), np.uint8), r"neither axis 1 nor axis 3 has 3 entries"),
    (np.zeros((0, 5, 5, 3), np.uint8), r"it holds no pixels"),
    (np.asfortranarray(np.zeros((4, 5, 6, 3), np.uint8)), r"Fortran order"),
])
def test_refusals_say_what_was_found(tmp_path, array, message):
    np.save(tmp_path / "b.npy", array)
    with pytest.raises(InputError, match=message):
        open_source(tmp_path / "b.npy")
    np.savez(tmp_path / "b.npz", array)
    with pytest.raises(InputError, match=message):
        open_source(tmp_path / "b.npz")


def test_object_arrays_are_never_unpickled(tmp_path):
    obj = np.empty(3, dtype=object)
    obj[:] = [1, "x", None]
    np.save(tmp_path / "o.npy", obj, allow_pickle=True)
    with pytest.raises(InputError, match="object arrays are refused"):
        open_source(tmp_path / "o.npy")


def test_truncated_npy_keeps_the_whole_images_and_names_the_rest(tmp_path):
    x = _images(n=10)
    np.save(tmp_path / "t.npy", x)
    data = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(data[:-(6 * 9 * 3 + 5)])     # one whole image and a bit
    src = open_source(tmp_path / "t.npy")
    assert len(src.files) == 8
    # one record for the shortfall, however many images the header promised
    assert [name for name, _ in src.refused] == ["arr_0[8:10]"]
    assert "these 2 image(s)" in src.refused[0][1] and "truncated" in src.refused[0][1]
    np.testing.assert_array_equal(_read_all(src)[0], x[:8])


def test_damaged_member_is_refused_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(arrays, "CHUNK_BYTES", 64 * 6 * 9 * 3)   # inflate 64 images at a time
    x = _images(n=3000)                         # random pixels: the member stays ~500 kB
    path = tmp_path / "d.npz"
    np.savez_compressed(path, x)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("arr_0.npy")
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    raw[start:start + 64] = bytes(64)          # corrupt the middle of the deflate stream
    path.write_bytes(bytes(raw))
    # the header is intact, so the source opens; the damage shows when its part is inflated
    # (a bad deflate block) or at the end of the member (the CRC check), whichever comes first,
    # and then the whole member is refused: no image of it can be trusted
    src = open_source(path)
    read = reader_for(src)
    assert np.array_equal(read(src.files[0]).array, x[0])
    with pytest.raises(arrays.DamagedArray, match="none of its images is scored"):
        for n in src.files:
            read(n)
    with pytest.raises(arrays.DamagedArray):      # and stays refused
        read(src.files[1])
    # thumbnails (previews) still show what can be read, with a per-image problem for the rest
    preview = reader_for(src, previews=True)
    results = [preview(n) for n in src.files]
    bad = [r for r in results if r.problem]
    assert bad and all(r.problem.startswith("cannot read image from the array") for r in bad)
    assert bad[-1].name == "arr_0[2999]"


def test_cache_key_follows_the_array_file(tmp_path):
    x = _images(n=5)
    np.savez(tmp_path / "a.npz", x)
    k1 = feature_cache.cache_key(open_source(tmp_path / "a.npz"), "m", "clean")
    assert k1 == feature_cache.cache_key(open_source(tmp_path / "a.npz"), "m", "clean")
    np.savez(tmp_path / "a.npz", x[:4])
    assert feature_cache.cache_key(open_source(tmp_path / "a.npz"), "m", "clean") != k1
