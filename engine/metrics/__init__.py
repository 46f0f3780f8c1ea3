"""One module per metric, each a pure ``compute`` over features, logits or image pairs.

The table says what each metric needs and which result keys it fills, so the pipeline
decides what to extract from the table rather than from a chain of ifs.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    name: str
    label: str
    needs: str          # "features" | "spatial" | "logits" | "pairs" | "classes" (features + class
                        # sub-folders) | a feature space's name ("dinov2", "clip", "clip-l14-336": the
                        # features of that space, engine/features/spaces.py) | "prompts"
                        # (generated images and their prompts: CLIPScore)
    keys: tuple         # keys in the result's "metrics" mapping


METRICS = {m.name: m for m in (
    MetricSpec("fid", "FID", "features", ("fid",)),
    MetricSpec("sfid", "sFID (spatial FID, ADM)", "spatial", ("sfid",)),
    MetricSpec("fid_inf", "FID∞ (extrapolated to infinitely many images)", "features", ("fid_inf",)),
    MetricSpec("fid_ci", "FID 95% bootstrap interval", "features", ("fid_ci_low", "fid_ci_high")),
    MetricSpec("fd_dinov2", "FD_DINOv2 (Fréchet distance, DINOv2 ViT-L/14)", "dinov2", ("fd_dinov2",)),
    MetricSpec("clip_fid", "CLIP-FID (Fréchet distance, CLIP ViT-B/32, clean-fid)", "clip", ("clip_fid",)),
    MetricSpec("cmmd", "CMMD (MMD of CLIP ViT-L/14@336 embeddings)", "clip-l14-336", ("cmmd",)),
    MetricSpec("kid", "KID", "features", ("kid_mean", "kid_std")),
    MetricSpec("is", "Inception Score", "logits", ("is_mean", "is_std")),
    MetricSpec("pr", "Precision / recall, density / coverage", "features",
               ("precision", "recall", "density", "coverage")),
    MetricSpec("ssim", "SSIM", "pairs", ("ssim",)),
    MetricSpec("mse", "MSE", "pairs", ("mse",)),
    MetricSpec("psnr", "PSNR", "pairs", ("psnr",)),
    MetricSpec("gan-train", "GAN-train (linear probe)", "classes", ("gan_train", "real_baseline")),
    MetricSpec("gan-test", "GAN-test (linear probe)", "classes", ("gan_test", "real_baseline")),
    MetricSpec("clip_score", "CLIPScore (image vs prompt)", "prompts", ("clip_score",)),
)}

# Every key a result's "metrics" mapping carries, in display order (null when not computed).
RESULT_KEYS = ("fid", "fid_ci_low", "fid_ci_high", "fid_inf", "sfid", "fd_dinov2", "clip_fid", "cmmd",
               "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall",
               "density", "coverage", "ssim", "mse", "psnr", "n_pairs",
               "gan_train", "gan_test", "real_baseline")
RESULT_KEYS += ("clip_score",)
# Structured metric values (JSON only, not CSV columns); null when not computed.
STRUCTURED_KEYS = ("per_class", "sweep")
