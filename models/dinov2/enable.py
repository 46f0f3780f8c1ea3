"""One call behind ``model add dinov2-vitl14`` and the app's "Enable FD-DINOv2…": obtain the
weights (a given file, or Meta's official download), verify them tensor by tensor, build the
model into the user's data folder.

* Download: ``OFFICIAL_WEIGHTS`` (no SHA-256 is published for it) through the common
  downloader into ``paths.download_dir()``: proxy, timeout, resume after a cut connection,
  web-page detection; the complete ``.part`` is verified (verify.py) before it is moved into
  place, a refused one deleted. Cancel keeps nothing, also during the build (asked between its
  stages, up to the moment the model is saved).
* After a successful build the downloaded ``.pth`` (1.2 GB) is deleted: its tensors now live
  in the model. If the build fails it is kept, so a retry finds it verified and downloads
  nothing.
* The weights' SHA-256 is said and recorded in the provenance (``source_sha256``), so two labs
  can compare the files they used.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..common import download as downloader
from ..common.enable_flow import obtain_and_build
from ..errors import check_weights_file
from .build import build, check_output, default_model_path
from .verify import verify_weights_file
from .weights import FULL, WEIGHTS_FILE, WEIGHTS_URL, ViTSpec, plausible_size_range

OFFICIAL_WEIGHTS = downloader.RemoteFile(
    WEIGHTS_URL, WEIGHTS_FILE, None, approx_mb=round(plausible_size_range(FULL)[0] / 1e6))


def official_source(network: str = "dinov2-vitl14") -> downloader.RemoteFile:
    """Meta's download (models.registry.official_source)."""
    return OFFICIAL_WEIGHTS


def enable_dinov2(*, weights: Path | None = None, source: downloader.RemoteFile | None = None,
                  progress: downloader.Progress | None = None,
                  cancelled: Callable[[], bool] = lambda: False,
                  say: Callable[[str], None] | None = None, out_path: Path | None = None,
                  spec: ViTSpec = FULL) -> dict:
    """Build the DINOv2 ViT-L/14 model from ``weights`` (a local .pth) or, when None, from a
    download of ``source`` (default OFFICIAL_WEIGHTS). Returns the model's provenance with
    ``model_path`` added. ``spec`` is for tests (reduced-depth stand-ins); the app uses FULL.

    Raises a models.errors.ModelBuildError (one line) for every refusal: a missing, unreadable,
    truncated, corrupted or wrong-architecture file, a network error, a cancel
    (DownloadCancelled)."""
    out_path = check_output(out_path if out_path is not None else default_model_path())
    source = source or OFFICIAL_WEIGHTS
    return obtain_and_build(
        weights=weights, source=source, out_path=out_path,
        check_download=lambda part: verify_weights_file(part, spec, name=f"the downloaded {source.file_name}"),
        check_file=lambda path: check_weights_file(path, WEIGHTS_FILE),
        build=lambda w, origin: build(out_path, weights=w, source=origin, spec=spec, progress=say,
                                      cancelled=cancelled),
        enabled="FD-DINOv2", progress=progress, cancelled=cancelled, say=say)
