"""Prompts beside generated images (engine/inputs/prompts.py): each form, the precedence
rules, and every odd input as a per-file record, never an exception."""
import json
import zipfile

import numpy as np
import pytest

from engine.inputs.prompts import (CSV_NAME, EMPTY_NOTE, JSONL_NAME, NOT_FOUND, NPZ_FORM, TXT_FORM,
                                   drop_consumed, read_prompts)
from engine.inputs.sources import open_source
from tests.imagegen import make_folder


def _reasons(p) -> dict:
    out = {}
    for f, r in p.records:
        out.setdefault(f, []).append(r)
    return out


@pytest.fixture
def images(tmp_path):
    return make_folder(tmp_path / "gen", 4, seed=1, size=(16, 16))


def test_csv_prompts_with_odd_lines(images):
    (images / CSV_NAME).write_bytes(
        "file,prompt\n"
        "img_0000.png,a red cube\n"
        'img_0001.png,"a cat, on a mat ☕"\n'
        "img_0002.png,\n"
        "missing.png,a ghost\n"
        "only-one-field\n".encode() + b"img_0003.png,caf\xe9\n")
    src = open_source(images)
    p = read_prompts(src)
    assert p.form == CSV_NAME and p.unavailable is None
    assert p.prompts == {"img_0000.png": "a red cube", "img_0001.png": "a cat, on a mat ☕", "img_0002.png": ""}
    r = _reasons(p)
    assert r["img_0002.png"] == [EMPTY_NOTE]
    assert any("prompt without an image" in x for x in r["missing.png"])
    assert any("malformed CSV line" in x for x in r[f"{CSV_NAME} line 6"])
    assert any("not UTF-8" in x for x in r["img_0003.png"])
    assert any("no prompt" in x for x in r["img_0003.png"])
    drop_consumed(src, p)
    assert src.warnings() == []          # the prompts file is not a "non-image file ignored"


def test_jsonl_duplicates_are_refused_per_file(images):
    lines = [json.dumps({"file": "img_0000.png", "prompt": "one"}),
             json.dumps({"file": "img_0000.png", "prompt": "two"}),
             json.dumps({"file": "img_0001.png", "prompt": "same"}),
             json.dumps({"file": "img_0001.png", "prompt": "same"}),
             "{not json", json.dumps(["file", "prompt"])]
    (images / JSONL_NAME).write_text("\n".join(lines) + "\n")
    p = read_prompts(open_source(images))
    assert p.form == JSONL_NAME
    assert p.prompts == {"img_0001.png": "same"}
    r = _reasons(p)
    assert any("different prompts (lines 1, 2)" in x for x in r["img_0000.png"])
    assert any("malformed line" in x for x in r[f"{JSONL_NAME} line 5"])
    assert any("malformed line" in x for x in r[f"{JSONL_NAME} line 6"])


def test_txt_sidecars_and_precedence(images):
    (images / "img_0000.txt").write_text("  a photo of a dog\n")
    (images / "img_0001.txt").write_bytes(b"\xff\xfe bad")
    (images / "orphan.txt").write_text("nobody")
    p = read_prompts(open_source(images))
    assert p.form == TXT_FORM
    assert p.prompts == {"img_0000.png": "a photo of a dog"}
    r = _reasons(p)
    assert any("not UTF-8" in x for x in r["img_0001.txt"])
    assert any("prompt without an image" in x for x in r["orphan.txt"])
    # a table wins over the .txt files, and says so
    (images / CSV_NAME).write_text("file,prompt\nimg_0002.png,x\n")
    p = read_prompts(open_source(images))
    assert p.form == CSV_NAME and p.prompts == {"img_0002.png": "x"}
    assert any(".txt file(s) beside the images not used" in n for n in p.notes)
    # both tables: ambiguous, refused in one plain line
    (images / JSONL_NAME).write_text("")
    p = read_prompts(open_source(images))
    assert p.prompts == {} and "ambiguous" in p.unavailable


def test_no_prompts_and_bad_header(images):
    assert read_prompts(open_source(images)).unavailable == NOT_FOUND
    (images / CSV_NAME).write_text("name,text\na,b\n")
    assert "no 'file' and 'prompt' columns" in read_prompts(open_source(images)).unavailable


def test_zip_and_npz_prompts(tmp_path, images):
    z = tmp_path / "gen.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(images.iterdir()):
            zf.write(f, f.name)
        zf.writestr("img_0001.txt", "a zipped prompt")
    p = read_prompts(open_source(z))
    assert p.form == TXT_FORM and p.prompts == {"img_0001.png": "a zipped prompt"}

    arr = np.zeros((3, 8, 8, 3), np.uint8)
    npz = tmp_path / "batch.npz"
    np.savez(npz, arr_0=arr, prompts=np.array(["first", "", "third", "extra"]))
    p = read_prompts(open_source(npz))
    assert p.form == NPZ_FORM
    assert p.prompts == {"arr_0[0]": "first", "arr_0[1]": "", "arr_0[2]": "third"}
    assert any("prompt without an image" in x for x in _reasons(p)["prompts[3]"])
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, arr_0=arr, prompts=np.array(["a", None, "c"], dtype=object))
    assert "Python objects" in read_prompts(open_source(pickled)).unavailable
