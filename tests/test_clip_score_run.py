"""CLIPScore in a run: prompts beside the generated images, the image tower fed in the same decode
pass, the text tower in batches, the value and the per-image scores equal to the metric function
applied to the towers' own outputs; odd prompts as per-file records; the reasons when a part is
missing; History schema 4 -> 5; JSON / CSV / per-image CSV / PDF.

The towers are the 2-block stand-ins (conftest's ``clipscore_models``), so these tests are about
the plumbing; the equality with torchmetrics / jmhessel's clipscore on committed images is
tests/test_clip_score_parity.py's.
"""
from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from cli_here import cli_here
from engine.features.spaces import CLIPSCORE_SPACES, get_space
from engine.run.job import run
from engine.run.options import Options
from imagegen import make_folder

PROMPTS = ["a red square on grey", "two cats, one asleep ☕", "", "café in the rain at night"]


@pytest.fixture(scope="module")
def t2i(tmp_path_factory):
    """Reference (3 images) and generated (5: four with a prompt in prompts.csv, one without;
    plus a prompt without an image and a malformed line)."""
    root = tmp_path_factory.mktemp("t2i")
    ref = make_folder(root / "ref", 3, seed=11, size=(40, 40))
    gen = make_folder(root / "gen", 5, seed=12, size=(48, 32))
    with open(gen / "prompts.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "prompt"])
        for i, p in enumerate(PROMPTS):
            w.writerow([f"img_{i:04d}.png", p])
        w.writerow(["ghost.png", "no such image"])
        fh.write("just-one-field\n")
    return ref, gen


def cs_opts(clipscore_models, **kw) -> dict:
    (l_img, l_txt), (b_img, b_txt) = clipscore_models["vitl14"], clipscore_models["vitb32"]
    return dict(device="cpu", clip_vitl14_model_path=str(l_img), clip_vitl14_text_model_path=str(l_txt),
                clip_model_path=str(b_img), clip_text_model_path=str(b_txt), **kw)


def direct(clipscore_models, folder, files, prompts, convention) -> np.ndarray:
    """The metric function on the towers' outputs, computed outside the engine's run: ONNX
    Runtime on the contract's preprocessing and tokenizer."""
    import onnxruntime as ort
    from PIL import Image
    from engine.features.clip_preprocess import preprocess
    from engine.features.clip_text import tokenize_prompts
    from engine.metrics.clip_score import CONVENTION_NETWORK, clip_score
    img_path, txt_path = clipscore_models[CONVENTION_NETWORK[convention]]
    xs = [preprocess(np.asarray(Image.open(folder / f).convert("RGB")), convention) for f in files]
    img = ort.InferenceSession(str(img_path), providers=["CPUExecutionProvider"]).run(
        ["features"], {"images": np.stack(xs)})[0]
    ids = tokenize_prompts(prompts, convention).ids
    txt = ort.InferenceSession(str(txt_path), providers=["CPUExecutionProvider"]).run(
        ["features"], {"tokens": ids})[0]
    return clip_score(img, txt, convention)


@pytest.fixture(scope="module")
def cs_run(t2i, clipscore_models, clip_vocab_path, fast_model_path):
    """KID (Inception) + CLIPScore in one pass (FID's 2048-d square root costs seconds here; the
    FID + CLIPScore command line is tests/test_clip_score_parity.py's)."""
    opts = Options(metrics=("kid", "clip_score"), per_image=True, pr_k=2, batch_size=3, use_cache=False,
                   kid_subsets=5, kid_subset_size=3, **cs_opts(clipscore_models))
    return run(*t2i[:1], [t2i[1]], opts, model_path=fast_model_path)


def test_spaces_match_the_metric_networks():
    from engine.metrics.clip_score import CONVENTION_NETWORK
    for convention, name in CLIPSCORE_SPACES.items():
        space = get_space(name)
        assert space.network == f"clip-{CONVENTION_NETWORK[convention]}"
        assert space.default_convention == convention and not space.selectable


def test_clip_score_equals_the_metric_on_the_towers(cs_run, t2i, clipscore_models):
    (res,) = cs_run.results
    files = [f"img_{i:04d}.png" for i in range(4)]
    want = direct(clipscore_models, t2i[1], files, PROMPTS, "torchmetrics")
    assert res.metrics["clip_score"] == pytest.approx(want.value, rel=1e-5)
    assert res.metrics["kid_mean"] is not None
    got = {f: s for f, s, _, _ in res.clip_scores}
    assert list(got) == files
    assert np.allclose([got[f] for f in files], want.per_image, rtol=1e-5)
    info = res.extras["clip_score"]
    assert (info["n_images"], info["n_without_prompt"], info["prompts_from"]) == (4, 1, "prompts.csv")
    assert info["convention"] == "torchmetrics" and info["network"] == "clip-vitl14"
    assert res.extras["spaces"]["clip_score"] == "clip-l14/torchmetrics"
    problems = {p["file"]: p["reason"] for p in info["prompt_problems"]}
    assert "no prompt" in problems["img_0004.png"] and "prompt without an image" in problems["ghost.png"]
    assert "malformed CSV line" in problems["prompts.csv line 7"]
    assert "empty prompt" in problems["img_0002.png"]
    # the prompts file is not a "non-image file ignored"
    assert not any("non-image" in w for w in res.warnings)
    rec = cs_run.spaces["clip-l14"]
    assert rec["text_model_sha256"] and rec["vocab_sha256"] and rec["model_sha256"]
    # the reference fed Inception only: CLIPScore's tower read the generated side alone
    assert res.skipped == [] and cs_run.reference["n_images"] == 3


def test_per_image_csv_and_sort(cs_run, tmp_path):
    from engine.per_image.table import to_csv_text
    (res,) = cs_run.results
    table = res.per_image
    rows = list(csv.DictReader(to_csv_text([table]).splitlines()))
    by_file = {r["file"]: r for r in rows}
    assert by_file["img_0001.png"]["prompt"] == PROMPTS[1]
    assert by_file["img_0004.png"]["clip_score"] == "" and by_file["img_0004.png"]["prompt"] == ""
    assert by_file["img_0000.png"]["prompt_truncated"] == "false"
    order = table.order("clip_score")
    scores = [table.clip[table.files[i]][0] for i in order[:4]]
    assert scores == sorted(scores) and table.files[order[-1]] == "img_0004.png"


def install(paths, data_dir) -> None:
    """Model files where `model add` puts them, under the data folder ``data_dir``."""
    import shutil
    for path in paths:
        target = data_dir / "models" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
        if Path(str(path) + ".json").exists():
            shutil.copy(str(path) + ".json", str(target) + ".json")


def test_only_clip_score_never_reads_the_reference(t2i, clipscore_models, clip_vocab_path, tmp_path, capfd,
                                                   monkeypatch):
    """A reference whose images are all unreadable: extracting it would fail the run."""
    bad_ref = tmp_path / "bad_ref"
    bad_ref.mkdir()
    for i in range(3):
        (bad_ref / f"x{i}.png").write_bytes(b"not a png")
    o = cs_opts(clipscore_models, clip_score_convention="hessel")
    result = run(bad_ref, [t2i[1]], Options(metrics=("clip_score",), use_cache=False, **o))
    (res,) = result.results
    files = [f"img_{i:04d}.png" for i in range(4)]
    want = direct(clipscore_models, t2i[1], files, PROMPTS, "hessel")
    assert res.metrics["clip_score"] == pytest.approx(want.value, rel=1e-5)
    assert set(result.spaces) == {"clip-b32-hessel"} and result.model is None
    # the same through the command line, with the convention by name, the models where
    # `model add clip-vitb32` puts them
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "data"))
    install([*clipscore_models["vitb32"], clip_vocab_path], tmp_path / "data")
    out = cli_here(capfd, "compute", bad_ref, t2i[1], "--metrics", "clip_score", "--clip-score-convention",
                   "hessel", "--device", "cpu", "--no-cache")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)["results"][0]
    assert got["metrics"]["clip_score"] == pytest.approx(want.value, rel=1e-5)
    assert got["extras"]["clip_score"]["convention"] == "hessel"


