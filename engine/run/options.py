"""Run options: one typed, frozen dataclass that the CLI, the GUI form and the reports read.

Unknown option names raise instead of silently falling back to a default.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields

from ..errors import OptionError
from .metric_names import ALL_METRICS, DEFAULT_METRICS
from .suites import SUITES

DEVICES = ("auto", "cuda", "cpu")
PRECISIONS = ("fp32", "tf32", "fp16")   # fp32 is exact; the others are opt-in and drift
# where feature extraction runs: this process, or a Ray cluster (optional package ray[data])
EXECUTORS = ("local", "ray")
# "prdc": the prdc package (k-th neighbour without self, strict <, seeded subsample of
# pr_max_samples); "adm": the ADM evaluator (squared distances, self counted, <=, all images)
PR_CONVENTIONS = ("prdc", "adm")
CLIP_SCORE_CONVENTIONS = ("torchmetrics", "hessel")


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Options:
    metrics: tuple = DEFAULT_METRICS
    preset: str = "clean"
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 32
    workers: int = field(default_factory=_default_workers)
    seed: int = 0
    # decode + preprocess in worker processes (shared-memory hand-over) instead of threads
    decode_processes: bool = False
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    is_splits: str = "ttur"   # "ttur": 10 equal splits in file order; "adm": splits of 5,000
    fid_inf_points: int = 15      # subset sizes for the FID∞ line fit
    fid_ci_resamples: int = 50    # bootstrap resamples for fid_ci_low / fid_ci_high
    pr_k: int = 3
    dc_k: int = 5
    pr_max_samples: int = 10000
    pr_convention: str = "prdc"
    gan_val_fraction: float = 0.2
    # share of the run spent refreshing the running FID (live curve); the CLI asks for less
    live_fid_budget: float = 0.1
    use_cache: bool = True
    # feature cache size limit; least-recently-used entries are removed beyond it
    cache_limit_gb: float = 20.0
    # "i/n": only shard i of n of each generated image source (engine/inputs/shards.py)
    shard: str = ""
    executor: str = "local"
    ray_address: str | None = None   # None: RAY_ADDRESS if set, else a local Ray instance
    # a named suite (engine/run/suites.py) these options were made from; None: chosen by hand
    suite: str | None = None
    # per generated image: realism, nearest real image, possible copy (engine.per_image)
    per_image: bool = False
    # the space of KID, precision/recall, density/coverage and the per-image scores
    # (engine/features/spaces.py); FID, sFID, FID∞, IS and GAN-train/test stay Inception's
    feature_space: str = "inception"
    dinov2_convention: str = "dgm-eval"     # the preprocessing of FD_DINOv2: dgm-eval | edm2
    # the built DINOv2 model; None: models.find_model("dinov2_vitl14.onnx")
    dinov2_model_path: str | None = None
    # the built CLIP models (CLIP-FID: ViT-B/32; CMMD: ViT-L/14@336); None: models.find_model
    clip_model_path: str | None = None
    clip_l336_model_path: str | None = None
    # CLIPScore: "torchmetrics" (ViT-L/14, 100·cos, mean then clamp) | "hessel" (ViT-B/32,
    # 2.5·max(cos, 0)); the models of its towers (None: models.find_model)
    clip_score_convention: str = "torchmetrics"
    clip_vitl14_model_path: str | None = None
    clip_vitl14_text_model_path: str | None = None
    clip_text_model_path: str | None = None     # the ViT-B/32 text tower (hessel)

    def __post_init__(self):
        from ..features.presets import PRESETS  # late import: presets imports numpy-heavy resize code

        metrics = tuple(dict.fromkeys(m.strip().lower() for m in self.metrics if m.strip()))
        unknown = [m for m in metrics if m not in ALL_METRICS]
        if unknown:
            raise OptionError(f"unknown metric(s) {', '.join(unknown)}; valid: {', '.join(ALL_METRICS)}")
        if not metrics:
            raise OptionError(f"no metric chosen; valid: {', '.join(ALL_METRICS)}")
        object.__setattr__(self, "metrics", metrics)
        if self.preset not in PRESETS:
            raise OptionError(f"unknown preset {self.preset!r}; valid: {', '.join(PRESETS)}")
        if self.precision not in PRECISIONS:
            raise OptionError(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")
        if self.pr_convention not in PR_CONVENTIONS:
            raise OptionError(f"unknown pr_convention {self.pr_convention!r}; valid: {', '.join(PR_CONVENTIONS)}")
        if self.suite is not None and self.suite not in SUITES:
            raise OptionError(f"unknown suite {self.suite!r}; valid: {', '.join(SUITES)}")
        if self.device not in DEVICES:
            raise OptionError(f"unknown device {self.device!r}; valid: {', '.join(DEVICES)}")
        if self.executor not in EXECUTORS:
            raise OptionError(f"unknown executor {self.executor!r}; valid: {', '.join(EXECUTORS)}")
        if self.ray_address is not None and (not isinstance(self.ray_address, str) or not self.ray_address.strip()):
            raise OptionError(f"option ray_address must be a non-empty string or None, got {self.ray_address!r}")
        from ..metrics.inception_score import SPLIT_CONVENTIONS, TTUR_SPLITS
        if self.is_splits == TTUR_SPLITS and not isinstance(self.is_splits, bool):
            object.__setattr__(self, "is_splits", "ttur")  # older saved options: is_splits=10
        if self.is_splits not in SPLIT_CONVENTIONS:
            raise OptionError(f"unknown is_splits {self.is_splits!r}; valid: {', '.join(SPLIT_CONVENTIONS)}")
        for name in ("batch_size", "workers", "kid_subsets", "kid_subset_size",
                     "pr_k", "dc_k", "pr_max_samples", "fid_inf_points", "fid_ci_resamples"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise OptionError(f"option {name} must be a positive integer, got {value!r}")
        if self.fid_inf_points < 3 or self.fid_ci_resamples < 2:
            raise OptionError("option fid_inf_points must be at least 3 and fid_ci_resamples at least 2, "
                              f"got {self.fid_inf_points} and {self.fid_ci_resamples}")
        if not 0.0 < float(self.gan_val_fraction) < 1.0:
            raise OptionError(f"option gan_val_fraction must be between 0 and 1, got {self.gan_val_fraction!r}")
        if isinstance(self.cache_limit_gb, bool) or not isinstance(self.cache_limit_gb, (int, float)) \
                or not self.cache_limit_gb > 0:
            raise OptionError(f"option cache_limit_gb must be a positive number, got {self.cache_limit_gb!r}")
        if not 0.0 <= float(self.live_fid_budget) <= 1.0:
            raise OptionError(f"option live_fid_budget must be between 0 and 1, got {self.live_fid_budget!r}")
        from ..features.spaces import ALL_SPACES, feature_space, get_space
        feature_space(self.feature_space)
        get_space("dinov2").convention(self.dinov2_convention)
        for space in ALL_SPACES.values():
            if space.path_option and getattr(self, space.path_option) is not None:
                object.__setattr__(self, space.path_option, str(getattr(self, space.path_option)))
        if self.clip_score_convention not in CLIP_SCORE_CONVENTIONS:
            raise OptionError(f"unknown clip_score_convention {self.clip_score_convention!r}; "
                              f"valid: {', '.join(CLIP_SCORE_CONVENTIONS)}")
        for name in ("clip_vitl14_text_model_path", "clip_text_model_path"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, str(getattr(self, name)))
        from ..inputs.shards import parse_shard
        parse_shard(self.shard)
        if not isinstance(self.seed, int) or self.seed < 0:
            raise OptionError(f"option seed must be a non-negative integer, got {self.seed!r}")

    @classmethod
    def from_mapping(cls, values: dict) -> "Options":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise OptionError(f"unknown option(s) {', '.join(unknown)}; valid: {', '.join(sorted(names))}")
        values = dict(values)
        if isinstance(values.get("metrics"), str):
            values["metrics"] = tuple(values["metrics"].split(","))
        return cls(**values)

    def replace(self, **changes) -> "Options":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["metrics"] = list(self.metrics)
        return d

    @property
    def wants_features(self) -> bool:
        from ..features.spaces import DISTANCE_METRICS
        return self.per_image or any(m in DISTANCE_METRICS or m in ("sfid", "fid_inf", "fid_ci", "kid", "is", "pr",
                                                                    "gan-train", "gan-test", "clip_score")
                                     for m in self.metrics)

    def generated_only_spaces(self) -> tuple:
        """Spaces fed by the generated sources only: CLIPScore's image tower (no other metric
        uses it, and CLIPScore needs no reference)."""
        from ..features.spaces import CLIPSCORE_SPACES
        return tuple(s for s in self.spaces_needed() if s in CLIPSCORE_SPACES.values())

    def spaces_needed(self) -> tuple:
        """The feature spaces whose models this run feeds, Inception first."""
        from ..features.spaces import DISTANCE_METRICS, SPACE_METRICS
        needed = set()
        for m in self.metrics:
            if m in DISTANCE_METRICS:
                needed.add(DISTANCE_METRICS[m][0])
            elif m in SPACE_METRICS:
                needed.add(self.feature_space)
            elif m in ("sfid", "fid_inf", "fid_ci", "is", "gan-train", "gan-test"):
                needed.add("inception")
        if self.per_image:
            needed.add(self.feature_space)
        if "clip_score" in self.metrics:
            from ..features.spaces import CLIPSCORE_SPACES
            needed.add(CLIPSCORE_SPACES[self.clip_score_convention])
        return tuple(sorted(needed, key=lambda s: (s != "inception", s)))

    @property
    def wants_classes(self) -> bool:
        return any(m in ("gan-train", "gan-test") for m in self.metrics)

    @property
    def wants_pairs(self) -> bool:
        return any(m in ("ssim", "mse", "psnr") for m in self.metrics)
