"""Download one file (stdlib urllib only), only when asked, and move it into place only once
it checked out.

* What to fetch is a ``RemoteFile``: URL, file name, the expected SHA-256 (a full digest,
  or its leading digits where only those are published; None where none is published), a
  size for the user, and the exact size when known.
* A file without a published hash is judged by its contents: ``download(...,
  verify=callable)`` runs the callable on the complete ``.part`` file (it raises a
  ModelBuildError to refuse it); a file with a hash may be given one too, run after the hash.
* Proxies: the standard ``http_proxy`` / ``https_proxy`` / ``no_proxy`` environment
  variables (urllib's ProxyHandler).
* A socket timeout: a silent server is an error, not a hang.
* The bytes go to ``<name>.part`` next to the destination; an interrupted transfer keeps
  it and the next attempt resumes with an HTTP Range request (a server that answers with
  the whole file instead restarts it cleanly). The file is moved to its final name only
  after its size, SHA-256 and ``verify`` checked out; a cancelled, wrong or HTML download is
  deleted (a good file already in place is never touched by a failed attempt).
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

from ..errors import DownloadCancelled, DownloadError, HashMismatchError, ModelBuildError
from .files import sha256_file as _sha256

CHUNK = 1 << 16
TIMEOUT_S = 30.0

Progress = Callable[[int, int | None], None]   # (bytes done, total bytes or None)


@dataclass(frozen=True)
class RemoteFile:
    """A file to download and what it must be."""

    url: str
    file_name: str          # its name in the destination folder
    sha256: str | None      # full hex digest, or its first digits (torch.hub names carry 8);
                            # None: none is published, download() then needs verify=
    approx_mb: int          # said to the user before the download starts
    size_bytes: int | None = None   # exact size, when known: checked before the hash
    what: str = "weights file"      # how messages name the file (a statistics file...)

    def __post_init__(self):
        if self.sha256 is None:
            return
        digits = self.sha256.lower()
        if len(digits) < 8 or len(digits) > 64 or any(c not in "0123456789abcdef" for c in digits):
            raise ValueError(f"sha256 must be 8 to 64 hex digits, got {self.sha256!r}")
        object.__setattr__(self, "sha256", digits)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _looks_like_html(first: bytes) -> bool:
    head = first[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml"))


Verify = Callable[[Path], None]   # raises a ModelBuildError for a file it refuses


def _matches(path: Path, source: RemoteFile, verify: Verify | None) -> bool:
    if source.size_bytes is not None and path.stat().st_size != source.size_bytes:
        return False
    if source.sha256 is not None and not _sha256(path).startswith(source.sha256):
        return False
    if verify is not None:
        try:
            verify(path)
        except ModelBuildError:
            return False
    return True


def download(source: RemoteFile, dest_dir: Path, *, progress: Progress | None = None,
             cancelled: Callable[[], bool] = lambda: False,
             timeout: float = TIMEOUT_S, verify: Verify | None = None) -> Path:
    """The verified file at ``dest_dir/source.file_name`` (downloaded now unless a
    verified one is there).

    verify: called with the path of the complete download (``<name>.part``) before it is
    moved into place; it raises a ModelBuildError to refuse the file, which is then deleted
    and the error raised again (one line, saying so). Required when ``source.sha256`` is None.
    """
    if source.sha256 is None and verify is None:
        raise ValueError(f"{source.file_name} has no published SHA-256: download() needs verify=")
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / source.file_name
    if dest.is_file() and _matches(dest, source, verify):
        return dest
    part = dest_dir / (source.file_name + ".part")
    size = source.size_bytes
    if size is not None and part.is_file() and part.stat().st_size > size:
        part.unlink()  # longer than the file: not a beginning of it
    try:
        _fetch(source.url, part, progress or (lambda d, t: None), cancelled, timeout, size, source.what)
    except DownloadCancelled:
        part.unlink(missing_ok=True)
        raise
    got = part.stat().st_size
    digest = _sha256(part) if source.sha256 is not None else None
    if (size is None or got == size) and (digest is None or digest.startswith(source.sha256)):
        if verify is not None:
            _verify_part(part, source, verify)
        os.replace(part, dest)
        return dest
    # the transfer ended as the server meant it to (a cut-off one raised above): wrong file
    _refuse_html(part, source)
    part.unlink()
    if size is not None and got != size:
        raise HashMismatchError(f"the downloaded file has {got:,} bytes, expected {size:,}: "
                                f"not the genuine {source.what}; it was deleted")
    want = (f"it to start with {source.sha256}" if len(source.sha256) < 64
            else f"{source.sha256[:16]}…")
    raise HashMismatchError(
        f"the downloaded file has SHA-256 {digest[:16]}…, expected {want}: "
        f"not the genuine {source.what}; it was deleted")


def _refuse_html(part: Path, source: RemoteFile) -> None:
    """A complete download that is a web page (a captive portal's, sent as a binary type) is
    said to be one, and deleted."""
    with open(part, "rb") as f:
        html = _looks_like_html(f.read(512))
    if html:
        part.unlink()
        raise DownloadError(f"{source.url} sent a web page instead of the {source.what} "
                            "(a proxy login or captive portal?); nothing was kept")


def _verify_part(part: Path, source: RemoteFile, verify: Verify) -> None:
    """Run verify on the complete .part; a refused file is deleted and the refusal raised
    again as one line that says so. (Anything else verify raises leaves the .part as an
    interrupted transfer would.)"""
    try:
        verify(part)
    except ModelBuildError as exc:
        _refuse_html(part, source)
        part.unlink(missing_ok=True)
        text = " ".join(str(exc).split()).rstrip(".")
        raise type(exc)(f"{text} (the downloaded file was deleted)") from None


def _fetch(url, part: Path, progress: Progress, cancelled, timeout: float,
           size: int | None = None, what: str = "weights file") -> None:
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
            return _fetch(url, part, progress, cancelled, timeout, size, what)
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
            raise DownloadError(f"{url} sent a web page instead of the {what} ({ctype}) "
                                "(a proxy login or captive portal?); nothing was kept")
        length = resp.headers.get("Content-Length")
        resumed = resp.status == 206 and (resp.headers.get("Content-Range") or "").startswith(
            f"bytes {have}-")
        start = have if resumed else 0
        total = start + int(length) if length and length.isdigit() else size
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
                        raise DownloadError(f"{url} sent a web page instead of the {what} "
                                            "(a proxy login or captive portal?)")
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


