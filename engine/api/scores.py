"""What ``Evaluator.score`` returns: the CLI's metric values for one set of images."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Scores:
    """Metric values (None where not asked for or not computable; the reason is in
    ``warnings``), with the keys of the CLI's JSON ``metrics``: ``fid``, ``kid_mean``,
    ``kid_std``, ``is_mean``, ``is_std``, ``precision``, ``recall``, ``density``, ``coverage``,
    ``fd_dinov2``; ``extras["spaces"]`` names the space and convention of each."""
    metrics: MappingProxyType
    n_images: int
    n_reference: int
    preset: str
    seed: int
    warnings: tuple = ()
    skipped: tuple = ()            # ({"file", "reason"}, ...) for folder / zip inputs
    extras: dict = field(default_factory=dict)

    def __getitem__(self, key: str):
        return self.metrics[key]

    @property
    def fid(self):
        return self.metrics.get("fid")

    @property
    def kid(self):
        """KID mean over subsets (``kid_std`` has the spread)."""
        return self.metrics.get("kid_mean")

    @property
    def kid_mean(self):
        return self.metrics.get("kid_mean")

    @property
    def kid_std(self):
        return self.metrics.get("kid_std")

    @property
    def is_mean(self):
        return self.metrics.get("is_mean")

    @property
    def precision(self):
        return self.metrics.get("precision")

    @property
    def recall(self):
        return self.metrics.get("recall")

    def to_dict(self) -> dict:
        """JSON-ready: non-finite numbers become None, like the CLI's output."""
        def num(v):
            return None if isinstance(v, float) and not math.isfinite(v) else v
        return {"metrics": {k: num(v) for k, v in self.metrics.items()}, "n_images": self.n_images,
                "n_reference": self.n_reference, "preset": self.preset, "seed": self.seed,
                "warnings": list(self.warnings), "skipped": [dict(s) for s in self.skipped],
                "extras": dict(self.extras)}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.6g}" for k, v in self.metrics.items()
                          if isinstance(v, (int, float)) and v is not None)
        return f"Scores({shown}, n_images={self.n_images})"
