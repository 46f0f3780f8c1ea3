"""NaN and infinite scores in the training log: stored as null with the reason, and rows an
older version wrote with NaN still read back, by the History and by the window's list of runs."""
from __future__ import annotations

import json
import sqlite3
from types import MappingProxyType

import pytest

from engine.api.scores import Scores
from engine.outputs.training_log import TrainingLog

def _scores(metrics: dict) -> Scores:
    return Scores(metrics=MappingProxyType(metrics), n_images=10, n_reference=12, preset="clean", seed=0)


# -- 2: non-finite scores in the training log ---------------------------------------------------
def test_non_finite_scores_are_logged_as_null_with_the_reason(tmp_path):
    db = tmp_path / "h.sqlite3"
    with TrainingLog(db) as log:
        log.log("exp", 1, _scores({"fid": 12.5, "kid_mean": 0.01}), reference="ref")
        log.log("exp", 2, _scores({"fid": float("nan"), "kid_mean": float("inf")}), reference="ref")
        (listed,) = log.runs()
        assert (listed.n_points, listed.last_step, listed.best_fid) == (2, 2, 12.5)
        (_, first, _, _), (_, second, _, warnings) = log.points("exp")
    assert first == {"fid": 12.5, "kid_mean": 0.01}
    assert second == {"fid": None, "kid_mean": None}
    assert "fid was nan (not a finite number): stored as null" in warnings
    assert "kid_mean was inf (not a finite number): stored as null" in warnings
    with sqlite3.connect(db) as con:    # what SQLite's own JSON functions can read
        assert con.execute("SELECT COUNT(*) FROM training_points WHERE json_valid(metrics_json)").fetchone() == (2,)


def test_rows_an_older_version_wrote_with_nan_still_list_every_run(tmp_path):
    db = tmp_path / "h.sqlite3"
    with TrainingLog(db) as log:
        log.log("good", 5, _scores({"fid": 3.0}), reference="ref")
        log.log("old", 1, _scores({"fid": 4.0}), reference="ref")
    # as an older version stored a NaN FID (json.dumps(allow_nan=True) writes a bare NaN)
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO training_points VALUES ('old', 2, '2024-01-01T00:00:00+00:00', 10, "
                    "'{\"fid\": NaN, \"kid_mean\": Infinity}', '[]')")
        con.execute("INSERT INTO training_points VALUES ('old', 3, '2024-01-01T00:00:00+00:00', 10, "
                    "'{\"fid\": 2.5', '[]')")      # and one cut short
        with pytest.raises(sqlite3.OperationalError, match="malformed JSON"):
            con.execute("SELECT json_extract(metrics_json, '$.fid') FROM training_points").fetchall()
    with TrainingLog(db) as log:
        runs = {r.name: r for r in log.runs()}
        assert set(runs) == {"good", "old"}
        assert (runs["old"].n_points, runs["old"].best_fid, runs["good"].best_fid) == (3, 4.0, 3.0)
        points = log.points("old")
        result = log.as_result("old")
    assert points[1][1] == {"fid": None, "kid_mean": None}
    assert "fid was nan (not a finite number): stored as null" in points[1][3]
    assert points[2][1] == {} and "could not be read" in points[2][3][0]
    assert [r.path for r in result.results] == ["step_1", "step_2", "step_3"]
    assert result.results[1].metrics["fid"] is None


def test_the_history_view_lists_training_runs_with_nan_rows(tmp_path):
    pytest.importorskip("PySide6")
    from PySide6.QtWidgets import QApplication
    from engine.outputs.history import History
    from gui.history_view import HistoryView
    app = QApplication.instance() or QApplication([])
    db = tmp_path / "h.sqlite3"
    with TrainingLog(db) as log:
        log.log("a", 1, _scores({"fid": 7.0}), reference="ref")
        log.log("b", 1, _scores({"fid": 6.0}), reference="ref")
    with sqlite3.connect(db) as con:
        con.execute("INSERT INTO training_points VALUES ('b', 2, 'x', 10, '{\"fid\": NaN}', '[]')")
    history, training = History(db), TrainingLog(db)
    try:
        view = HistoryView(history, training=training)
        view.refresh_training()
        assert sorted(view.training_names()) == ["a", "b"]
        cells = {view.training_table.item(r, 0).text(): view.training_table.item(r, 4).text()
                 for r in range(view.training_table.rowCount())}
        assert cells == {"a": "7.000", "b": "6.000"}
        view.deleteLater()
        app.processEvents()
    finally:
        training.close()
        history.close()


# -- 5: a damaged compressed member is refused whole -------------------------------------------
