"""The cache of catalogue files: downloaded (or imported) once, validated, kept with provenance.

Layout: ``<cache dir>/references/<entry name, '/' as '__'>/`` holds the file as published, its
``provenance.json`` (entry, URL it came from, SHA-256, size, time, where from) and, for EDM2's
pickle, ``fid.npz`` — its FID statistics as a stats file (what `compute` reads). Contents are
validated once, before the file enters the cache; every later use checks its size and SHA-256
against that record (the same bytes), and a damaged entry (missing or changed file, unreadable
provenance) is moved aside (``<folder>.damaged-<time>``) and
fetched again.

No tool publishes digests, so the first file's SHA-256 is pinned in the user's data folder
(``references/pins.json``, kept when the cache is cleared); a later download or import of
another file is refused with both digests named.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_path, write_text
from ..errors import FidStudioError, InputError
from ..features.cache import cache_root
from ..npz import write_npz
from . import mirror as mirror_mod
from . import validate
from .catalogue import EDM2_PICKLE, RefEntry

PROVENANCE = "provenance.json"
DERIVED = "fid.npz"


class RefsCancelled(FidStudioError):
    """The user cancelled a reference download; nothing was kept."""


def refs_root() -> Path:
    return cache_root() / "references"


def entry_folder(entry: RefEntry) -> Path:
    return refs_root() / entry.name.replace("/", "__")


def pins_path() -> Path:
    from models.paths import user_data_dir
    return user_data_dir() / "references" / "pins.json"


def _utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _sha256(path: Path) -> str:
    from models.common.files import sha256_file
    return sha256_file(path)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        raise _Damaged(f"{path.name} was unreadable ({exc}); moved aside to {aside.name}") from None
    return data if isinstance(data, dict) else {}


class _Damaged(Exception):
    pass


def pinned(entry: RefEntry) -> str | None:
    """The SHA-256 this entry's file must have: published, else the first one recorded."""
    if entry.sha256:
        return entry.sha256
    try:
        pin = _read_json(pins_path()).get(entry.name)
    except _Damaged:
        return None
    return pin.get("sha256") if isinstance(pin, dict) else None


def _pin(entry: RefEntry, sha: str, size: int, origin: str) -> None:
    if entry.sha256:
        return
    try:
        pins = _read_json(pins_path())
    except _Damaged:
        pins = {}
    if entry.name in pins:
        return
    pins[entry.name] = {"sha256": sha, "size": size, "from": origin, "time": _utc()}
    write_text(pins_path(), json.dumps(pins, indent=1, sort_keys=True) + "\n")


@dataclass
class CachedRef:
    entry: RefEntry
    folder: Path
    provenance: dict

    @property
    def file(self) -> Path:
        return self.folder / self.entry.file_name

    @property
    def usable(self) -> Path:
        """The file a `compute` run reads: the file itself, or EDM2's FID statistics."""
        return self.folder / DERIVED if self.entry.kind == EDM2_PICKLE else self.file


def _changed(entry: RefEntry, sha: str, want: str) -> str:
    source = "the published" if entry.sha256 else "the first file's (recorded"
    tail = "" if entry.sha256 else f" in {pins_path()})"
    return (f"{entry.name}: the file has SHA-256 {sha}, but {source} SHA-256 is {want}{tail}: "
            "the file changed, refused")


def _check_folder(entry: RefEntry, folder: Path) -> CachedRef:
    prov = _read_json(folder / PROVENANCE)
    ref = CachedRef(entry, folder, prov)
    if not prov:
        raise _Damaged("no provenance record")
    if not ref.file.is_file():
        raise _Damaged(f"{entry.file_name} is missing")
    size = ref.file.stat().st_size
    if size != prov.get("size"):
        raise _Damaged(f"{entry.file_name} has {size:,} bytes, {prov.get('size')} recorded")
    sha = _sha256(ref.file)
    if sha != prov.get("sha256"):
        raise _Damaged(f"{entry.file_name} has SHA-256 {sha}, {prov.get('sha256')} recorded")
    want = pinned(entry)
    if want and sha != want:
        raise _Damaged(_changed(entry, sha, want))
    if entry.kind == EDM2_PICKLE:
        derived = ref.usable
        if not derived.is_file() or _sha256(derived) != prov.get("derived_sha256"):
            raise _Damaged(f"{DERIVED} is missing or changed")
    # the file is byte for byte the one validated when it was cached: not validated again
    return ref


