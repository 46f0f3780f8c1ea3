"""engine.outputs.history: store, list, filter, reload and delete runs (SQLite, no Qt)."""
import math
import sqlite3

import pytest

from engine.outputs.history import History, data_dir, default_path
from engine.run.result import RunResult, SourceResult, empty_metrics


def make_result(ref="/data/ref", fids=(12.5, 9.25), created="2026-01-02T03:04:05+00:00", status="finished"):
    results = []
    for i, fid in enumerate(fids):
        m = empty_metrics()
        m.update(fid=fid, kid_mean=0.01 * (i + 1), kid_std=0.001, psnr=math.inf, mse=0.0, n_pairs=3)
        results.append(SourceResult(path=f"/data/gen/step_{i + 1}", n_images=10 + i,
                                    skipped=[{"file": f"bad_{i}.png", "reason": "not a readable image"}],
                                    warnings=[f"warning {i}"], metrics=m,
                                    fid_curve=[(4, (fid or 0) + 5), (10 + i, fid)], extras={"kid_subset_size": 10},
                                    ssim_values=[0.5, 0.75]))
    return RunResult(preset="clean", device="cpu", device_line="Running on CPU (as requested)", seed=7,
                     model={"path": "/m.onnx", "sha256": "ab" * 32, "has_logits": False},
                     reference={"path": ref, "n_images": 20, "skipped": [{"file": "r.txt.png", "reason": "x"}]},
                     results=results, options={"metrics": ["fid", "kid"], "preset": "clean"},
                     created=created, duration_s=1.5, status=status, versions={"numpy": "2"})


def test_round_trip_keeps_everything(tmp_path):
    res = make_result()
    with History(tmp_path / "h.sqlite3") as h:
        run_id = h.add(res)
        back = h.load(run_id)
    assert back.to_dict() == res.to_dict()
    for a, b in zip(back.results, res.results):
        assert a.metrics["psnr"] == math.inf            # infinities survive (JSON export nulls them)
        assert a.fid_curve == b.fid_curve and a.ssim_values == b.ssim_values
        assert a.skipped == b.skipped
    assert back.reference["skipped"] == res.reference["skipped"]


def test_list_filter_order_and_summary(tmp_path):
    with History(tmp_path / "h.sqlite3") as h:
        a = h.add(make_result("/ref/A", created="2026-01-01T00:00:00+00:00"))
        b = h.add(make_result("/ref/B", fids=(30.0,), created="2026-01-03T00:00:00+00:00"))
        c = h.add(make_result("/ref/A", fids=(None, 4.0), created="2026-01-02T00:00:00+00:00"))
        assert [r.id for r in h.runs()] == [b, c, a]
        assert [r.id for r in h.runs("/ref/A")] == [c, a]
        assert h.references() == ["/ref/B", "/ref/A"]
        top = h.runs()[0]
        assert top.best_fid == 30.0 and top.sources == ("/data/gen/step_1",) and top.n_skipped == 2
        assert h.runs("/ref/A")[0].best_fid == 4.0
        h.delete(a)
        assert h.count() == 2
        assert h._db.execute("SELECT COUNT(*) FROM skipped WHERE run_id = ?", (a,)).fetchone()[0] == 0


def test_survives_reopen_and_refuses_cancelled(tmp_path):
    path = tmp_path / "sub" / "h.sqlite3"
    with History(path) as h:
        h.add(make_result())
        with pytest.raises(ValueError):
            h.add(make_result(status="cancelled"))
    with History(path) as h:
        assert h.count() == 1
        with pytest.raises(KeyError):
            h.load(999)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "h.sqlite3"
    History(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        History(path)


def test_data_dir_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "d"))
    assert data_dir() == tmp_path / "d"
    assert default_path() == tmp_path / "d" / "history.sqlite3"
    monkeypatch.delenv("FID_STUDIO_DATA_DIR")
    assert "fid-studio" in str(data_dir())


@pytest.mark.parametrize("damage", ["garbage", "bad_pages"])
def test_damaged_database_is_moved_aside_and_a_new_one_started(tmp_path, damage):
    from engine.outputs.history import open_history
    path = tmp_path / "history.sqlite3"
    if damage == "garbage":
        path.write_bytes(b"this is not a database, it was overwritten\n" * 50)
    else:                                   # a valid header, then pages of noise
        with History(path) as h:
            h.add(make_result())
        raw = bytearray(path.read_bytes())
        raw[100:] = bytes((i * 37) % 251 for i in range(len(raw) - 100))
        path.write_bytes(bytes(raw))
    original = path.read_bytes()
    history, note = open_history(path)
    with history:
        assert history.count() == 0
        history.add(make_result())
        assert history.count() == 1
    # (in WAL mode its -wal / -shm files are moved along with it)
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("history.sqlite3.damaged-")
             and not p.name.endswith(("-wal", "-shm"))]
    assert len(moved) == 1 and moved[0].read_bytes() == original
    assert str(moved[0]) in note and str(path) in note
    again, note2 = open_history(path)      # the new history opens cleanly next time
    with again:
        assert note2 is None and again.count() == 1
