"""The feature cache's size limit (least recently used first) and "Clear cache", engine and GUI."""
from pathlib import Path

import pytest

from engine.features import cache_limit
from engine.features.pipeline import extract
from engine.features.presets import get_preset
from engine.inputs.sources import open_source
from engine.run.options import Options
from imagegen import make_folder
from tests.fast_model import inference_model, model_path  # noqa: F401 (the cheap stand-in)


def _entries(root):
    return {p.name for p in (Path(root) / "features").iterdir()}


def test_lru_eviction_keeps_the_recently_used_and_the_newest(tmp_path, inference_model):
    root = tmp_path / "cache"
    srcs = [open_source(make_folder(tmp_path / name, 3, seed=s, size=(24, 24))) for s, name in enumerate("abc")]
    preset = get_preset("clean")
    big = Options(device="cpu", cache_limit_gb=1000.0)
    extract(srcs[0], preset, inference_model, big, cache_root=root)
    first = _entries(root)
    extract(srcs[1], preset, inference_model, big, cache_root=root)
    one = cache_limit.usage(root)
    assert one.entries == 2
    entry_bytes = one.bytes / 2
    hit = extract(srcs[0], preset, inference_model, big, cache_root=root)  # a: now the most recent
    assert hit.from_cache
    second = _entries(root) - first
    # room for two entries: publishing c must remove b, the least recently used
    two = Options(device="cpu", cache_limit_gb=2.5 * entry_bytes / cache_limit.GB)
    extract(srcs[2], preset, inference_model, two, cache_root=root)
    left = _entries(root)
    assert len(left) == 2 and first <= left and not (second & left)
    # a limit smaller than one entry keeps just the newest
    tiny = Options(device="cpu", cache_limit_gb=0.5 * entry_bytes / cache_limit.GB)
    again = extract(srcs[1], preset, inference_model, tiny, cache_root=root)
    assert not again.from_cache and _entries(root) == second
    assert cache_limit.clear(root).entries == 0 and cache_limit.usage(root).bytes == 0
    with pytest.raises(Exception, match="cache_limit_gb"):
        Options(cache_limit_gb=0)


def test_gui_cache_setting_shows_usage_and_clears(qtbot, tmp_path, monkeypatch, inference_model):
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    from engine.features import cache as feature_cache
    from gui.options_panel import OptionsPanel
    src = open_source(make_folder(tmp_path / "a", 3, seed=1, size=(24, 24)))
    extract(src, get_preset("clean"), inference_model, Options(device="cpu"), cache_root=feature_cache.cache_root())
    panel = OptionsPanel()
    qtbot.addWidget(panel)
    panel.adv_toggle.setChecked(True)
    assert "in use: 1 entry" in panel.cache.usage.text()
    panel.cache.limit.setValue(3.5)
    assert panel.options().cache_limit_gb == 3.5
    with qtbot.waitSignal(panel.cache.cleared):
        panel.cache.clear_button.click()
    assert "in use: 0 entries, 0.00 GiB" in panel.cache.usage.text()
    assert cache_limit.usage(feature_cache.cache_root()).entries == 0
    from PySide6.QtCore import QSettings
    s = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    panel.save_settings(s)
    other = OptionsPanel()
    qtbot.addWidget(other)
    other.restore_settings(s)
    assert other.cache.limit.value() == 3.5
    panel.cache.set_running(True)
    assert not panel.cache.clear_button.isEnabled()
