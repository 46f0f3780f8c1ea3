"""Run options: one typed, frozen dataclass that the CLI, the GUI form and the reports read.

Unknown option names raise instead of silently falling back to a default.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields

from ..errors import OptionError

# Metric names as users type them; order is the display order everywhere.
ALL_METRICS = ("fid", "kid", "is", "pr", "ssim", "mse", "psnr", "gan-train", "gan-test")
DEFAULT_METRICS = ("fid", "kid")
DEVICES = ("auto", "cuda", "cpu")


def _default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class Options:
    metrics: tuple = DEFAULT_METRICS
    preset: str = "clean"
    device: str = "auto"
    batch_size: int = 32
    workers: int = field(default_factory=_default_workers)
    seed: int = 0
    kid_subsets: int = 100
    kid_subset_size: int = 1000
    is_splits: int = 10
    pr_k: int = 3
    dc_k: int = 5
    pr_max_samples: int = 10000
    gan_val_fraction: float = 0.2
    # share of the run spent refreshing the running FID (live curve); the CLI asks for less
    live_fid_budget: float = 0.1
    use_cache: bool = True
    # per generated image: realism, nearest real image, possible copy (engine.per_image)
    per_image: bool = False

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
        if self.device not in DEVICES:
            raise OptionError(f"unknown device {self.device!r}; valid: {', '.join(DEVICES)}")
        for name in ("batch_size", "workers", "kid_subsets", "kid_subset_size", "is_splits",
                     "pr_k", "dc_k", "pr_max_samples"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise OptionError(f"option {name} must be a positive integer, got {value!r}")
        if not 0.0 < float(self.gan_val_fraction) < 1.0:
            raise OptionError(f"option gan_val_fraction must be between 0 and 1, got {self.gan_val_fraction!r}")
        if not 0.0 <= float(self.live_fid_budget) <= 1.0:
            raise OptionError(f"option live_fid_budget must be between 0 and 1, got {self.live_fid_budget!r}")
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
        return self.per_image or any(m in ("fid", "kid", "is", "pr", "gan-train", "gan-test")
                                     for m in self.metrics)

    @property
    def wants_classes(self) -> bool:
        return any(m in ("gan-train", "gan-test") for m in self.metrics)

    @property
    def wants_pairs(self) -> bool:
        return any(m in ("ssim", "mse", "psnr") for m in self.metrics)
