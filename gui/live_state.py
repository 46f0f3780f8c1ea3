"""What a running job has reported so far, gathered from engine events (no Qt).

The worker's progress signal feeds ``LiveState.on_event`` on the GUI thread; the display
timer reads it and redraws only when ``dirty`` is set. Keeping this plain data makes the
event handling cheap (no widget work per event) and testable without a window.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from engine.run.events import Message, Progress, SourceFinished, SourceStarted
from reports.result_format import short_name


@dataclass
class SourceRow:
    role: str               # "reference" | "generated" | "validation"
    index: int
    label: str
    stage: str = "waiting"  # waiting | features | pairs | cached | done
    done: int = 0
    total: int = 0
    images_per_s: float = 0.0
    eta_s: float | None = None
    finished: bool = False
    images: int = 0         # images with features (0: not extracted)
    pairs: int = 0          # image pairs compared

    def text(self) -> str:
        if self.stage == "waiting":
            return "waiting"
        if self.stage == "stats":
            return "statistics file — no images to read"
        if self.stage == "cached":
            return f"{self.total:,} images — features loaded from cache"
        if self.finished:
            counts = [f"{n:,} {what}" for n, what in ((self.images, "images"), (self.pairs, "pairs")) if n]
            return "done" + (" — " + ", ".join(counts) if counts else "")
        what = "pairs" if self.stage == "pairs" else "images"
        line = f"{self.done:,} / {self.total:,} {what}"
        if self.images_per_s > 0:
            line += f" · {self.images_per_s:.1f} {what}/s"
        if self.eta_s is not None and self.eta_s > 0:
            line += f" · ETA {format_duration(self.eta_s)}"
        return line


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return "< 1 s"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}:{s:02d}"
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


@dataclass
class LiveState:
    reference: str
    generated: list
    paired: bool = False                 # a paired metric was asked for (SSIM histogram)
    features: bool = True                # Inception features are extracted (reference row shown)
    validation: str | None = None        # real validation folder for GAN-train / GAN-test
    rows: list = field(default_factory=list)
    device_line: str = ""
    fid_points: dict = field(default_factory=dict)     # generated index -> [(n_images, fid)]
    throughput: list = field(default_factory=list)     # [(seconds since start, images/s, source)]
    ssim_values: dict = field(default_factory=dict)    # generated index -> [per-pair SSIM]
    problems: list = field(default_factory=list)       # [(source label, file, reason)]
    t0: float = field(default_factory=time.perf_counter)
    dirty: bool = True

    def __post_init__(self):
        if not self.rows:
            if self.features:
                self.rows = [SourceRow("reference", -1, "Reference: " + short_name(self.reference))]
            if self.validation:       # the engine reports it as role "validation", index -2
                self.rows.append(SourceRow("validation", -2, "Validation: " + short_name(self.validation)))
            self.rows += [SourceRow("generated", i, short_name(p)) for i, p in enumerate(self.generated)]

    def row(self, role: str, index: int) -> SourceRow:
        for r in self.rows:
            if r.role == role and r.index == index:
                return r
        # A source the window did not list (e.g. a validation set): give it a row now.
        r = SourceRow(role, index, role.capitalize())
        self.rows.append(r)
        return r

    def on_event(self, e) -> None:
        self.dirty = True
        if isinstance(e, Message):
            self.device_line = e.text
        elif isinstance(e, SourceStarted):
            r = self.row(e.role, e.index)
            r.stage, r.total, r.done = ("cached" if e.cached else "features"), e.total, 0
        elif isinstance(e, Progress):
            self._progress(e)
        elif isinstance(e, SourceFinished):
            r = self.row(e.role, e.index)
            r.finished = True
            if r.stage == "waiting":          # a stats .npz: no images were read
                r.stage = "stats"

    def finish(self) -> None:
        for r in self.rows:
            r.finished = True
        self.dirty = True

    def _progress(self, e: Progress) -> None:
        r = self.row(e.role, e.index)
        cached = e.images_per_s == 0.0 and e.eta_s == 0.0 and e.done == e.total and r.done == 0
        r.stage = "cached" if cached else e.stage
        r.done, r.total, r.images_per_s, r.eta_s = e.done, e.total, e.images_per_s, e.eta_s
        if e.stage == "pairs":
            r.pairs = e.n_images
        else:
            r.images = e.n_images
        # Throughput of feature extraction only: pairs are compared far faster and would
        # flatten the curve; their rate is in the source's progress line.
        if not cached and e.images_per_s > 0 and e.stage == "features":
            self.throughput.append((time.perf_counter() - self.t0, e.images_per_s, (e.role, e.index)))
        if e.role == "generated" and e.running_fid is not None:
            self.fid_points.setdefault(e.index, []).append((e.n_images, e.running_fid))
        if e.ssim_values:
            self.ssim_values.setdefault(e.index, []).extend(e.ssim_values)
        prefix = "paired: " if e.stage == "pairs" else ""
        self.problems.extend((r.label, f, prefix + reason) for f, reason in e.new_skipped)
