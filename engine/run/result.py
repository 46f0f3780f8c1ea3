"""What a run produced: numbers + provenance + per-file problems, and its JSON form.

The JSON keys are stable (the CLI, the GUI's export and the run history all use them). A
metric not asked for, or not computable, is null and the reason is in ``warnings``.
"""
from __future__ import annotations

import math
import platform
from dataclasses import asdict, dataclass, field

from .. import __version__
from ..metrics import RESULT_KEYS, STRUCTURED_KEYS
from ..inputs.sources import display_name


def empty_metrics() -> dict:
    return {k: None for k in RESULT_KEYS + STRUCTURED_KEYS}


def _json_number(v):
    if v is None:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def skipped_records(pairs) -> list:
    return [{"file": display_name(str(f)), "reason": r} for f, r in pairs]


@dataclass
class SourceResult:
    path: str
    n_images: int
    skipped: list = field(default_factory=list)       # [{"file", "reason"}]
    warnings: list = field(default_factory=list)
    metrics: dict = field(default_factory=empty_metrics)
    fid_curve: list = field(default_factory=list)     # [(n_images, running FID)] for plots
    extras: dict = field(default_factory=dict)        # e.g. {"kid_subset_size": 50}
    ssim_values: list = field(default_factory=list)   # per-pair SSIM, for plots only (not in JSON)
    per_image: object = None     # engine.per_image.table.PerImageTable (JSON keeps its summary)
    # CLIPScore per image: [(file, score, prompt, prompt cut)] (not in JSON: its summary is in extras)
    clip_scores: list = field(default_factory=list)

    def to_dict(self) -> dict:
        metrics = {k: _json_number(self.metrics.get(k)) for k in RESULT_KEYS}
        metrics.update({k: self.metrics.get(k) for k in STRUCTURED_KEYS})
        return {"path": self.path, "n_images": self.n_images, "skipped": self.skipped,
                "warnings": self.warnings, "metrics": metrics, "extras": self.extras}


@dataclass
class RunResult:
    preset: str
    device: str
    device_line: str
    seed: int
    model: dict | None
    reference: dict
    results: list
    options: dict
    created: str
    duration_s: float = 0.0
    status: str = "finished"
    version: str = __version__
    versions: dict = field(default_factory=dict)
    # feature space -> {network, convention, equals, dim, model_sha256, weights_sha256...}
    spaces: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"version": self.version, "preset": self.preset, "device": self.device,
                "device_line": self.device_line, "seed": self.seed, "model": self.model,
                "reference": self.reference, "results": [r.to_dict() for r in self.results],
                "options": self.options, "created": self.created, "duration_s": self.duration_s,
                "status": self.status, "versions": self.versions, "spaces": self.spaces}

    @classmethod
    def from_dict(cls, d: dict) -> "RunResult":
        results = [SourceResult(path=r["path"], n_images=r["n_images"], skipped=r["skipped"],
                                warnings=r["warnings"], metrics=dict(r["metrics"]),
                                extras=r.get("extras", {})) for r in d["results"]]
        keys = {f for f in cls.__dataclass_fields__} - {"results"}
        return cls(results=results, **{k: d[k] for k in keys if k in d})


def library_versions() -> dict:
    import numpy
    import PIL
    import scipy
    out = {"fid-studio": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
           "scipy": scipy.__version__, "pillow": PIL.__version__}
    try:
        import onnxruntime
        out["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return out


__all__ = ["RunResult", "SourceResult", "empty_metrics", "skipped_records", "library_versions", "asdict"]
