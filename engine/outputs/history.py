"""Run history: every finished run in an SQLite database in the user's data folder.

One row per run (settings, provenance, the full JSON result), one row per generated source
(metrics, warnings, the FID curve and SSIM values the plots need) and one row per skipped
file, so a stored run can be listed, filtered by reference, reloaded, compared and exported
again. Cancelled runs are never stored. No Qt here; the GUI calls it from its main thread.

The data folder is ``platformdirs.user_data_dir("fid-studio")``, or ``$FID_STUDIO_DATA_DIR``
when set (tests, portable installs).
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .. import APP_ID
from ..run.result import RunResult

DATA_DIR_ENV = "FID_STUDIO_DATA_DIR"
DB_NAME = "history.sqlite3"
SCHEMA_VERSION = 5  # 2: sources.sfid; 3: sources.fd_dinov2; 4: sources.clip_fid, sources.cmmd;
# 5: sources.clip_score, sources.clip_scores_json (per image: file, score, prompt, prompt cut)

_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    reference TEXT NOT NULL,
    preset TEXT NOT NULL,
    device TEXT NOT NULL,
    device_line TEXT NOT NULL,
    model_sha256 TEXT,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    duration_s REAL NOT NULL,
    app_version TEXT NOT NULL,
    options_json TEXT NOT NULL,
    result_json TEXT NOT NULL
);
CREATE INDEX runs_reference ON runs(reference);
CREATE TABLE sources (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    path TEXT NOT NULL,
    n_images INTEGER NOT NULL,
    n_skipped INTEGER NOT NULL,
    fid REAL,
    metrics_json TEXT NOT NULL,
    warnings_json TEXT NOT NULL,
    extras_json TEXT NOT NULL,
    fid_curve_json TEXT NOT NULL,
    ssim_values_json TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
-- version 2 (also added by _migrate to version-1 databases): sFID beside FID
ALTER TABLE sources ADD COLUMN sfid REAL;
-- version 3 (also added by _migrate to older databases): FD_DINOv2
ALTER TABLE sources ADD COLUMN fd_dinov2 REAL;
-- version 4 (also added by _migrate to older databases): CLIP-FID and CMMD
ALTER TABLE sources ADD COLUMN clip_fid REAL;
ALTER TABLE sources ADD COLUMN cmmd REAL;
-- version 5 (also added by _migrate to older databases): CLIPScore and its per-image scores
ALTER TABLE sources ADD COLUMN clip_score REAL;
ALTER TABLE sources ADD COLUMN clip_scores_json TEXT;
CREATE TABLE skipped (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,          -- -1: the reference source
    file TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX skipped_run ON skipped(run_id);
"""


def data_dir() -> Path:
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


def default_path() -> Path:
    return data_dir() / DB_NAME


@dataclass(frozen=True)
class RunSummary:
    """One line of the History list."""
    id: int
    created: str
    reference: str
    preset: str
    device: str
    seed: int
    duration_s: float
    sources: tuple          # generated source paths, in run order
    best_fid: float | None  # lowest FID among the sources (None: FID not computed)
    n_skipped: int
    best_sfid: float | None = None  # lowest sFID among the sources
    best_fd_dinov2: float | None = None  # lowest FD_DINOv2 among the sources
    best_clip_fid: float | None = None   # lowest CLIP-FID among the sources
    best_cmmd: float | None = None       # lowest CMMD among the sources
    best_clip_score: float | None = None  # highest CLIPScore among the sources (higher is better)


def _finite(v):
    """A number for a REAL column; a NaN (no minimum) as NULL."""
    return v if isinstance(v, (int, float)) and v == v else None


def _dumps(value) -> str:
    # allow_nan: an infinite PSNR (identical images) must come back as infinity, not null.
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


