"""Scores logged from a training script, in the History database the desktop app reads.

One row per experiment ("run" name) and one per (experiment, step). The tables live beside
the History's own in the same SQLite file, created with IF NOT EXISTS, so History's schema
version is untouched. The database is in WAL mode: the writer (a training script) and the
app (reading) never block each other, and every write is one short transaction. Logging a
step again replaces it (a resumed training re-logs its last steps).

``as_result`` gives an experiment as a RunResult with one source per step named
``step_<n>``, which is exactly what the checkpoint-sweep view plots (x = step).
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..metrics import METRICS
from ..run.result import RunResult, SourceResult, empty_metrics
from .history import History, default_path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS training_runs (
    name TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    preset TEXT NOT NULL,
    seed INTEGER NOT NULL,
    n_reference INTEGER NOT NULL,
    model_sha256 TEXT,
    metrics_json TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS training_points (
    run TEXT NOT NULL REFERENCES training_runs(name) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    created TEXT NOT NULL,
    n_images INTEGER NOT NULL,
    metrics_json TEXT NOT NULL,
    warnings_json TEXT NOT NULL,
    PRIMARY KEY (run, step)
);
"""

STEP_PREFIX = "step_"


def _metric_names(metrics: dict) -> list:
    """The metric names (``fid``, ``kid``...) whose keys hold a value."""
    return [name for name, spec in METRICS.items() if any(metrics.get(k) is not None for k in spec.keys)]


def _finite_or_reason(metrics: dict) -> tuple[dict, list]:
    """(metrics with every non-finite number as None, one reason per such value): SQLite's
    JSON functions reject NaN, so one NaN point would make every run's listing fail."""
    out, reasons = {}, []
    for key, value in metrics.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isfinite(value):
            reasons.append(f"{key} was {value} (not a finite number): stored as null")
            value = None
        out[key] = value
    return out, reasons


def _json_or_empty(text):
    """A stored JSON value; a row no JSON reader accepts counts as empty, not as an error."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def connect(path) -> sqlite3.Connection:
    """A connection in WAL mode that waits (up to 10 s) instead of failing on a busy database."""
    db = sqlite3.connect(path, timeout=10.0, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


@dataclass(frozen=True)
class TrainingRun:
    """One line of the History view's training list."""
    name: str
    reference: str
    preset: str
    n_points: int
    last_step: int | None
    best_fid: float | None
    updated: str


class TrainingLog:
    """Writer and reader of logged training scores. One lock per instance: thread-safe."""

    def __init__(self, path=None):
        self.path = Path(path) if path is not None else default_path()
        History(self.path).close()         # the History's own tables exist first
        self._db = connect(self.path)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript("BEGIN;" + _SCHEMA + "COMMIT;")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- writing ---------------------------------------------------------------------------
    def log(self, run: str, step: int, scores, *, reference: str, model_sha256: str | None = None) -> None:
        if not isinstance(run, str) or not run.strip():
            raise ValueError(f"run must be a non-empty name, got {run!r}")
        if isinstance(step, bool) or not isinstance(step, int) and not hasattr(step, "__index__"):
            raise ValueError(f"step must be an integer, got {step!r}")
        step = int(step)
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        metrics, reasons = _finite_or_reason(dict(scores.metrics))
        warnings = list(scores.warnings) + reasons
        now = _now()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT reference, preset FROM training_runs WHERE name = ?",
                                       (run,)).fetchone()
                if row is None:
                    self._db.execute(
                        "INSERT INTO training_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (run, reference, scores.preset, scores.seed, int(scores.n_reference),
                         model_sha256, json.dumps(_metric_names(metrics)), now, now))
                elif row != (reference, scores.preset):
                    raise ValueError(f"run {run!r} holds scores of preset {row[1]} against {row[0]}; "
                                     f"these are preset {scores.preset} against {reference}: "
                                     "log them under another run name")
                else:
                    self._db.execute("UPDATE training_runs SET updated = ? WHERE name = ?", (now, run))
                self._db.execute(
                    "INSERT OR REPLACE INTO training_points VALUES (?, ?, ?, ?, ?, ?)",
                    (run, step, now, int(scores.n_images), json.dumps(metrics, allow_nan=False),
                     json.dumps(warnings)))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def delete(self, run: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM training_runs WHERE name = ?", (run,))

    # -- reading ---------------------------------------------------------------------------
    def runs(self) -> list[TrainingRun]:
        """Experiments, most recently updated first."""
        # the best FID is found here, not by SQLite's json_extract: rows written by older
        # versions may hold NaN, which json_extract refuses (and would fail the whole list)
        sql = ("SELECT r.name, r.reference, r.preset, r.updated, COUNT(p.step), MAX(p.step) "
               "FROM training_runs r LEFT JOIN training_points p ON p.run = r.name GROUP BY r.name "
               "ORDER BY r.updated DESC, r.name")
        with self._lock:
            rows = self._db.execute(sql).fetchall()
            best: dict = {}
            for name, metrics_json in self._db.execute("SELECT run, metrics_json FROM training_points"):
                fid = (_json_or_empty(metrics_json) or {}).get("fid")
                if isinstance(fid, (int, float)) and math.isfinite(fid) and fid < best.get(name, math.inf):
                    best[name] = fid
        return [TrainingRun(name=n, reference=ref, preset=pr, updated=up, n_points=cnt,
                            last_step=last, best_fid=best.get(n)) for n, ref, pr, up, cnt, last in rows]

    def points(self, run: str) -> list[tuple[int, dict, int, list]]:
        """(step, metrics, n_images, warnings) in step order; a non-finite value an older
        version stored comes back as None with the reason among the warnings."""
        with self._lock:
            rows = self._db.execute("SELECT step, metrics_json, n_images, warnings_json FROM training_points "
                                    "WHERE run = ? ORDER BY step", (run,)).fetchall()
        out = []
        for s, m, n, w in rows:
            metrics = _json_or_empty(m)
            warnings = _json_or_empty(w)
            warnings = list(warnings) if isinstance(warnings, list) else []
            if not isinstance(metrics, dict):
                metrics, warnings = {}, warnings + ["the stored scores of this step could not be read"]
            metrics, reasons = _finite_or_reason(metrics)
            out.append((s, metrics, n, warnings + [r for r in reasons if r not in warnings]))
        return out

    def as_result(self, run: str) -> RunResult:
        """The experiment as a RunResult: one source ``step_<n>`` per logged step."""
        with self._lock:
            row = self._db.execute("SELECT reference, preset, seed, n_reference, model_sha256, metrics_json, created "
                                   "FROM training_runs WHERE name = ?", (run,)).fetchone()
        if row is None:
            raise KeyError(f"no training run named {run!r}")
        reference, preset, seed, n_reference, sha, metrics_json, created = row
        sources = []
        for step, metrics, n, warnings in self.points(run):
            m = empty_metrics()
            m.update(metrics)
            sources.append(SourceResult(path=f"{STEP_PREFIX}{step}", n_images=n, metrics=m,
                                        warnings=warnings))
        return RunResult(preset=preset, device="", device_line="logged from a training script", seed=seed,
                         model={"sha256": sha} if sha else None,
                         reference={"path": reference, "n_images": n_reference, "skipped": []}, results=sources,
                         options={"metrics": json.loads(metrics_json), "training_run": run},
                         created=created, version=__version__)

    def data_version(self) -> int:
        """Changes when another connection committed (SQLite's PRAGMA data_version)."""
        with self._lock:
            return self._db.execute("PRAGMA data_version").fetchone()[0]
