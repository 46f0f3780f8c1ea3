"""'Enable Inception Score…' in the real window against a real HTTP server on 127.0.0.1:
the explanation, download with progress, Cancel, refusals, and IS available without a
restart."""
from __future__ import annotations

import hashlib
import shutil

import pytest
from httpserve import LocalServer
from test_gui_support import make_window

import models
from models.common import download as dl
from models.inception import is_head
from models.paths import download_dir

NAME = is_head.OFFICIAL_HEAD.file_name


@pytest.fixture
def window(qtbot, model_path, tmp_path, monkeypatch):
    """The window on a private copy of the head-less model (the shared one stays as it is)."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))
    copy = tmp_path / "model" / "fid_inception.onnx"
    copy.parent.mkdir()
    shutil.copy(model_path, copy)
    shutil.copy(str(model_path) + ".json", str(copy) + ".json")
    monkeypatch.setenv(models.ENV_VAR, str(copy))
    w = make_window(qtbot)
    w.model_copy = copy
    return w


def _serve(monkeypatch, server, route, data):
    prefix = hashlib.sha256(data).hexdigest()[:8]
    monkeypatch.setattr(is_head, "OFFICIAL_HEAD", dl.RemoteFile(server.url(f"{route}/{NAME}"), NAME, prefix, 91))


def test_is_greyed_out_with_an_enable_action(window):
    assert not window.options.checks["is"].isEnabled()
    assert window.options.enable_is_button.isVisibleTo(window)
    assert "no classifier head" in window.options.hint.text()
    assert window.act_enable_is.text() == "Enable &Inception Score…"


def test_download_enables_is_without_restart(qtbot, window, stand_in_head_file, monkeypatch):
    data = stand_in_head_file.read_bytes()
    with LocalServer({NAME: data}) as server:
        _serve(monkeypatch, server, "file", data)
        window.options.enable_is_button.click()
        dlg = window.is_dialog
        assert "about 91 MB" in dlg.text.text() and is_head.OFFICIAL_HEAD.url in dlg.text.text()
        assert "6726825d" not in dlg.download_button.text()
        with qtbot.waitSignal(dlg.enabled, timeout=600_000):
            dlg.download_button.click()
    assert dlg.last_progress == (len(data), len(data))
    assert dlg.outcome == "enabled" and not dlg.isVisible()
    assert window.model.has_logits and window.options.checks["is"].isEnabled()
    assert window.options.checks["is"].isChecked()
    assert not window.options.enable_is_button.isVisibleTo(window)
    assert "IS unavailable" not in window.options.hint.text()
    prov = models.provenance_path(window.model_copy).read_text()
    assert server.url(f"file/{NAME}") in prov
    assert not any(download_dir().iterdir())


def test_cancel_keeps_nothing_and_is_stays_off(qtbot, window, monkeypatch):
    data = bytes(range(256)) * 8192   # 2 MB, sent in paced pieces
    with LocalServer({NAME: data}) as server:
        _serve(monkeypatch, server, "trickle", data)
        dlg = window.enable_is_dialog()
        dlg.download_button.click()
        qtbot.waitUntil(lambda: dlg.bar.maximum() == 1000 and dlg.bar.value() > 0, timeout=60_000)
        with qtbot.waitSignal(dlg.worker.signals.cancelled, timeout=60_000):
            dlg.cancel_button.click()
        server.pace.set()
    assert dlg.outcome == "cancelled" and "nothing was kept" in dlg.stage.text()
    assert dlg.isVisible() and dlg.download_button.isEnabled()
    assert not any(download_dir().iterdir())
    assert not window.options.checks["is"].isEnabled()


@pytest.mark.parametrize("route, message", [("html", "web page instead of the weights file"),
                                            ("missing", "HTTP 404")])
def test_refusals_are_shown_in_the_dialog(qtbot, window, monkeypatch, route, message):
    with LocalServer({}) as server:
        monkeypatch.setattr(is_head, "OFFICIAL_HEAD", dl.RemoteFile(server.url(f"{route}/{NAME}"), NAME, "6726825d", 91))
        dlg = window.enable_is_dialog()
        dlg.download_button.click()
        qtbot.waitUntil(lambda: dlg.outcome == "failed", timeout=60_000)
    assert message in dlg.error.text() and dlg.error.isVisibleTo(dlg)
    assert not window.options.checks["is"].isEnabled()


def test_from_file_refuses_a_wrong_file(qtbot, window, tmp_path):
    wrong = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    wrong.write_bytes(b"not the weights")
    dlg = window.enable_is_dialog()
    dlg.start(wrong)      # what "From file…" does with the chosen path
    qtbot.waitUntil(lambda: dlg.outcome == "failed", timeout=60_000)
    assert "6726825d" in dlg.error.text() and wrong.is_file()
    assert not window.options.checks["is"].isEnabled()
