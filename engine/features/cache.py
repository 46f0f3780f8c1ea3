"""Feature cache in the user's cache folder.

An entry is keyed by the source's file list with sizes and mtimes, the model's SHA-256 and
the preset. It is a folder written under a temporary name and renamed into place when
complete (atomic); a damaged entry (bad metadata, stats hash mismatch, wrong feature file
size) is detected on load, removed and rebuilt.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..metrics.fid import GaussianStats
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
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


def new_workdir(root: Path | None = None) -> Path:
    root = root or cache_root()
    d = root / "tmp" / uuid.uuid4().hex
    d.mkdir(parents=True)
    return d


def commit(workdir: Path, *, n, dim, logits_dim, files, skipped, notes, stats: GaussianStats | None,
           moments=None) -> None:
    """Finish an entry inside ``workdir``: stats and metadata, metadata written last."""
    if stats is not None:
        extra = {} if moments is None else {"sum": moments[1], "sum_outer": moments[2]}
        np.savez(workdir / "stats.npz", mu=stats.mu, sigma=stats.sigma, n=np.int64(stats.n), **extra)
    meta = {"format": FORMAT, "n": n, "dim": dim, "logits_dim": logits_dim, "files": files,
            "skipped": [list(s) for s in skipped], "notes": [list(s) for s in notes],
            "stats_sha256": _sha(workdir / "stats.npz") if stats is not None else None}
    (workdir / "meta.json").write_text(json.dumps(meta))


def publish(workdir: Path, key: str, root: Path | None = None) -> Path:
    final = (root or cache_root()) / "features" / key
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(workdir, final) if not final.exists() else shutil.rmtree(workdir)
    except OSError:
        shutil.rmtree(workdir, ignore_errors=True)
    return final


def load_folder(folder: Path) -> CachedFeatures:
    """Open a finished entry; raises ValueError when anything does not add up."""
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError("old cache format")
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
    stats = moments = None
    if meta.get("stats_sha256"):
        if _sha(folder / "stats.npz") != meta["stats_sha256"]:
            raise ValueError("stats hash mismatch")
        with np.load(folder / "stats.npz", allow_pickle=False) as z:
            stats = GaussianStats(z["mu"], z["sigma"], int(z["n"]))
            if "sum" in z.files and "sum_outer" in z.files:
                moments = (int(z["n"]), z["sum"], z["sum_outer"])
    return CachedFeatures(folder, n, list(meta["files"]), [tuple(s) for s in meta["skipped"]],
                          [tuple(s) for s in meta["notes"]], stats, open_rows(feats_path, n, dim), logits,
                          moments)


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
