"""How a result's numbers are shown: the columns of the results table, the PDF report and
the History comparison all come from here, so they cannot disagree.

A column knows which option metric it belongs to, how to read its raw value from a
SourceResult and how to print it. None means "not computed": shown as a dash, with the
reason from the source's warnings in the tooltip.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.metrics import METRICS

DASH = "—"
PAIRED = ("ssim", "mse", "psnr")


def short_name(path: str) -> str:
    """A source as tables, plots and the report name it: its folder or file name."""
    p = Path(path)
    return p.name or str(p)


def _num(fmt: str) -> Callable:
    def f(v):
        if v is None:
            return DASH
        if isinstance(v, float) and math.isnan(v):
            return "NaN"
        return format(v, fmt)
    return f


def _pm(fmt: str) -> Callable:
    def f(v):
        mean, std = v
        if mean is None:
            return DASH
        return f"{mean:{fmt}} ± {std:{fmt}}" if std is not None else format(mean, fmt)
    return f


def _kid(v) -> str:
    mean, std, single = v
    if mean is None:
        return DASH
    if isinstance(mean, float) and math.isnan(mean):
        return "NaN"
    if single or std is None:
        # every subset was the whole set: "± 0.00000" would claim a spread that was never measured
        return f"{mean:.5f} (single subset)" if single else format(mean, ".5f")
    return f"{mean:.5f} ± {std:.5f}"


def _interval(v) -> str:
    """(low, high, fid) -> '± 0.455 (11.902–12.811)': half-width, then the interval."""
    low, high, _ = v
    if low is None or high is None:
        return DASH
    return f"± {(high - low) / 2:.3f} ({low:.3f}–{high:.3f})"


def percent(v) -> str:
    """An accuracy in [0, 1] as a percentage: 0.8667 -> '86.7%'."""
    if v is None:
        return DASH
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    return f"{100 * v:.1f}%"


def _psnr(v):
    if v is None:
        return DASH
    return "∞ (identical)" if math.isinf(v) else f"{v:.2f} dB"


@dataclass(frozen=True)
class Column:
    key: str               # stable id (also the CSV/JSON key where there is one)
    header: str
    metric: tuple          # option metrics it belongs to (empty: always shown)
    value: Callable        # SourceResult -> raw value
    text: Callable         # raw value -> display text
    tip: str = ""


def _m(key):
    return lambda r: r.metrics.get(key)


COLUMNS = (
    Column("source", "Source", (), lambda r: r.path, short_name, "generated source"),
    Column("n_images", "N", (), lambda r: r.n_images, lambda v: f"{v:,}", "images scored"),
    Column("skipped", "Skipped", (), lambda r: len(r.skipped), lambda v: f"{v:,}",
           "files that could not be used (see Problems)"),
    Column("fid", "FID", ("fid", "fid_ci"), _m("fid"), _num(".3f"), "Fréchet Inception Distance (lower is better)"),
    Column("fid_ci", "FID 95% CI", ("fid_ci",),
           lambda r: (r.metrics.get("fid_ci_low"), r.metrics.get("fid_ci_high"), r.metrics.get("fid")),
           _interval, "seeded bootstrap interval of FID over the generated images: half-width "
           "(interval). FIDs whose intervals overlap are not clearly different"),
    Column("fid_inf", "FID∞", ("fid_inf",), _m("fid_inf"), _num(".3f"),
           "FID extrapolated to infinitely many generated images (Chong & Forsyth 2020)"),
    Column("sfid", "sFID", ("sfid",), _m("sfid"), _num(".3f"),
           "spatial FID on mixed_6 features, as the ADM evaluator (lower is better)"),
    Column("fd_dinov2", "FD_DINOv2", ("fd_dinov2",), _m("fd_dinov2"), _num(".3f"),
           "Fréchet distance in DINOv2 ViT-L/14 feature space (the CLS token), lower is better; "
           "the convention (dgm-eval or edm2) is in the settings"),
    Column("clip_fid", "CLIP-FID", ("clip_fid",), _m("clip_fid"), _num(".3f"),
           "Fréchet distance in CLIP ViT-B/32 feature space, as clean-fid's model_name='clip_vit_b_32' "
           "(CPU float32), lower is better"),
    Column("cmmd", "CMMD", ("cmmd",), _m("cmmd"), _num(".4f"),
           "MMD of L2-normalised CLIP ViT-L/14@336 embeddings (Gaussian kernel, σ = 10, ×1000; "
           "Jayasumana et al. 2024), exact in float64, lower is better"),
    Column("kid", "KID", ("kid",), lambda r: (r.metrics.get("kid_mean"), r.metrics.get("kid_std"),
                                              bool(r.extras.get("kid_single_subset"))),
           _kid, "Kernel Inception Distance, mean ± std over subsets (lower is better)"),
    Column("is", "IS", ("is",), lambda r: (r.metrics.get("is_mean"), r.metrics.get("is_std")), _pm(".3f"),
           "Inception Score, mean ± std over splits (higher is better)"),
    Column("precision", "Precision", ("pr",), _m("precision"), _num(".4f"), "k-NN precision (k=3)"),
    Column("recall", "Recall", ("pr",), _m("recall"), _num(".4f"), "k-NN recall (k=3)"),
    Column("density", "Density", ("pr",), _m("density"), _num(".4f"), "density (k=5)"),
    Column("coverage", "Coverage", ("pr",), _m("coverage"), _num(".4f"), "coverage (k=5)"),
    Column("ssim", "SSIM", ("ssim",), _m("ssim"), _num(".4f"), "mean SSIM over pairs (higher is better)"),
    Column("mse", "MSE", ("mse",), _m("mse"), _num(".3f"), "mean squared error over pairs, 0-255 units"),
    Column("psnr", "PSNR", ("psnr",), _m("psnr"), _psnr, "mean PSNR over non-identical pairs"),
    Column("n_pairs", "Pairs", PAIRED, _m("n_pairs"), _num(","), "image pairs matched by name"),
    Column("gan_train", "GAN-train", ("gan-train",), _m("gan_train"), percent,
           "accuracy on real validation images of a linear probe (on Inception features) fit on "
           "the generated images; near the real baseline = realistic and diverse (higher is better)"),
    Column("gan_test", "GAN-test", ("gan-test",), _m("gan_test"), percent,
           "accuracy on the generated images of a linear probe fit on real training images; "
           "far above the real baseline hints at memorisation"),
    Column("real_baseline", "Real baseline", ("gan-train", "gan-test"), _m("real_baseline"), percent,
           "accuracy of the same linear probe fit on real training images and scored on real "
           "validation images"),
    Column("clip_score", "CLIPScore", ("clip_score",), _m("clip_score"), _num(".4f"),
           "agreement of each generated image with its prompt, averaged (higher is better): "
           "torchmetrics = 100·cos with CLIP ViT-L/14, hessel = 2.5·max(cos, 0) with ViT-B/32 (the "
           "convention is in the settings; images without a prompt are left out)"),
    Column("warnings", "Warnings", (), lambda r: list(r.warnings),
           lambda v: f"{len(v)}: " + v[0] + (" …" if len(v) > 1 else "") if v else "", ""),
)
BY_KEY = {c.key: c for c in COLUMNS}


def chosen_metrics(result) -> tuple:
    return tuple(result.options.get("metrics", ()))


# columns whose numbers come from the run's feature space (option feature_space)
SPACE_COLUMNS = ("kid", "precision", "recall", "density", "coverage")


def columns_for(result, with_warnings: bool = True) -> list[Column]:
    """The columns that make sense for this run: fixed ones + the metrics it asked for. In a
    run whose feature space is not Inception, the space's columns say so in their heading
    (a DINOv2 number never stands under an Inception heading)."""
    import dataclasses
    from engine.features.spaces import SPACES
    chosen = set(chosen_metrics(result))
    space = SPACES.get(result.options.get("feature_space") or "inception")
    out = []
    for c in COLUMNS:
        if not ((not c.metric or chosen & set(c.metric)) and (with_warnings or c.key != "warnings")):
            continue
        if space is not None and space.name != "inception" and c.key in SPACE_COLUMNS:
            c = dataclasses.replace(c, header=f"{c.header} ({space.label})",
                                    tip=f"{c.tip}; computed in {space.label} feature space")
        out.append(c)
    return out


def cell(column: Column, source_result) -> tuple[str, object, str]:
    """(text, raw value, tooltip) of one table cell."""
    raw = column.value(source_result)
    text = column.text(raw)
    tip = column.tip
    if column.key == "source":
        tip = source_result.path
    elif column.key == "warnings":
        tip = "\n".join(source_result.warnings)
    elif text == DASH:
        tip = not_computed_reason(column, source_result)
    return text, raw, tip


def not_computed_reason(column: Column, source_result) -> str:
    """The warning that explains why a chosen metric has no value, if the engine gave one."""
    words = {column.header.lower(), column.key.lower()}
    words |= {METRICS[m].label.lower().split()[0] for m in column.metric if m in METRICS}
    if set(column.metric) & {"gan-train", "gan-test"}:
        words.add("gan-train/test")       # the engine's one warning for both
    for w in source_result.warnings:
        lw = w.lower()
        if any(word in lw for word in words) or ("paired" in lw and set(column.metric) & set(PAIRED)):
            return w
    return f"{column.header} was not computed"


# the result keys whose best value is the highest (every other number: the lowest)
HIGHER_IS_BETTER = frozenset({"clip_score"})


def best_index(result, key: str = "fid") -> int | None:
    """Position of the best source for ``key`` (lowest, or highest for HIGHER_IS_BETTER;
    None if none has it)."""
    values = [(r.metrics.get(key), i) for i, r in enumerate(result.results)]
    values = [(v, i) for v, i in values if v is not None and math.isfinite(v)]
    if not values:
        return None
    return (max(values, key=lambda vi: (vi[0], -vi[1])) if key in HIGHER_IS_BETTER else min(values))[1]


def _space_rows(result) -> list[tuple[str, str]]:
    """The feature space of KID / precision-recall and, per non-Inception space, its
    convention and the SHA-256 of the weights its model was built from."""
    from engine.features.spaces import ALL_SPACES
    rows = []
    chosen = result.options.get("feature_space") or "inception"
    if chosen != "inception":
        rows.append(("Feature space", f"{chosen}: KID, precision/recall, density/coverage and "
                                      "per-image scores (FID stays Inception's)"))
    for name, rec in (getattr(result, "spaces", None) or {}).items():
        if name == "inception" or name not in ALL_SPACES:
            continue
        label = ALL_SPACES[name].label
        rows.append((f"{label} convention", f"{rec.get('convention')} — equals {rec.get('equals')}"))
        rows.append((f"{label} weights SHA-256", rec.get("weights_sha256") or rec.get("unavailable") or DASH))
        if rec.get("text_model_sha256"):       # CLIPScore's text tower and tokenizer vocabulary
            rows.append((f"{label} text weights SHA-256", rec.get("text_weights_sha256") or DASH))
            rows.append(("CLIP vocabulary SHA-256", rec.get("vocab_sha256") or DASH))
    return rows


def format_created(created: str) -> str:
    """ISO timestamp (UTC) -> local time, readable: '2026-11-25 13:52:42 CET'."""
    import datetime as dt
    try:
        t = dt.datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return str(created)
    if t.tzinfo is not None:
        t = t.astimezone()
    return t.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def settings_rows(result) -> list[tuple[str, str]]:
    """Settings and provenance, as (label, value) lines for the report and the History."""
    from engine.features.presets import PRESETS
    model = result.model or {}
    preset = PRESETS.get(result.preset)
    opts = result.options
    rows = [("Reference", f"{result.reference['path']} ({result.reference['n_images']:,} images)"),
            ("Metrics", ", ".join(METRICS[m].label for m in opts.get("metrics", []) if m in METRICS)),
            ("Preset", f"{result.preset}" + (f" — equals {preset.equals}" if preset else "")),
            *_space_rows(result),
            ("Model", model.get("path", "none (paired metrics only)")),
            ("Model SHA-256", model.get("sha256", DASH)),
            ("Device", result.device_line or result.device),
            ("Seed", str(result.seed)),
            ("Batch size / workers", f"{opts.get('batch_size', DASH)} / {opts.get('workers', DASH)}"),
            ("KID subsets", f"{opts.get('kid_subsets', DASH)} × {opts.get('kid_subset_size', DASH)}"),
            ("Created", format_created(result.created)),
            ("Duration", f"{result.duration_s:.1f} s"),
            ("Versions", ", ".join(f"{k} {v}" for k, v in result.versions.items()))]
    return rows
