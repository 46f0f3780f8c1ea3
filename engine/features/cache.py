"""Feature cache in the user's cache folder.

An entry is keyed by the source's file list with sizes and mtimes, the SHA-256 of the model's
body (the network up to pool3: adding the Inception Score head does not change it) and the
preset; logits are stored with the SHA-256 of the head they came from. It is a folder written under a temporary name and renamed into place when
complete (atomic); a damaged entry (bad metadata, wrong file size, or a file whose SHA-256
no longer matches the one recorded at commit) is detected on load, removed and rebuilt.

Every file of an entry (features, logits, stats, any array added later) gets a record
{size, mtime_ns, sha256} in ``meta.json``. Loading re-hashes a file when it is small (cheap)
or when its size or mtime differ from the record; an untouched large file is trusted.

Work folders are named ``<pid>-<random>``; a folder whose process is gone (killed mid-run)
is removed the next time a work folder is made. When the cache folder cannot be written
(read-only, not a folder, no permission), the work folder goes to the system's temporary
folder instead and nothing is cached for that run.

sFID's moments (``mu_s``, ``sigma_s``, ``n_s`` in stats.npz) are kept when the run asked for
them; an entry without them (older, or made without sFID) is recomputed when a run needs
them (``has_spatial``).
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..metrics.fid import GaussianStats
from ..npz import write_npz
from .stats import open_rows

FORMAT = 2


def cache_root() -> Path:
    env = os.environ.get("FID_STUDIO_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_cache_dir("fid-studio"))


def cache_key(source, model_sha256: str, preset: str) -> str:
    payload = {"format": FORMAT, "kind": source.kind, "path": str(Path(source.path).resolve()),
               "files": source.signature(), "model": model_sha256, "preset": preset}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:40]


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


# Files up to this size are re-hashed at every load (~20 ms); larger ones when their size or
# mtime differ from the record made at commit.
ALWAYS_VERIFY_BYTES = 64 * 1024 * 1024
# Errors that mean "this folder cannot take our files", as opposed to a bug.
UNWRITABLE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                     errno.EDQUOT, errno.EFBIG, errno.EEXIST, errno.ENOENT}


@dataclass
class CachedFeatures:
    folder: Path
    n: int
    files: list
    skipped: list          # [(name, reason)]
    notes: list            # [(name, note)]
    stats: GaussianStats | None
    features: np.ndarray   # memory-mapped (n, 2048)
    logits: np.ndarray | None
    moments: tuple | None = None   # raw float64 (n, Σx, Σxxᵀ) when the entry stored them
    logits_head: str | None = None   # SHA-256 of the head file the logits came from
    spatial_stats: GaussianStats | None = None   # sFID's (2023-dim) moments, when stored

    @property
    def has_spatial(self) -> bool:
        return self.spatial_stats is not None


def is_unwritable(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in UNWRITABLE_ERRNOS


def temp_work_root() -> Path:
    """Where work folders go when the cache cannot be used (``--no-cache``, unwritable cache)."""
    return Path(tempfile.gettempdir()) / "fid-studio-work"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True     # exists but belongs to someone else (or an odd value): leave it
    return True


STALE_UNNAMED_S = 24 * 3600    # work folders from before pid-named ones: removed after a day


def clean_stale_workdirs(tmp_root: Path) -> list:
    """Remove work folders left by processes that no longer run; returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(tmp_root))
    except OSError:
        return removed
    for e in entries:
        pid_part = e.name.split("-", 1)[0]
        if pid_part.isdigit() and "-" in e.name:
            stale = int(pid_part) != os.getpid() and not _pid_alive(int(pid_part))
        else:
            try:
                stale = time.time() - e.stat(follow_symlinks=False).st_mtime > STALE_UNNAMED_S
            except OSError:
                stale = False
        if stale:
            shutil.rmtree(e.path, ignore_errors=True)
            removed.append(e.path)
    return removed


def _make_workdir(tmp_root: Path) -> Path:
    tmp_root.mkdir(parents=True, exist_ok=True)
    clean_stale_workdirs(tmp_root)
    d = tmp_root / f"{os.getpid()}-{uuid.uuid4().hex}"
    d.mkdir()
    # prove the folder takes a file (a read-only mount can still list and stat)
    probe = d / ".probe"
    probe.write_bytes(b"0")
    probe.unlink()
    return d


def temp_workdir() -> Path:
    return _make_workdir(temp_work_root())


def new_workdir(root: Path | None = None) -> Path:
    """A fresh work folder under the cache root; raises OSError when it cannot be written."""
    root = root or cache_root()
    try:
        return _make_workdir(root / "tmp")
    except OSError as exc:
        if not is_unwritable(exc):
            raise
        raise OSError(exc.errno, f"the feature cache folder {root} cannot be written "
                                 f"({exc.strerror or exc})") from None


