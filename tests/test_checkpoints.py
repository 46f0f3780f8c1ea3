"""engine.inputs.checkpoints: natural order, sweep axis, and the watch-folder stability logic."""
from pathlib import Path

from engine.inputs.checkpoints import (FolderWatch, checkpoint_step, folder_signature, list_checkpoints,
                                natural_key, natural_sorted, sweep_axis)


def test_natural_order_numbers_compare_as_numbers():
    names = ["step_10000", "step_2000", "Step_900", "step_20000", "final", "step_02000b"]
    assert sorted(names, key=natural_key) == [
        "final", "Step_900", "step_2000", "step_02000b", "step_10000", "step_20000"]


def test_natural_key_is_total_on_mixed_names():
    names = ["a01", "a1", "1a", "a", "", "10", "2"]
    assert sorted(names, key=natural_key) == ["", "1a", "2", "10", "a", "a01", "a1"]


def test_checkpoint_step_and_sweep_axis():
    assert checkpoint_step("step_020000") == 20000
    assert checkpoint_step("ckpt-3-ema") == 3
    assert checkpoint_step("final") is None
    assert sweep_axis(["/x/step_1000", "/x/step_2000"]) == ([1000, 2000], "checkpoint (number in folder name)")
    assert sweep_axis(["/x/a", "/x/step_2000"])[0] == [1, 2]
    assert sweep_axis(["/x/s1_5", "/x/s2_5"])[0] == [1, 2]     # equal numbers: fall back to order


def _folder(parent: Path, name: str, n: int) -> Path:
    d = parent / name
    d.mkdir()
    for i in range(n):
        (d / f"{i:03d}.png").write_bytes(b"x" * (i + 1))
    return d


def test_list_checkpoints_natural_and_skips_imageless(tmp_path):
    for name in ("step_10000", "step_2000", "step_300"):
        _folder(tmp_path, name, 2)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "train.txt").write_text("x")
    (tmp_path / ".hidden").mkdir()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_300", "step_2000", "step_10000"]
    assert [p.name for p in natural_sorted(list_checkpoints(tmp_path))] == ["step_300", "step_2000", "step_10000"]


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_watch_reports_a_new_folder_once_it_stops_changing(tmp_path):
    _folder(tmp_path, "step_1", 2)
    clock = FakeClock()
    watch = FolderWatch(tmp_path, settle_s=5, clock=clock)
    assert watch.poll() == []                      # existing folders are known, not reported
    new = _folder(tmp_path, "step_2", 1)
    assert watch.poll() == [] and watch.pending() == [new.resolve()]
    clock.t = 3
    (new / "late.png").write_bytes(b"yy")         # still being written: quiet period restarts
    assert watch.poll() == []
    clock.t = 7                                    # only 4 s since the last change
    assert watch.poll() == []
    clock.t = 8.5
    assert watch.poll() == [new]
    clock.t = 100
    assert watch.poll() == []                      # reported once


def test_watch_waits_for_partial_files_and_images(tmp_path):
    clock = FakeClock()
    watch = FolderWatch(tmp_path, settle_s=1, clock=clock)
    d = tmp_path / "step_5"
    d.mkdir()
    (d / "a.png.part").write_bytes(b"1")
    watch.poll()
    clock.t = 10
    assert watch.poll() == []                      # a partial file: never stable
    (d / "a.png.part").rename(d / "a.png")
    assert watch.poll() == []
    clock.t = 11.5
    assert watch.poll() == [d]
    e = tmp_path / "empty"
    e.mkdir()
    watch.poll()
    clock.t = 50
    assert watch.poll() == []                      # no image at all: nothing to score


def test_watch_forgets_vanished_folders_and_handles_unreadable(tmp_path):
    clock = FakeClock()
    watch = FolderWatch(tmp_path, settle_s=1, clock=clock)
    d = _folder(tmp_path, "step_9", 1)
    watch.poll()
    for f in d.iterdir():
        f.unlink()
    d.rmdir()
    clock.t = 5
    assert watch.poll() == [] and watch.pending() == []
    assert folder_signature(tmp_path / "missing") is None
    assert FolderWatch(tmp_path / "missing", clock=clock).poll() == []


def test_watch_known_list_overrides_current_contents(tmp_path):
    a = _folder(tmp_path, "step_1", 1)
    clock = FakeClock()
    watch = FolderWatch(tmp_path, settle_s=1, known=[], clock=clock)
    watch.poll()
    clock.t = 2
    assert watch.poll() == [a]
