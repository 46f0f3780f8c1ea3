"""Events the engine reports while a job runs (plain data; the GUI adapts them to signals)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    text: str


@dataclass(frozen=True)
class SourceStarted:
    role: str            # "reference" | "generated"
    index: int           # position among generated sources (-1 for the reference)
    path: str
    total: int
    cached: bool = False


@dataclass(frozen=True)
class Progress:
    role: str
    index: int
    stage: str           # "features" | "pairs"
    done: int            # files handled (decoded or skipped)
    total: int
    images_per_s: float
    eta_s: float | None
    running_fid: float | None = None
    n_images: int = 0    # images that produced features so far (x axis of the FID curve)
    new_skipped: tuple = ()          # ((file, reason), ...) since the previous event
    ssim_values: tuple = ()          # per-pair SSIM values since the previous event


@dataclass(frozen=True)
class SourceFinished:
    role: str
    index: int
    result: object = field(default=None)   # SourceResult for generated sources


class Rate:
    """images/s and ETA over the whole stage (steady after the first batch)."""

    def __init__(self, total: int):
        import time
        self._time = time.perf_counter
        self.t0 = self._time()
        self.total = total

    def __call__(self, done: int):
        dt = max(self._time() - self.t0, 1e-9)
        rate = done / dt
        eta = (self.total - done) / rate if rate > 0 else None
        return rate, eta