def test_missing_parts_give_null_with_the_reason(t2i, clipscore_models, clip_vocab_path, tmp_path, monkeypatch):
    o = cs_opts(clipscore_models)
    plain = make_folder(tmp_path / "plain", 3, seed=5, size=(32, 32))
    # no prompts at all
    (res,) = run(t2i[0], [plain], Options(metrics=("clip_score",), use_cache=False, **o)).results
    assert res.metrics["clip_score"] is None
    assert any("CLIPScore not computed: no prompts found" in w for w in res.warnings)
    # nothing added: an empty data folder, and no models/ folder beside the code (make vocab's)
    import models.paths
    monkeypatch.setenv("FID_STUDIO_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(models.paths, "MODELS_DIR", tmp_path / "no_models")
    from models.clip.vocab import find_vocab
    assert find_vocab() is None
    want = {"clip_vitl14_model_path": "CLIP ViT-L/14 model not added (python main.py model add clip-vitl14 "
                                      "--download)",
            "clip_vitl14_text_model_path": "CLIP ViT-L/14 text encoder not added (python main.py model add "
                                           "clip-vitl14 --download)",
            None: "CLIP tokenizer vocabulary"}
    for key, reason in want.items():
        opts = Options(metrics=("clip_score",), use_cache=False, **(o if key is None else {**o, key: None}))
        result = run(t2i[0], [t2i[1]], opts)
        (res,) = result.results
        assert res.metrics["clip_score"] is None
        assert any(w.startswith("CLIPScore not computed: " + reason) for w in res.warnings), res.warnings


def test_history_schema_4_is_migrated_to_5(cs_run, tmp_path):
    from engine.outputs.history import SCHEMA_VERSION, History
    assert SCHEMA_VERSION == 5
    old = tmp_path / "old.sqlite3"
    with History(old) as h:
        h.add(cs_run)
    con = sqlite3.connect(old)
    con.executescript("ALTER TABLE sources DROP COLUMN clip_score; ALTER TABLE sources DROP COLUMN clip_scores_json; "
                      "PRAGMA user_version = 4;")
    con.close()
    with History(old) as h:
        assert h.runs()[0].best_clip_score is None          # old rows: unknown
        run_id = h.add(cs_run)
        assert h.runs()[0].best_clip_score == cs_run.results[0].metrics["clip_score"]
        back = h.load(run_id).results[0]
        assert back.metrics["clip_score"] == cs_run.results[0].metrics["clip_score"]
        assert back.clip_scores == cs_run.results[0].clip_scores
    con = sqlite3.connect(old)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 5
    con.close()


def test_training_loop_api(t2i, clipscore_models, clip_vocab_path):
    """``Evaluator(..., metrics=("clip_score",))`` without a reference, ``score(images,
    prompts=[...])`` equal to the run's numbers; a length mismatch is one line."""
    from PIL import Image
    from engine.api.evaluator import Evaluator
    from engine.errors import OptionError
    files = [f"img_{i:04d}.png" for i in range(4)]
    arr = np.stack([np.asarray(Image.open(t2i[1] / f).convert("RGB")) for f in files])
    with Evaluator(None, metrics=("clip_score",), use_cache=False, **cs_opts(clipscore_models)) as ev:
        got = ev.score(arr, prompts=PROMPTS)
        assert got["clip_score"] == pytest.approx(direct(clipscore_models, t2i[1], files, PROMPTS,
                                                         "torchmetrics").value, rel=1e-5)
        assert got.extras["clip_score"]["prompts_from"] == "score(prompts=...)" and ev.n_reference == 0
        with pytest.raises(OptionError, match=r"^3 prompt\(s\) given for 4 image\(s\)"):
            ev.score(arr, prompts=PROMPTS[:3])
        # a folder: its own prompts.csv (one image has none: left out, counted)
        folder = ev.score(t2i[1])
        assert folder["clip_score"] == pytest.approx(got["clip_score"], rel=1e-6)
        assert folder.extras["clip_score"]["n_without_prompt"] == 1
    with pytest.raises(OptionError, match="reference is needed"):
        Evaluator(None, metrics=("fid", "clip_score"), **cs_opts(clipscore_models))
