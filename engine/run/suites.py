"""Named evaluation suites: a preset, metrics and metric settings that one paper protocol fixes.

``adm``: the ADM evaluator of guided-diffusion (``evaluations/evaluator.py``), which most
diffusion-model papers since 2021 report: TF Inception conventions (our ``tensorflow`` preset
is its graph's resize), FID, sFID, Inception Score over consecutive splits of 5,000 images,
and precision / recall with k = 3 on pool3 against the reference batch's images, computed as
ADM does (metrics/pr_adm.py). A suite is one choice in the CLI (``--suite``) and the GUI; what
a build of FID Studio cannot compute (a metric or setting it lacks) is said in the warnings,
never replaced by something else.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import OptionError
from .metric_names import ALL_METRICS


@dataclass(frozen=True)
class Suite:
    name: str
    label: str
    preset: str
    metrics: tuple
    settings: tuple       # (option name, value) pairs


SUITES = {s.name: s for s in (
    Suite("adm", "ADM evaluator (guided-diffusion): FID, sFID, IS, precision / recall",
          preset="tensorflow", metrics=("fid", "sfid", "is", "pr"),
          settings=(("is_splits", "adm"), ("pr_convention", "adm"), ("pr_k", 3))),
    # text-to-image papers: FID with clean-fid's resize (GigaGAN's COCO-30k evaluation code uses
    # clean-fid) and CLIPScore as torchmetrics computes it, from one pass over the generated images
    Suite("t2i", "Text-to-image: FID + CLIPScore", preset="clean", metrics=("fid", "clip_score"),
          settings=(("clip_score_convention", "torchmetrics"),)),
)}


def apply(name: str, opts):
    """``opts`` with the suite's preset, metrics and settings (other options kept)."""
    if name not in SUITES:
        raise OptionError(f"unknown suite {name!r}; valid: {', '.join(SUITES)}")
    suite = SUITES[name]
    metrics = tuple(m for m in suite.metrics if m in ALL_METRICS)
    opts = opts.replace(preset=suite.preset, metrics=metrics, suite=name)
    for key, value in suite.settings:
        try:
            opts = opts.replace(**{key: value})
        except (OptionError, TypeError):
            pass   # this build lacks the setting: notes() says so
    return opts


def notes(opts) -> list:
    """What the options' suite asks for and these options do not deliver, as warnings."""
    if opts.suite is None:
        return []
    suite = SUITES[opts.suite]
    out = [f"{m}: not available in this build of FID Studio (part of the {suite.name} suite)"
           for m in suite.metrics if m not in ALL_METRICS]
    for key, value in suite.settings:
        if getattr(opts, key, None) != value:
            out.append(f"{suite.name} suite: option {key}={value!r} is not available in this build "
                       f"(used {getattr(opts, key, None)!r})")
    return out
