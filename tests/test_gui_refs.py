""""Standard reference…" and "Save as reference…" in the real window: the searchable list
holds the catalogue and the user's own references (what each equals, size, supported metrics,
the others greyed with the reason); "Use" downloads through the mirror field from a real
local HTTP server with progress, sets the reference and its preset / suite; Cancel keeps
nothing; a folder reference is saved under a name and then offered in the list."""
from __future__ import annotations

import pytest
from httpserve import LocalServer
from refs_files import moments_npz, served
from test_gui_support import base_images, make_window, write_set

from engine.refs import library, store
from engine.refs.catalogue import CATALOGUE
from gui.refs_dialog import MIRROR_KEY

CIFAR = CATALOGUE["clean-fid/cifar10_legacy_tensorflow_train_32"]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("FID_STUDIO_REFS_MIRROR", raising=False)
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return make_window(qtbot)


@pytest.fixture(scope="module")
def stats_bytes():
    return moments_npz(0)


def test_standard_reference_downloads_with_progress_and_sets_the_convention(qtbot, window, stats_bytes):
    from gui.refs_dialog import StandardReferenceDialog
    w = window
    w.sources.b_standard.click()
    dlg = next(d for d in w.findChildren(StandardReferenceDialog))
    dlg.search.setText("cifar10 legacy_tensorflow train")
    assert dlg.visible_names() == [CIFAR.name]
    dlg.search.setText("afhq_cat_clean_train_512 kid")
    kid_row = dlg.visible_names()
    assert kid_row == ["clean-fid/afhq_cat_clean_train_512_kid"]
    dlg.select(kid_row[0])
    assert not dlg.use_button.isEnabled() and "images only" in dlg.details.text()
    dlg.search.setText("")
    dlg.select(CIFAR.name)
    text = dlg.details.text()
    assert "legacy_tensorflow" in text and "not downloaded" in text and CIFAR.url in text
    assert "color:#8a8a8a'>kid:" in text            # greyed, with the reason
    assert dlg.use_button.text() == "Download and use"
    with LocalServer({served(CIFAR): stats_bytes}) as server:
        dlg.mirror.setText(server.url("file"))
        with qtbot.waitSignal(dlg.chosen, timeout=60_000):
            dlg.use_button.click()
    assert dlg.outcome == "chosen" and dlg.bar.value() == 1000
    assert w.settings.value(MIRROR_KEY) == server.url("file")
    assert w.sources.reference == str(store.cached(CIFAR).file)
    assert w.options.options().preset == "tensorflow"


def test_cancel_keeps_nothing(qtbot, window, stats_bytes):
    from gui import refs_actions
    dlg = refs_actions.open_standard_reference(window)
    dlg.select(CIFAR.name)
    with LocalServer({served(CIFAR): stats_bytes}) as server:
        dlg.mirror.setText(server.url("trickle"))
        dlg.use()
        qtbot.waitUntil(lambda: dlg.bar.maximum() == 1000 and dlg.bar.value() > 0, timeout=30_000)
        dlg.cancel_button.click()
        qtbot.waitUntil(lambda: dlg.outcome == "cancelled", timeout=30_000)
        server.pace.set()
    assert "nothing was kept" in dlg.stage.text() and dlg.isVisible()
    assert store.cached(CIFAR) is None
    assert not any(store.entry_folder(CIFAR).iterdir())


def test_save_as_reference_then_offered_in_the_list(qtbot, window, tmp_path):
    from gui import refs_actions
    w = window
    ref = write_set(tmp_path / "real", base_images(4, seed=1, size=32))
    w.sources.set_reference(str(ref))
    w.options.preset.setCurrentIndex(w.options.preset.findData("pytorch-fid"))
    worker = refs_actions.save_as_reference(w, "my-set", str(tmp_path / "my-set.npz"))
    with qtbot.waitSignal(worker.signals.finished, timeout=60_000) as got:
        pass
    rec = got.args[0]
    assert rec["name"] == "my-set" and rec["preset"] == "pytorch-fid" and rec["n"] == 4
    assert library.get("my-set")["sha256"] == rec["sha256"]
    dlg = refs_actions.open_standard_reference(w)
    dlg.search.setText("my-set")
    assert dlg.visible_names() == ["my-set"]
    dlg.select("my-set")
    assert "your reference" in dlg.table.item(dlg.table.currentRow(), 5).text()
    assert "kid:" in dlg.details.text()
    with qtbot.waitSignal(dlg.chosen, timeout=30_000):
        dlg.use_button.click()
    assert w.sources.reference == rec["file"] and w.options.options().preset == "pytorch-fid"
