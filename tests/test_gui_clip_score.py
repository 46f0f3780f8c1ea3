"""CLIPScore in the window: greyed out (each convention with its own reason) until a CLIP variant's
two towers and the vocabulary are added; the t2i suite; then a run's prompts in the Samples tab,
sorted worst-matching first; the CLIPScore column, curve (higher is better), History column and
PDF row. Models: the 2-block stand-ins (conftest's ``clipscore_models``)."""
from __future__ import annotations

import csv

import pytest
from test_clip_score_run import install
from test_gui_support import base_images, make_window, write_set

from engine.run.job import run
from engine.run.options import Options

PROMPTS = ["a blue gradient", "red and green stripes", "a noisy grey field ☁", "", "sunset over water"]


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "appdata"))   # no CLIP model here
    monkeypatch.setenv("FID_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    return make_window(qtbot)


def test_greyed_out_per_convention_until_added(window, clipscore_models, clip_vocab_path, tmp_path):
    from gui.metric_availability import model_info
    w = window
    item = w.options.clip_score.model().item
    assert not w.options.checks["clip_score"].isEnabled()
    assert w.options.enable_buttons["clip_score"].isVisibleTo(w)
    assert w.options.enable_buttons["clip_score"].text() == "Enable CLIPScore…"
    assert "CLIPScore unavailable" in w.options.hint.text()
    assert not item(0).isEnabled() and not item(1).isEnabled()
    # the original CLIPScore's ViT-B/32 towers and the vocabulary: hessel only
    install([*clipscore_models["vitb32"], clip_vocab_path], tmp_path / "appdata")
    w.model = model_info()
    w.update_availability()
    assert w.options.checks["clip_score"].isEnabled()
    assert w.options.clip_score.convention() == "hessel" and item(1).isEnabled() and not item(0).isEnabled()
    assert "CLIP ViT-L/14 model not added" in w.options.clip_score.itemData(0, 3)   # 3: ToolTipRole
    w.options.set_metrics(("clip_score",))
    assert w.options.options().clip_score_convention == "hessel"
    # the text-to-image suite: FID + CLIPScore (torchmetrics), clean preset
    w.options.suite.setCurrentIndex(w.options.suite.findData("t2i"))
    opts = w.options.options()
    assert opts.suite == "t2i" and opts.preset == "clean" and opts.clip_score_convention == "torchmetrics"
    assert w.options.checks["fid"].isChecked() and w.options.checks["clip_score"].isChecked()


@pytest.fixture(scope="module")
def t2i_result(tmp_path_factory, clipscore_models, clip_vocab_path, fast_model_path):
    """Two checkpoints with prompts.csv (one image without a prompt), KID + CLIPScore + per-image."""
    root = tmp_path_factory.mktemp("gui_t2i")
    ref = write_set(root / "ref", base_images(6, seed=1))
    gens = []
    for k, noise in enumerate((40, 5)):
        gen = write_set(root / f"step_{k + 1:03d}", base_images(6, seed=2), noise=noise, seed=k)
        with open(gen / "prompts.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "prompt"])
            w.writerows((f"img_{i:03d}.png", p) for i, p in enumerate(PROMPTS))
        gens.append(gen)
    (l_img, l_txt) = clipscore_models["vitl14"]
    opts = Options(metrics=("kid", "clip_score"), per_image=True, pr_k=2, kid_subsets=5, kid_subset_size=3,
                   device="cpu", use_cache=False, clip_vitl14_model_path=str(l_img),
                   clip_vitl14_text_model_path=str(l_txt))
    return run(ref, gens, opts, model_path=fast_model_path)


def test_samples_prompts_sort_and_outputs(qtbot, window, t2i_result, tmp_path):
    from pdf_text import pdf_text
    from engine.outputs.history import History
    from gui.samples_model import SORTS, describe
    from reports.result_format import best_index
    w, result = window, t2i_result
    w.show_result(result, None)
    view = w.samples_view
    with qtbot.waitSignal(view.table_ready, timeout=60_000):
        w.tabs.setCurrentWidget(view)
    worst = next(k for k, (_, by, desc) in enumerate(SORTS) if by == "clip_score" and not desc)
    assert view.sort.model().item(worst).isEnabled()
    view.sort.setCurrentIndex(worst)
    m = view.model
    rows = [m.table.row(m.row_of(m.index(r))) for r in range(m.rowCount())]
    scores = [r["clip_score"] for r in rows if r["clip_score"] is not None]
    assert len(scores) == 5 and scores == sorted(scores)           # worst-matching first
    assert rows[-1]["file"] == "img_005.png" and rows[-1]["prompt"] is None   # no prompt: last
    name, line, _, prompt = m.data(m.index(0))
    assert prompt == rows[0]["prompt"] and "CLIP" in line
    assert f"Prompt: {rows[0]['prompt'] or '(empty)'}" in describe(m.table, m.row_of(m.index(0)))
    # the curve: higher is better, the star on the highest
    best = best_index(result, "clip_score")
    values = [r.metrics["clip_score"] for r in result.results]
    assert values[best] == max(values) and None not in values
    plot = w.results_tab.sweep.space_plots["clip_score"]
    assert not plot.isHidden() and "higher is better" in plot.getAxis("left").labelText
    # History keeps the value and the per-image scores; its list shows the highest
    db = tmp_path / "h.sqlite3"
    with History(db) as h:
        run_id = h.add(result)
        assert h.runs()[0].best_clip_score == max(values)
        assert h.load(run_id).results[0].clip_scores == result.results[0].clip_scores
    pdf = tmp_path / "r.pdf"
    assert w.export_to(str(pdf), result, "pdf")
    text = pdf_text(pdf)
    assert "CLIPScore" in text and f"{values[0]:.4f}" in text and "CLIP vocabulary SHA-256" in text
    from reports.charts import charts_for
    assert "CLIPScore over checkpoints" in [title for title, _ in charts_for(result)]
