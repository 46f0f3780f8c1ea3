"""Download the Inception Score head weights (stdlib urllib only), only when asked.

* Proxies: the standard ``http_proxy`` / ``https_proxy`` / ``no_proxy`` environment
  variables (urllib's ProxyHandler).
* A socket timeout: a silent server is an error, not a hang.
* The bytes go to ``<name>.part`` next to the destination; an interrupted transfer keeps
  it and the next attempt resumes with an HTTP Range request (a server that answers with
  the whole file instead restarts it cleanly). The file is moved to its final name only
  after its SHA-256 prefix checked out; a cancelled, wrong or HTML download is deleted.
* Each failure is one ModelBuildError line a user can act on (offline, HTTP error, a web
  page instead of the file, wrong hash, interrupted).
"""
from __future__ import annotations

import http.client
import os
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from .errors import DownloadCancelled, DownloadError, HashMismatchError
from .is_head import OFFICIAL_SHA256_PREFIX
from .wheel_source import sha256_file as _sha256

# pytorch-fid's own URL (FID_WEIGHTS_URL in pytorch_fid/inception.py).
PYTORCH_FID_URL = ("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                   "pt_inception-2015-12-05-6726825d.pth")
CHUNK = 1 << 16
TIMEOUT_S = 30.0

Progress = Callable[[int, int | None], None]   # (bytes done, total bytes or None)


@dataclass(frozen=True)
class HeadSource:
    url: str
    file_name: str
    sha256_prefix: str
    approx_mb: int


OFFICIAL = HeadSource(PYTORCH_FID_URL, "pt_inception-2015-12-05-6726825d.pth",
                      OFFICIAL_SHA256_PREFIX, 91)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _looks_like_html(first: bytes) -> bool:
    head = first[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml"))


def download(source: HeadSource, dest_dir: Path, *, progress: Progress | None = None,
             cancelled: Callable[[], bool] = lambda: False,
             timeout: float = TIMEOUT_S) -> Path:
    """The verified file at ``dest_dir/source.file_name`` (downloaded now unless a
    verified one is there)."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / source.file_name
    if dest.is_file() and _sha256(dest).startswith(source.sha256_prefix):
        return dest
    part = dest_dir / (source.file_name + ".part")
    try:
        _fetch(source.url, part, progress or (lambda d, t: None), cancelled, timeout)
    except DownloadCancelled:
        part.unlink(missing_ok=True)
        raise
    digest = _sha256(part)
    if not digest.startswith(source.sha256_prefix):
        with open(part, "rb") as f:
            html = _looks_like_html(f.read(512))
        part.unlink()
        if html:
            raise DownloadError(f"{source.url} sent a web page instead of the weights file "
                                "(a proxy login or captive portal?); nothing was kept")
        raise HashMismatchError(
            f"the downloaded file has SHA-256 {digest[:16]}…, expected it to start with "
            f"{source.sha256_prefix}: not the genuine weights; it was deleted")
    os.replace(part, dest)
    return dest


def _fetch(url, part: Path, progress: Progress, cancelled, timeout: float) -> None:
    host = urlparse(url).hostname or url
    have = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "fid-studio"}
    if have:
        headers["Range"] = f"bytes={have}-"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler())  # env proxies
    try:
        resp = opener.open(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # our partial file is not a prefix of theirs
            part.unlink()
            return _fetch(url, part, progress, cancelled, timeout)
        raise DownloadError(f"{host} answered HTTP {exc.code} {exc.reason} for {url}") from None
    except (TimeoutError, socket.timeout):
        raise DownloadError(f"no answer from {host} within {timeout:.0f} s; try again later") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        raise DownloadError(
            f"cannot reach {host} ({reason}): offline, or behind a proxy (set HTTPS_PROXY)? "
            "You can also download the file elsewhere and add it from a file") from None
    with resp:
        ctype = resp.headers.get("Content-Type", "")
        if "text/html" in ctype.lower():
            part.unlink(missing_ok=True)
            raise DownloadError(f"{url} sent a web page instead of the weights file ({ctype}) "
                                "(a proxy login or captive portal?); nothing was kept")
        length = resp.headers.get("Content-Length")
        resumed = resp.status == 206 and (resp.headers.get("Content-Range") or "").startswith(
            f"bytes {have}-")
        start = have if resumed else 0
        total = start + int(length) if length and length.isdigit() else None
        done = start
        try:
            with open(part, "ab" if resumed else "wb") as out:
                while True:
                    if cancelled():
                        raise DownloadCancelled("download cancelled; nothing was kept")
                    block = resp.read(CHUNK)
                    if not block:
                        break
                    if done == 0 and _looks_like_html(block):
                        raise DownloadError(f"{url} sent a web page instead of the weights "
                                            "file (a proxy login or captive portal?)")
                    out.write(block)
                    done += len(block)
                    progress(done, total)
        except (http.client.IncompleteRead, ConnectionError, TimeoutError, socket.timeout) as exc:
            raise DownloadError(
                f"download interrupted after {_mb(done)}"
                f"{f' of {_mb(total)}' if total else ''} ({type(exc).__name__}); "
                "run it again to resume") from None
        except DownloadError:
            if done == 0:
                part.unlink(missing_ok=True)
            raise
    if total is not None and done < total:
        raise DownloadError(f"download interrupted after {_mb(done)} of {_mb(total)}; "
                            "run it again to resume")


