"""Metric names as users type them, below both the options (which validate them) and the
suites (which name the metrics a paper protocol reports)."""
from __future__ import annotations

# Order is the display order everywhere.
ALL_METRICS = ("fid", "sfid", "fid_inf", "fid_ci", "fd_dinov2", "clip_fid", "cmmd", "kid", "is", "pr", "ssim", "mse", "psnr", "gan-train", "gan-test")
DEFAULT_METRICS = ("fid", "kid")
# text-to-image: the agreement of each generated image with its prompt (generated side only)
ALL_METRICS += ("clip_score",)