def _file_record(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _sha(path)}


def verify_files(folder: Path, records: dict) -> None:
    """Raise ValueError naming the first file that is missing or differs from its record."""
    for name, rec in records.items():
        path = folder / name
        st = path.stat()
        if st.st_size != rec["size"]:
            raise ValueError(f"{name} size does not match")
        changed = st.st_mtime_ns != rec["mtime_ns"]
        if (changed or st.st_size <= ALWAYS_VERIFY_BYTES) and _sha(path) != rec["sha256"]:
            raise ValueError(f"{name} content does not match its hash")


def commit(workdir: Path, *, n, dim, logits_dim, files, skipped, notes, stats: GaussianStats | None,
           moments=None, logits_head: str | None = None,
           spatial_stats: GaussianStats | None = None) -> None:
    """Finish an entry inside ``workdir``: stats and metadata, metadata written last."""
    if stats is not None:
        extra = {} if moments is None else {"sum": moments[1], "sum_outer": moments[2]}
        if spatial_stats is not None:
            extra.update(mu_s=spatial_stats.mu, sigma_s=spatial_stats.sigma, n_s=np.int64(spatial_stats.n))
        write_npz(workdir / "stats.npz", {"mu": stats.mu, "sigma": stats.sigma, "n": np.int64(stats.n), **extra})
    # every file of the entry gets an integrity record, arrays added later included
    records = {p.name: _file_record(p) for p in sorted(workdir.iterdir())
               if p.is_file() and p.name != "meta.json"}
    meta = {"format": FORMAT, "n": n, "dim": dim, "logits_dim": logits_dim, "logits_head": logits_head,
            "files": files, "spatial": spatial_stats is not None,
            "skipped": [list(s) for s in skipped], "notes": [list(s) for s in notes],
            "stats_sha256": records["stats.npz"]["sha256"] if stats is not None else None,
            "file_records": records}
    (workdir / "meta.json").write_text(json.dumps(meta))


def publish(workdir: Path, key: str, root: Path | None = None) -> Path:
    """Move a committed work folder into place; raises OSError when that fails (the work
    folder is then left as it is, for the caller to use and remove)."""
    final = (root or cache_root()) / "features" / key
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():   # an entry without the logits now wanted (or another run's): replaced
        old = final.with_name(final.name + f".old-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(workdir, final)
    return final


def load_folder(folder: Path) -> CachedFeatures:
    """Open a finished entry; raises ValueError when anything does not add up."""
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError("old cache format")
    if not isinstance(meta.get("file_records"), dict):
        raise ValueError("no integrity records (written by an older version)")
    verify_files(folder, meta["file_records"])
    n, dim, ldim = int(meta["n"]), int(meta["dim"]), meta.get("logits_dim")
    feats_path = folder / "features.f32"
    if feats_path.stat().st_size != n * dim * 4:
        raise ValueError("feature file size does not match")
    logits = None
    if ldim:
        lp = folder / "logits.f32"
        if lp.stat().st_size != n * int(ldim) * 4:
            raise ValueError("logits file size does not match")
        logits = open_rows(lp, n, int(ldim))
    stats = moments = spatial = None
    if meta.get("stats_sha256"):      # its hash was checked with the other files above
        with np.load(folder / "stats.npz", allow_pickle=False) as z:
            stats = GaussianStats(z["mu"], z["sigma"], int(z["n"]))
            if "sum" in z.files and "sum_outer" in z.files:
                moments = (int(z["n"]), z["sum"], z["sum_outer"])
            if meta.get("spatial"):
                spatial = GaussianStats(z["mu_s"], z["sigma_s"], int(z["n_s"]))
    return CachedFeatures(folder, n, list(meta["files"]), [tuple(s) for s in meta["skipped"]],
                          [tuple(s) for s in meta["notes"]], stats, open_rows(feats_path, n, dim), logits,
                          moments=moments,
                          logits_head=meta.get("logits_head") if logits is not None else None,
                          spatial_stats=spatial)


def lookup(key: str, root: Path | None = None) -> tuple[CachedFeatures | None, str | None]:
    """(entry, None) on a hit; (None, note) when an entry existed but was damaged and removed."""
    folder = (root or cache_root()) / "features" / key
    if not folder.exists():
        return None, None
    try:
        return load_folder(folder), None
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return None, f"feature cache entry was damaged ({exc}); recomputed"


def discard(key: str, root: Path | None = None) -> None:
    """Remove an entry (e.g. one that lacks what this run needs) so that a fresh one replaces it."""
    shutil.rmtree((root or cache_root()) / "features" / key, ignore_errors=True)
