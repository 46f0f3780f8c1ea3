"""Discovering what a source holds: a folder, a zip archive, or a stats .npz.

Images are listed as sorted relative paths (POSIX separators), any-case extensions,
recursively. Files with other extensions are counted and named in a warning, not decoded.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"})
# A zip member larger than this when uncompressed is refused unread (zip bombs, broken headers).
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_COMPRESSION_RATIO = 1000


def display_name(name: str) -> str:
    """A printable, UTF-8-safe form of a file name (undecodable bytes shown as \\xNN)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass
class Source:
    path: Path
    kind: str                      # "folder" | "zip" | "stats"
    files: list = field(default_factory=list)       # relative names of candidate images
    ignored: list = field(default_factory=list)     # non-image entries
    refused: list = field(default_factory=list)     # (name, reason) refused before decoding
    stats: dict | None = None      # for kind == "stats": {"mu", "sigma"}

    @property
    def label(self) -> str:
        return display_name(str(self.path))

    def signature(self) -> list:
        """(name, size, mtime_ns) per image: the feature-cache key's content part."""
        if self.kind == "folder":
            out = []
            for name in self.files:
                try:
                    st = os.stat(self.path / name)
                    out.append((display_name(name), st.st_size, st.st_mtime_ns))
                except OSError:
                    out.append((display_name(name), -1, -1))
            return out
        if self.kind == "zip":
            st = os.stat(self.path)
            return [("__zip__", st.st_size, st.st_mtime_ns)] + [(display_name(n), 0, 0) for n in self.files]
        return []

    def warnings(self) -> list:
        if not self.ignored:
            return []
        shown = ", ".join(display_name(n) for n in self.ignored[:3])
        more = f" and {len(self.ignored) - 3} more" if len(self.ignored) > 3 else ""
        return [f"{len(self.ignored)} non-image file(s) ignored: {shown}{more}"]


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def scan_folder(path: Path) -> Source:
    src = Source(path=path, kind="folder")
    names = []
    for root, dirs, files in os.walk(path, onerror=None, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel_root = os.path.relpath(root, path)
        for f in files:
            if f.startswith("."):
                continue
            rel = f if rel_root == "." else os.path.join(rel_root, f)
            names.append(rel.replace(os.sep, "/"))
    for name in sorted(names):
        (src.files if _is_image(name) else src.ignored).append(name)
    return src


def scan_zip(path: Path) -> Source:
    src = Source(path=path, kind="zip")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: i.filename)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"cannot read zip archive {path}: {exc}") from None
    for info in infos:
        name = info.filename
        if name.startswith("__MACOSX/") or os.path.basename(name).startswith("."):
            continue
        if not _is_image(name):
            src.ignored.append(name)
        elif info.file_size > MAX_MEMBER_BYTES or (
                info.compress_size > 0 and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO):
            src.refused.append((name, f"archive member refused: uncompressed size {info.file_size} bytes "
                                      f"is implausible (limit {MAX_MEMBER_BYTES}, ratio {MAX_COMPRESSION_RATIO})"))
        else:
            src.files.append(name)
    return src


def load_stats(path: Path) -> Source:
    try:
        with np.load(path, allow_pickle=False) as data:
            mu = np.asarray(data["mu"], dtype=np.float64)
            sigma = np.asarray(data["sigma"], dtype=np.float64)
            n = int(data["n"]) if "n" in data.files else None
    except KeyError:
        raise InputError(f"{path} is not a stats file: it needs arrays 'mu' and 'sigma'") from None
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot read stats file {path}: {exc}") from None
    if mu.ndim != 1 or sigma.shape != (mu.size, mu.size):
        raise InputError(f"stats file {path}: mu {mu.shape} and sigma {sigma.shape} do not fit together")
    return Source(path=path, kind="stats", stats={"mu": mu, "sigma": sigma, "n": n})


def open_source(path) -> Source:
    """Scan a folder / zip / .npz; raises InputError with a plain message when unusable."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"source not found: {display_name(str(path))}")
    if path.is_dir():
        src = scan_folder(path)
    elif path.suffix.lower() == ".zip":
        src = scan_zip(path)
    elif path.suffix.lower() == ".npz":
        return load_stats(path)
    else:
        raise InputError(f"{display_name(str(path))} is neither a folder, a .zip archive nor a stats .npz")
    if not src.files and not src.refused:
        raise InputError(f"no images found in {src.label} (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})")
    return src
