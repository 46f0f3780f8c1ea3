"""Discovering what a source holds: a folder, a zip archive, an image array (.npz / .npy,
see arrays.py) or a stats .npz.

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
from ..features.stats_check import check_count, check_gaussian
from . import arrays

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
    kind: str                      # "folder" | "zip" | "array" | "stats"
    files: list = field(default_factory=list)       # relative names of candidate images
    ignored: list = field(default_factory=list)     # non-image entries
    refused: list = field(default_factory=list)     # (name, reason) refused before decoding
    # kind "stats": {"mu", "sigma", "n"[, "mu_s", "sigma_s"]}; kind "array": the statistics
    # an ADM reference batch carries next to its images (None when it has none)
    stats: dict | None = None
    array: arrays.ArrayInfo | None = None   # kind "array"
    members: dict = field(default_factory=dict)     # zip: listed name -> index in infolist()
    duplicates: list = field(default_factory=list)  # zip: member names stored more than once

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
        if self.kind == "array":
            st = os.stat(self.path)
            a = self.array
            return [("__array__", st.st_size, st.st_mtime_ns), (a.member, list(a.shape), len(self.files))]
        return []

    def warnings(self) -> list:
        out = []
        if self.ignored:
            shown = ", ".join(display_name(n) for n in self.ignored[:3])
            more = f" and {len(self.ignored) - 3} more" if len(self.ignored) > 3 else ""
            out.append(f"{len(self.ignored)} non-image file(s) ignored: {shown}{more}")
        if self.duplicates:
            shown = ", ".join(display_name(n) for n in self.duplicates[:3])
            more = f" and {len(self.duplicates) - 3} more" if len(self.duplicates) > 3 else ""
            out.append(f"{len(self.duplicates)} name(s) stored more than once in the archive: {shown}{more}; "
                       f"each copy is scored as its own entry ('{DUPLICATE_MARK}2', ...)")
        return out


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _unlisted_reason(exc: OSError) -> str:
    import errno
    why = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
           errno.ENAMETOOLONG: "its path is longer than the system allows"}.get(
        exc.errno, exc.strerror or str(exc))
    return f"folder cannot be read ({why}): the images in it are not scored"


def scan_folder(path: Path) -> Source:
    src = Source(path=path, kind="folder")
    names = []

    def unlisted(exc: OSError):
        # a sub-folder os.walk cannot list: one record for it, never a silent gap
        where = exc.filename if isinstance(exc.filename, str) else str(path)
        rel = os.path.relpath(where, path).replace(os.sep, "/")
        src.refused.append(((rel if rel != "." else ".") + "/", _unlisted_reason(exc)))

    for root, dirs, files in os.walk(path, onerror=unlisted, followlinks=False):
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


DUPLICATE_MARK = " #copy"   # "a.png #copy2": the second member stored under the name a.png
ENCRYPTED_REASON = "encrypted (password required)"
UNSAFE_PATH_REASON = "member path leaves the archive ('..' or absolute path): not read"


def _unsafe_member_path(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def scan_zip(path: Path) -> Source:
    src = Source(path=path, kind="zip")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = [(k, i) for k, i in enumerate(zf.infolist()) if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise InputError(f"cannot read zip archive {path}: {exc}") from None
    # stable sort: copies of one name keep their order in the archive
    infos.sort(key=lambda ki: ki[1].filename)
    seen: dict = {}
    for k, info in infos:
        name = info.filename
        copy = seen[name] = seen.get(name, 0) + 1
        if copy == 2:
            src.duplicates.append(name)
        listed = name if copy == 1 else f"{name}{DUPLICATE_MARK}{copy}"
        if _unsafe_member_path(name):
            # never extracted, so harmless here, but a name like ..\\..\\x.png is no image of this set
            src.refused.append((listed, UNSAFE_PATH_REASON))
            continue
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if name.startswith("__MACOSX/") or base.startswith("."):
            continue
        if not _is_image(name):
            src.ignored.append(listed)
        elif info.flag_bits & 0x1:
            src.refused.append((listed, ENCRYPTED_REASON))
        elif info.file_size > MAX_MEMBER_BYTES or (
                info.compress_size > 0 and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO):
            src.refused.append((listed, f"archive member refused: uncompressed size {info.file_size} bytes "
                                        f"is implausible (limit {MAX_MEMBER_BYTES}, ratio {MAX_COMPRESSION_RATIO})"))
        else:
            src.files.append(listed)
            src.members[listed] = k
    return src


STATS_DIM = 2048     # Inception pool3 features: a stats file of another size cannot be compared
SPATIAL_STATS_DIM = 2023   # sFID's spatial features (mixed_6/conv's first 7 channels, 17x17)


def check_stats_dim(src: Source, dim: int = STATS_DIM, spatial_dim: int = SPATIAL_STATS_DIM, *,
                    reference: bool = False) -> None:
    """Refuse, before any work, statistics whose sizes do not match the model's features: a
    stats file's, and (``reference``) an ADM reference batch's beside its images (a generated
    batch's are not used). Every member is checked."""
    if src.stats is None or not (src.kind == "stats" or src.kind == "array" and reference):
        return
    what = "stats file" if src.kind == "stats" else "reference batch"
    for mu, sigma, want, kind in (("mu", "sigma", dim, "Inception pool3"),
                                  ("mu_s", "sigma_s", spatial_dim, "sFID spatial")):
        if mu not in src.stats:
            continue
        m, s = src.stats[mu], src.stats[sigma]
        if m.shape != (want,) or s.shape != (want, want):
            raise InputError(f"{what} {src.label} has {m.size}-d statistics ({mu} {m.shape}, {sigma} "
                             f"{s.shape}); FID Studio's {kind} features are {want}-d (was it made with "
                             "another model?)")


def load_stats(path: Path) -> Source:
    """A pytorch-fid style .npz (mu, sigma[, n]); every way it can be broken is one InputError,
    and the numbers must be a mean and a covariance (features/stats_check.py says which)."""
    label = display_name(str(path))
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise InputError(f"{label} is not a stats file: it holds a single array, not an .npz "
                                 "archive with 'mu' and 'sigma'")
            mu, sigma = np.asarray(data["mu"]), np.asarray(data["sigma"])
            n = np.asarray(data["n"]) if "n" in data.files else None
            spatial = ({"mu_s": np.asarray(data["mu_s"]), "sigma_s": np.asarray(data["sigma_s"])}
                       if "mu_s" in data.files and "sigma_s" in data.files else {})
            n_s = np.asarray(data["n_s"]) if spatial and "n_s" in data.files else None
    except KeyError:
        raise InputError(f"{label} is not a stats file: it needs arrays 'mu' and 'sigma'") from None
    except InputError:
        raise
    except (ValueError, OSError, EOFError, TypeError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        msg = str(exc) or type(exc).__name__
        raise InputError(f"cannot read stats file {label} (truncated or not an .npz?): {msg}") from None
    if n is not None:
        n = check_count(n, label)
    if n_s is not None:
        check_count(n_s, label)
    check_gaussian(mu, sigma, label)
    if spatial:
        check_gaussian(spatial["mu_s"], spatial["sigma_s"], label, names=("mu_s", "sigma_s"))
        spatial = {k: v.astype(np.float64) for k, v in spatial.items()}
    return Source(path=path, kind="stats", stats={"mu": mu.astype(np.float64), "sigma": sigma.astype(np.float64),
                                                  "n": n, **spatial})


def _array_source(path: Path, info: arrays.ArrayInfo, stats=None) -> Source:
    src = Source(path=path, kind="array", array=info, stats=stats)
    whole = arrays.available_images(info)
    src.files = [info.name(i) for i in range(whole)]
    if whole < info.n:
        # one record for the whole shortfall: a header can promise any number of images
        missing = info.n - whole
        src.refused = [(missing_name(info, whole),
                        f"the file ends before these {missing:,} image(s): its header promises "
                        f"{info.n:,}, it holds {whole:,} (truncated copy?)")]
    return src


def missing_name(info: arrays.ArrayInfo, first: int) -> str:
    """``arr_0[8:100]``: the images a truncated array lacks, named as a slice."""
    return f"{info.member}[{first}:{info.n}]"


def open_npz(path: Path) -> Source:
    """An image batch (arr_0 or the only array; ADM statistics beside it are kept) or stats."""
    try:
        members = arrays.npz_members(path)
    except InputError:
        return load_stats(path)       # not a readable archive: the stats reader says why
    if not members:
        return load_stats(path)
    if arrays.IMAGE_MEMBER in members:
        image = arrays.IMAGE_MEMBER
    elif "mu" in members and "sigma" in members:
        return load_stats(path)
    elif len(members) == 1:
        image = next(iter(members))
    else:
        found = ", ".join(sorted(members)) or "no arrays"
        raise InputError(f"{display_name(str(path))} holds {found}: expected images in 'arr_0' "
                         "(or a single array), or statistics 'mu' and 'sigma'")
    has_stats = "mu" in members and "sigma" in members
    try:
        info = arrays.inspect_member(path, members[image])
    except InputError as exc:
        if has_stats:
            raise
        raise InputError(f"{exc}; nor is it a stats file (that needs arrays 'mu' and 'sigma')") from None
    stats = load_stats(path).stats if has_stats else None
    return _array_source(path, info, stats)


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
        return open_npz(path)
    elif path.suffix.lower() == ".npy":
        return _array_source(path, arrays.inspect_npy(path))
    else:
        raise InputError(f"{display_name(str(path))} is neither a folder, a .zip archive, "
                         "an .npz / .npy image array nor a stats .npz")
    if not src.files and not src.refused:
        raise InputError(f"no images found in {src.label} (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})")
    return src
