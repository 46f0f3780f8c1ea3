"""One call behind ``model add clip-vitb32`` / ``model add clip-vitl14-336`` and the app's
"Enable CLIP-FID…" / "Enable CMMD…": obtain OpenAI's weights (a given file, or the official
download), verify them, build the image encoder into the user's data folder.

* Download: ``OFFICIAL_WEIGHTS[variant]``, whose SHA-256 is the URL's path segment (as
  clip/clip.py checks it), through the common downloader into ``paths.download_dir()``:
  proxy, timeout, resume after a cut connection, web-page detection; the complete ``.part``
  must have that hash and pass verify.py before it is moved into place, a refused one is
  deleted. Cancel keeps nothing.
* After a successful build the downloaded file is deleted: the image tower's tensors now
  live in the model. If the build fails it is kept, so a retry finds it and downloads
  nothing.
* The weights' SHA-256 is said and recorded in the provenance (``source_sha256``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..common import download as downloader
from ..errors import DownloadCancelled
from ..paths import download_dir
from .build import build, check_output, default_model_path
from .verify import verify_weights_file
from .weights import SPECS, ClipSpec, plausible_size_range

OFFICIAL_WEIGHTS = {
    v: downloader.RemoteFile(s.url, s.file_name, s.sha256,
                             approx_mb=round(plausible_size_range(s)[0] / 1e6))
    for v, s in SPECS.items()}
_METRIC = {"vitb32": "CLIP-FID", "vitl14-336": "CMMD"}


def enable_clip(variant: str, *, weights: Path | None = None,
                source: downloader.RemoteFile | None = None,
                progress: downloader.Progress | None = None,
                cancelled: Callable[[], bool] = lambda: False,
                say: Callable[[str], None] | None = None, out_path: Path | None = None,
                spec: ClipSpec | None = None) -> dict:
    """Build the CLIP ``variant`` ('vitb32' | 'vitl14-336') image encoder from ``weights`` (a
    local file) or, when None, from a download of ``source`` (default
    OFFICIAL_WEIGHTS[variant]). Returns the model's provenance with ``model_path`` added.
    ``spec`` is for tests (reduced-depth stand-ins); the app uses the full model.

    Raises a models.errors.ModelBuildError (one line) for every refusal: a missing,
    unreadable, truncated, corrupted, web-page, wrong-hash or wrong-architecture file, a
    network error, a cancel (DownloadCancelled)."""
    spec = spec or SPECS[variant]
    say = say or (lambda msg: None)
    out_path = check_output(out_path if out_path is not None else default_model_path(variant))
    downloaded = weights is None
    official_sha256 = None
    if downloaded:
        source = source or OFFICIAL_WEIGHTS[variant]
        official_sha256 = source.sha256
        say(f"Downloading {source.url} (about {source.approx_mb:,} MB) into {download_dir()}")

        def verify(part: Path) -> None:
            say(f"Checking the downloaded {source.file_name} tensor by tensor")
            verify_weights_file(part, spec, name=f"the downloaded {source.file_name}")

        weights = downloader.download(source, download_dir(), progress=progress,
                                      cancelled=cancelled, verify=verify)
        origin = source.url
    else:
        weights = Path(weights)
        origin = f"file {weights.resolve()}"
    if cancelled():
        if downloaded:
            weights.unlink(missing_ok=True)
        raise DownloadCancelled("cancelled; nothing was kept")
    say(f"Building {out_path.name} from {weights.name}")
    try:
        prov = build(out_path, weights=weights, spec=spec, source=origin,
                     official_sha256=official_sha256, progress=say, cancelled=cancelled)
    except DownloadCancelled:
        if downloaded:
            weights.unlink(missing_ok=True)
        raise
    if downloaded:
        weights.unlink(missing_ok=True)  # the image tower now lives in the model
        say(f"Deleted the downloaded {weights.name}")
    say(f"Weights SHA-256: {prov['source_sha256']}")
    say(f"{_METRIC[variant]} enabled: {out_path}")
    return dict(prov, model_path=str(out_path))


def enable_clip_vitb32(**kwargs) -> dict:
    """``model add clip-vitb32``: enable_clip('vitb32', ...)."""
    return enable_clip("vitb32", **kwargs)


def enable_clip_vitl14_336(**kwargs) -> dict:
    """``model add clip-vitl14-336``: enable_clip('vitl14-336', ...)."""
    return enable_clip("vitl14-336", **kwargs)
