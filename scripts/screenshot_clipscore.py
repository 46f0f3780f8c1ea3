"""Screenshots of CLIPScore in the window, for review.

    python scripts/screenshot_clipscore.py OUT_FOLDER     (any Qt platform; offscreen works)

Saves: 30-clipscore-greyed.png (CLIPScore unavailable, "Enable CLIPScore…"), 31-clipscore-results.png
(after adding 2-block stand-in towers of CLIP ViT-L/14: a t2i-suite run, FID + CLIPScore, on 12
generated images with prompts.csv beside them), 32-clipscore-samples.png (the Samples tab, each
sample with its prompt, worst-matching first). Needs the tokenizer vocabulary (`make vocab`).
Temporary data, cache and settings; the stand-in weights are seeded test data, not OpenAI's.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

PROMPTS = ["a red fox in deep snow", "two cats asleep on a windowsill", "a lighthouse at dusk, long exposure",
           "Ein Café in München am Abend", "", "a bowl of ramen, top view", "an astronaut riding a horse",
           "city skyline reflected in a river", "a watercolor of mountains", "a close-up of a bee on lavender",
           "a vintage car on a desert road", "children flying kites on a beach"]


def main() -> int:
    from shot_dirs import out_and_temp, settler
    out, tmp = out_and_temp()
    from PySide6.QtWidgets import QApplication
    from gui.main_window import MainWindow
    from gui.metric_availability import model_info
    from gui.samples_model import SORTS
    from models.clip.build import build
    from models.clip.standin import standin_spec, write_standin
    from models.paths import user_model_path
    from test_gui_support import base_images, write_set

    app = QApplication.instance() or QApplication([])
    w = MainWindow()
    w.resize(1400, 900)
    w.show()

    settle = settler(app, default_ms=300_000)

    ref = write_set(tmp / "real", base_images(12, seed=1))
    gen = write_set(tmp / "generated", base_images(12, seed=2), noise=20)
    names = sorted(p.name for p in gen.iterdir())
    with open(gen / "prompts.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "prompt"])
        writer.writerows(zip(names, PROMPTS))
    w.sources.set_reference(str(ref))
    w.sources.add_generated([str(gen)])
    settle(lambda: w.sources.pending() == 0)
    w.grab().save(str(out / "30-clipscore-greyed.png"))

    weights = write_standin(tmp / "l14.pt", "vitl14", depth=2, text_vocab=True)
    target = user_model_path("clip_vitl14.onnx")
    target.parent.mkdir(parents=True, exist_ok=True)
    build(target, weights=weights, spec=standin_spec("vitl14", 2, text_vocab=True))
    w.model = model_info()
    w.update_availability()
    w.options.suite.setCurrentIndex(w.options.suite.findData("t2i"))
    ended = []
    w.run_ended.connect(lambda *a: ended.append(a))
    w.start_run()
    settle(lambda: bool(ended))
    print("run:", ended, w.last_error)
    w.tabs.setCurrentWidget(w.results_tab)
    settle()
    w.grab().save(str(out / "31-clipscore-results.png"))
    view = w.samples_view
    w.tabs.setCurrentWidget(view)
    settle(lambda: view.stack.currentIndex() == 1)
    view.sort.setCurrentIndex(next(k for k, (_, by, d) in enumerate(SORTS) if by == "clip_score" and not d))
    settle(lambda: view.thumbs.made >= 8, 60_000)
    w.grab().save(str(out / "32-clipscore-samples.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
