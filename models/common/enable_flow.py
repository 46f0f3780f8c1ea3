"""The flow behind every ``model add NAME`` and the app's "Enable …" for a network added on
request: obtain the weights (a given file, or a download checked before it is moved into
place), build the model, and keep nothing on a cancel.

* A downloaded file is deleted after a successful build (its tensors now live in the model)
  and on a cancel; if the build fails it is kept, so a retry finds it checked and downloads
  nothing.
* The weights' SHA-256 is said and recorded in the provenance (``source_sha256``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import DownloadCancelled
from ..paths import download_dir
from . import download as downloader
from .model_writer import CANCELLED


def obtain_and_build(*, weights: Path | None, source: downloader.RemoteFile, out_path: Path,
                     check_download: Callable[[Path], None],
                     build: Callable[[Path, str], dict], enabled: str,
                     check_file: Callable[[Path], None] = lambda path: None,
                     progress: downloader.Progress | None = None,
                     cancelled: Callable[[], bool] = lambda: False,
                     say: Callable[[str], None] | None = None) -> dict:
    """``weights`` (a local file, ``check_file`` first) or, when None, a download of
    ``source`` whose complete ``.part`` ``check_download`` verifies; then
    ``build(weights, origin)`` (which asks ``cancelled`` between its stages). Returns the
    provenance with ``model_path`` added; says ``enabled`` at the end."""
    say = say or (lambda msg: None)
    downloaded = weights is None
    if downloaded:
        say(f"Downloading {source.url} (about {source.approx_mb:,} MB) into {download_dir()}")

        def verify(part: Path) -> None:
            say(f"Checking the downloaded {source.file_name} tensor by tensor")
            check_download(part)

        weights = downloader.download(source, download_dir(), progress=progress,
                                      cancelled=cancelled, verify=verify)
        origin = source.url
    else:
        weights = Path(weights)
        check_file(weights)
        origin = f"file {weights.resolve()}"
    try:
        if cancelled():
            raise DownloadCancelled(CANCELLED)
        say(f"Building {out_path.name} from {weights.name}")
        prov = build(weights, origin)
    except DownloadCancelled:
        if downloaded:
            weights.unlink(missing_ok=True)
        raise
    if downloaded:
        weights.unlink(missing_ok=True)  # its tensors now live in the model
        say(f"Deleted the downloaded {weights.name}")
    say(f"Weights SHA-256: {prov['source_sha256']}")
    say(f"{enabled} enabled: {out_path}")
    return dict(prov, model_path=str(out_path))