class History:
    """The run database. Use as a context manager or call ``close()``."""

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=10.0)
        # WAL: a training script logging scores (engine.outputs.training_log) and the app
        # reading never block each other
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._db.close()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise RuntimeError(f"run history {self.path} was written by a newer FID Studio "
                               f"(schema {version}, this version reads {SCHEMA_VERSION})")
        if version == 0:
            with self._db:
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return
        # one column per version; one a database already has (however it got there) is kept
        have = {row[1] for row in self._db.execute("PRAGMA table_info(sources)")}
        for step, columns in ((2, ("sfid",)), (3, ("fd_dinov2",)), (4, ("clip_fid", "cmmd")),
                              (5, ("clip_score", "clip_scores_json TEXT"))):
            if version < step:
                with self._db:
                    for column in columns:
                        name, _, kind = column.partition(" ")
                        if name not in have:
                            self._db.execute(f"ALTER TABLE sources ADD COLUMN {name} {kind or 'REAL'}")
                    self._db.execute(f"PRAGMA user_version = {step}")
        # Later schema versions add their ALTER TABLE steps here, one per version.

    def add(self, result: RunResult) -> int:
        """Store a finished run; returns its id. A cancelled run is refused."""
        if result.status != "finished":
            raise ValueError(f"only finished runs are stored, not {result.status!r} ones")
        model = result.model or {}
        with self._db:
            cur = self._db.execute(
                "INSERT INTO runs (created, reference, preset, device, device_line, model_sha256, seed, "
                "status, duration_s, app_version, options_json, result_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (result.created, result.reference["path"], result.preset, result.device,
                 result.device_line, model.get("sha256"), result.seed, result.status,
                 float(result.duration_s), result.version, _dumps(result.options),
                 _dumps(result.to_dict())))
            run_id = cur.lastrowid
            for pos, src in enumerate(result.results):
                fid = src.metrics.get("fid")
                self._db.execute(
                    "INSERT INTO sources (run_id, position, path, n_images, n_skipped, fid, metrics_json, "
                    "warnings_json, extras_json, fid_curve_json, ssim_values_json, sfid, fd_dinov2, clip_fid, cmmd, "
                    "clip_score, clip_scores_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_id, pos, src.path, src.n_images, len(src.skipped), fid,
                     _dumps(src.metrics), _dumps(src.warnings), _dumps(src.extras),
                     _dumps([list(p) for p in src.fid_curve]), _dumps(list(src.ssim_values)),
                     src.metrics.get("sfid"), _finite(src.metrics.get("fd_dinov2")),
                     _finite(src.metrics.get("clip_fid")), _finite(src.metrics.get("cmmd")),
                     _finite(src.metrics.get("clip_score")),
                     _dumps([list(c) for c in src.clip_scores]) if src.clip_scores else None))
            rows = [(run_id, -1, s["file"], s["reason"]) for s in result.reference.get("skipped", [])]
            for pos, src in enumerate(result.results):
                rows += [(run_id, pos, s["file"], s["reason"]) for s in src.skipped]
            self._db.executemany("INSERT INTO skipped VALUES (?, ?, ?, ?)", rows)
        return run_id

    def runs(self, reference: str | None = None) -> list[RunSummary]:
        """Stored runs, newest first; only those on ``reference`` when given."""
        sql = ("SELECT r.id, r.created, r.reference, r.preset, r.device, r.seed, r.duration_s, "
               "(SELECT MIN(fid) FROM sources s WHERE s.run_id = r.id), "
               "(SELECT COUNT(*) FROM skipped k WHERE k.run_id = r.id), "
               "(SELECT MIN(sfid) FROM sources s WHERE s.run_id = r.id), "
               "(SELECT MIN(fd_dinov2) FROM sources s WHERE s.run_id = r.id), "
               "(SELECT MIN(clip_fid) FROM sources s WHERE s.run_id = r.id), "
               "(SELECT MIN(cmmd) FROM sources s WHERE s.run_id = r.id), "
               "(SELECT MAX(clip_score) FROM sources s WHERE s.run_id = r.id) FROM runs r")
        args: tuple = ()
        if reference is not None:
            sql += " WHERE r.reference = ?"
            args = (reference,)
        sql += " ORDER BY r.created DESC, r.id DESC"
        out = []
        for row in self._db.execute(sql, args).fetchall():
            paths = tuple(p for (p,) in self._db.execute(
                "SELECT path FROM sources WHERE run_id = ? ORDER BY position", (row[0],)))
            out.append(RunSummary(id=row[0], created=row[1], reference=row[2], preset=row[3],
                                  device=row[4], seed=row[5], duration_s=row[6], sources=paths,
                                  best_fid=row[7], n_skipped=row[8], best_sfid=row[9],
                                  best_fd_dinov2=row[10], best_clip_fid=row[11], best_cmmd=row[12],
                                  best_clip_score=row[13]))
        return out

    def references(self) -> list[str]:
        """Distinct reference sources, most recently used first."""
        rows = self._db.execute("SELECT reference, MAX(created) AS last FROM runs "
                                "GROUP BY reference ORDER BY last DESC").fetchall()
        return [r[0] for r in rows]

    def load(self, run_id: int) -> RunResult:
        """The stored run as a RunResult, with the curves and SSIM values the plots need."""
        row = self._db.execute("SELECT result_json FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no stored run with id {run_id}")
        data = json.loads(row[0])
        skipped: dict[int, list] = {}
        for pos, file, reason in self._db.execute(
                "SELECT position, file, reason FROM skipped WHERE run_id = ? ORDER BY rowid", (run_id,)):
            skipped.setdefault(pos, []).append({"file": file, "reason": reason})
        data["reference"] = dict(data["reference"], skipped=skipped.get(-1, []))
        sources = self._db.execute(
            "SELECT position, metrics_json, fid_curve_json, ssim_values_json, clip_scores_json FROM sources "
            "WHERE run_id = ? ORDER BY position", (run_id,)).fetchall()
        for pos, metrics_json, *_ in sources:
            data["results"][pos]["skipped"] = skipped.get(pos, [])
            data["results"][pos]["metrics"] = json.loads(metrics_json)   # keeps infinities
        result = RunResult.from_dict(data)
        for pos, _, curve_json, ssim_json, clip_json in sources:
            result.results[pos].fid_curve = [tuple(p) for p in json.loads(curve_json)]
            result.results[pos].ssim_values = json.loads(ssim_json)
            result.results[pos].clip_scores = [tuple(c) for c in json.loads(clip_json)] if clip_json else []
        return result

    def delete(self, run_id: int) -> None:
        with self._db:
            self._db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def _move_aside(path: Path) -> Path:
    """Rename a damaged database (and its journal files) to ``<name>.damaged-<time>``."""
    import time
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    k = 1
    while target.exists():
        k += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{k}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


def open_history(path=None) -> tuple[History, str | None]:
    """The history, or — when the file is damaged (not a database, malformed) — a new one, the
    damaged file moved aside; returns (history, message naming the moved file or None)."""
    path = Path(path) if path is not None else default_path()
    try:
        history = History(path)
        try:
            history.count()     # reads a table: a file with a valid header but broken pages fails here
        except sqlite3.DatabaseError:
            history.close()
            raise
        return history, None
    except sqlite3.DatabaseError as exc:
        moved = _move_aside(path)
        return History(path), (f"The run history {path} could not be read ({exc}). It was moved to "
                               f"{moved} and a new, empty history was started.")