def _set_aside(folder: Path) -> Path:
    stem = f"{folder.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    for n in range(1000):      # two set-asides within one second get distinct names
        aside = folder.with_name(stem if n == 0 else f"{stem}-{n}")
        if not aside.exists():
            os.replace(folder, aside)
            return aside
    raise InputError(f"cannot set aside the damaged cache entry {folder}: too many copies")


def cached(entry: RefEntry, say=lambda text: None) -> CachedRef | None:
    """The entry's checked cache entry; None when there is none (a damaged one is moved aside)."""
    folder = entry_folder(entry)
    if not (folder / PROVENANCE).exists() and not (folder / entry.file_name).exists():
        return None
    try:
        return _check_folder(entry, folder)
    except _Damaged as exc:
        aside = _set_aside(folder)
        say(f"{entry.name}: the cached copy was damaged ({exc}); moved aside to {aside.name}")
        return None


def _finish(entry: RefEntry, folder: Path, origin: dict, summary: dict) -> CachedRef:
    """The validated file now in ``folder`` (``summary``: what validation found), checked
    against the pin; EDM2's FID statistics derived; the provenance recorded."""
    path = folder / entry.file_name
    sha, size = _sha256(path), path.stat().st_size
    want = pinned(entry)
    if want and sha != want:
        path.unlink()
        raise InputError(_changed(entry, sha, want))
    prov = {"name": entry.name, "tool": entry.tool, "url": entry.url, "sha256": sha, "size": size,
            "time": _utc(), "summary": summary, **origin}
    if entry.kind == EDM2_PICKLE:
        from . import safe_pickle
        with atomic_path(folder / DERIVED) as tmp:
            with open(tmp, "wb") as fh:
                write_npz(fh, validate.edm2_fid_arrays(safe_pickle.load(path, entry.name)))
        prov["derived_sha256"] = _sha256(folder / DERIVED)
    write_text(folder / PROVENANCE, json.dumps(prov, indent=1) + "\n")
    _pin(entry, sha, size, origin.get("source_url") or origin.get("imported_from", ""))
    return CachedRef(entry, folder, prov)


def obtain(entry: RefEntry, *, progress=None, cancelled=lambda: False, mirror: str | None = None,
           say=lambda text: None) -> CachedRef:
    """The entry's file, from the cache or downloaded now (from the mirror when one is set),
    validated; each failure one InputError naming the entry (and the URL)."""
    ref = cached(entry, say)
    if ref is not None:
        return ref
    from models.common import download as dl
    from models.errors import DownloadCancelled, ModelBuildError
    url = mirror_mod.source_url(entry.url, mirror)
    folder = entry_folder(entry)
    folder.mkdir(parents=True, exist_ok=True)

    found = {}

    def verify(part):
        try:
            found.update(validate.check(part, entry.kind, entry.name))
        except InputError as exc:
            raise ModelBuildError(f"not a valid file of its kind: {exc}") from None

    remote = dl.RemoteFile(url, entry.file_name, entry.sha256, approx_mb=0, what=f"statistics file {entry.file_name}")
    say(f"{entry.name}: downloading {url}")
    try:
        dl.download(remote, folder, progress=progress, cancelled=cancelled, verify=verify)
    except DownloadCancelled:
        raise RefsCancelled(f"{entry.name}: download cancelled; nothing was kept") from None
    except ModelBuildError as exc:
        raise InputError(f"{entry.name} ({url}): {exc}") from None
    return _finish(entry, folder, {"source": "download", "source_url": url}, found)


def import_file(entry: RefEntry, path) -> CachedRef:
    """A file the user already has, checked like a download and put in the cache."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"refs import {entry.name}: no such file {path}")
    summary = validate.check(path, entry.kind, f"{path} (for {entry.name})")
    folder = entry_folder(entry)
    if folder.exists():
        _set_aside(folder)
    folder.mkdir(parents=True)
    with atomic_path(folder / entry.file_name) as tmp:
        shutil.copyfile(path, tmp)
    return _finish(entry, folder, {"source": "import", "imported_from": str(path.resolve())}, summary)
