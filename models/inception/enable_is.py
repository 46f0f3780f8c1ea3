"""One call behind `model add-is-head` and the app's "Enable Inception Score…": obtain the
head file (download or a given path), verify it, add it to the model.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..common import download as downloader
from ..errors import ModelBuildError, check_weights_file
from ..paths import download_dir, find_model
from . import is_head


def enable_is(model_path: Path | None = None, *, weights: Path | None = None,
              source: downloader.RemoteFile | None = None,
              progress: downloader.Progress | None = None,
              cancelled: Callable[[], bool] = lambda: False,
              say: Callable[[str], None] | None = None) -> dict:
    """Add the verified IS head to the model (found by find_model() when not given).

    weights: a local head file; None downloads ``source`` (default: pytorch-fid's official
    file, is_head.OFFICIAL_HEAD). Returns the model's updated provenance, with
    ``model_path`` added. A downloaded file is deleted afterwards (its contents now live in
    the model).
    """
    say = say or (lambda msg: None)
    source = source or is_head.OFFICIAL_HEAD
    model_path = Path(model_path) if model_path is not None else find_model()
    if model_path is None or not Path(model_path).is_file():
        raise ModelBuildError("no model built yet: run `python main.py model build` first")
    downloaded = weights is None
    if downloaded:
        say(f"Downloading {source.url} (about {source.approx_mb} MB)")
        weights = downloader.download(source, download_dir(), progress=progress,
                                      cancelled=cancelled)
        origin = source.url
    else:
        weights = Path(weights)
        check_weights_file(weights)
        origin = f"file {weights.resolve()}"
    try:
        say(f"Checking {weights.name} against the model's genuine weights")
        target = is_head.writable_target(model_path)
        prov = is_head.add_is_head(model_path, weights, source=origin, out_path=target,
                                   expected_prefix=source.sha256)
    finally:
        if downloaded:
            Path(weights).unlink(missing_ok=True)
    say(f"Inception Score enabled: {target}")
    return dict(prov, model_path=str(target))
