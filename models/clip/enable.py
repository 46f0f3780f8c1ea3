"""One call behind ``model add clip-vitb32`` / ``clip-vitl14`` / ``clip-vitl14-336`` and the
app's "Enable CLIP-FID…" / "Enable CMMD…": obtain OpenAI's weights (a given file, or the
official download), verify them, build the image and text encoders into the user's data
folder, and obtain the tokenizer's vocabulary (vocab.py) when it is not there yet.

* Download: ``OFFICIAL_WEIGHTS[variant]``, whose SHA-256 is the URL's path segment (as
  clip/clip.py checks it), through the common downloader into ``paths.download_dir()``:
  proxy, timeout, resume after a cut connection, web-page detection; the complete ``.part``
  must have that hash and pass verify.py before it is moved into place, a refused one is
  deleted. Cancel keeps nothing.
* After a successful build the downloaded file is deleted: the towers' tensors now live in
  the two models. If the build fails it is kept, so a retry finds it and downloads
  nothing.
* The weights' SHA-256 is said and recorded in the provenance (``source_sha256``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..common import download as downloader
from ..common.enable_flow import obtain_and_build
from ..errors import ModelBuildError
from .build import build, check_output, default_model_path
from .verify import verify_weights_file
from .vocab import ensure_vocab
from .weights import SPECS, ClipSpec

# about the released files' sizes, shown before a download (the progress bar uses the server's
# Content-Length); their tensors alone are smaller (plausible_size_range: from 303 / 856 MB)
# ViT-L-14.pt: the 336px file's 934 MB less its longer position table ((577 - 257) x 1024 float16)
FILE_MB = {"vitb32": 354, "vitl14": 933, "vitl14-336": 934}
OFFICIAL_WEIGHTS = {
    v: downloader.RemoteFile(s.url, s.file_name, s.sha256, approx_mb=FILE_MB[v])
    for v, s in SPECS.items()}
_METRIC = {"vitb32": "CLIP-FID and CLIPScore (hessel)", "vitl14": "CLIPScore (torchmetrics)",
           "vitl14-336": "CMMD"}


def official_source(network: str) -> downloader.RemoteFile:
    """OpenAI's download for network ``clip-<variant>`` (models.registry.official_source)."""
    return OFFICIAL_WEIGHTS[network.removeprefix("clip-")]


def enable_clip(variant: str, *, weights: Path | None = None,
                source: downloader.RemoteFile | None = None,
                progress: downloader.Progress | None = None,
                cancelled: Callable[[], bool] = lambda: False,
                say: Callable[[str], None] | None = None, out_path: Path | None = None,
                spec: ClipSpec | None = None) -> dict:
    """Build the CLIP ``variant`` ('vitb32' | 'vitl14' | 'vitl14-336') image and text encoders
    from ``weights`` (a local file) or, when None, from a download of ``source`` (default
    OFFICIAL_WEIGHTS[variant]); then the vocabulary (vocab.ensure_vocab, hash-checked; a
    failure there is said, not raised: the encoders stand). Returns the image encoder's
    provenance with ``model_path`` (and ``text_model``, ``vocab``) added.
    ``spec`` is for tests (reduced-depth stand-ins); the app uses the full model.

    Raises a models.errors.ModelBuildError (one line) for every refusal: a missing,
    unreadable, truncated, corrupted, web-page, wrong-hash or wrong-architecture file, a
    network error, a cancel (DownloadCancelled)."""
    spec = spec or SPECS[variant]
    out_path = check_output(out_path if out_path is not None else default_model_path(variant))
    source = source or OFFICIAL_WEIGHTS[variant]
    # a download must have the official hash (when its source names one); a file, if it carries
    # OpenAI's name (verify.precheck)
    official_sha256 = source.sha256 if weights is None else None
    prov = obtain_and_build(
        weights=weights, source=source, out_path=out_path,
        check_download=lambda part: verify_weights_file(part, spec, name=f"the downloaded {source.file_name}"),
        build=lambda w, origin: build(out_path, weights=w, spec=spec, source=origin,
                                      official_sha256=official_sha256, progress=say, cancelled=cancelled),
        enabled=_METRIC[variant], progress=progress, cancelled=cancelled, say=say)
    prov["vocab"] = vocab_after_add(say)
    return prov


def vocab_after_add(say: Callable[[str], None] | None) -> str | None:
    """The vocabulary's path after ``model add clip-…`` obtained it (or found it), or None
    with the reason said: the encoders are built either way, ``model vocab`` retries."""
    say = say or (lambda msg: None)
    try:
        path = ensure_vocab(progress=say)
    except ModelBuildError as exc:
        say(f"The tokenizer's vocabulary was not obtained ({exc}); run `python main.py model vocab`")
        return None
    say(f"Tokenizer vocabulary: {path}")
    return str(path)


def enable_clip_vitb32(**kwargs) -> dict:
    """``model add clip-vitb32``: enable_clip('vitb32', ...)."""
    return enable_clip("vitb32", **kwargs)


def enable_clip_vitl14(**kwargs) -> dict:
    """``model add clip-vitl14``: enable_clip('vitl14', ...)."""
    return enable_clip("vitl14", **kwargs)


def enable_clip_vitl14_336(**kwargs) -> dict:
    """``model add clip-vitl14-336``: enable_clip('vitl14-336', ...)."""
    return enable_clip("vitl14-336", **kwargs)
