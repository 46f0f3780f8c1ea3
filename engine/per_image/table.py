"""The per-image table of one generated source: file names next to the scores, paired SSIM
/ PSNR where the run had pairs; its CSV rows and the short summary the JSON keeps."""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

import numpy as np

from ..atomic import write_text
from ..metrics import paired
from .scores import PerImageScores, copy_rule

CSV_COLUMNS = ("source", "file", "realism", "in_manifold", "nearest_real", "distance",
               "possible_copy", "ssim", "psnr", "clip_score", "prompt", "prompt_truncated")
WORST_IN_SUMMARY = 5
COPIES_IN_SUMMARY = 20


@dataclass
class PerImageTable:
    source: str                      # the generated source's label
    reference: str                   # the reference source's label
    files: list                      # generated files, in feature order
    real_files: list                 # reference files, in feature order
    scores: PerImageScores
    ssim: dict = field(default_factory=dict)    # generated file -> SSIM (paired runs)
    psnr: dict = field(default_factory=dict)    # generated file -> PSNR (inf for identical pairs)
    clip: dict = field(default_factory=dict)    # generated file -> (CLIPScore, prompt, prompt cut)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def paired(self) -> bool:
        return bool(self.ssim or self.psnr)

    def add_pairs(self, per_image) -> None:
        """``per_image``: [(generated file, ssim | None, mse)] from the paired metrics."""
        for name, s, mse in per_image:
            if s is not None:
                self.ssim[name] = float(s)
            self.psnr[name] = paired.psnr_from_mse(mse) if mse > 0 else math.inf

    def add_clip_scores(self, clip_scores) -> None:
        """``clip_scores``: [(generated file, CLIPScore, prompt, prompt cut)] of the run."""
        for name, score, prompt, cut in clip_scores:
            self.clip[name] = (float(score), prompt, bool(cut))

    def nearest_name(self, i: int) -> str:
        return self.real_files[int(self.scores.nearest[i])]

    def order(self, by: str = "realism", descending: bool = False, copies_only: bool = False) -> np.ndarray:
        """Row indices sorted by ``realism``, ``ssim`` or ``clip_score`` (ties by file order:
        stable); rows without the key (no SSIM, no prompt for that file) go last."""
        if by == "realism":
            key = self.scores.realism
        elif by == "ssim":
            key = np.array([self.ssim.get(f, np.nan) for f in self.files])
        elif by == "clip_score":
            key = np.array([self.clip.get(f, (np.nan,))[0] for f in self.files], np.float64)
        else:
            raise ValueError(f"unknown sort key {by!r}; valid: realism, ssim, clip_score")
        idx = np.arange(len(self.files))
        if copies_only:
            idx = idx[self.scores.possible_copy]
        k = key[idx]
        missing = np.isnan(k)
        k = np.where(missing, 0.0, -k if descending else k)
        return idx[np.lexsort((idx, k, missing))]

    def row(self, i: int) -> dict:
        s, f = self.scores, self.files[i]
        return {"source": self.source, "file": f, "realism": float(s.realism[i]),
                "in_manifold": bool(s.in_manifold[i]), "nearest_real": self.nearest_name(i),
                "distance": float(s.distance[i]), "possible_copy": bool(s.possible_copy[i]),
                "ssim": self.ssim.get(f), "psnr": self.psnr.get(f),
                **dict(zip(("clip_score", "prompt", "prompt_truncated"), self.clip.get(f, (None, None, None))))}

    def summary(self) -> dict:
        """What the JSON result keeps (not one row per image)."""
        s = self.scores
        worst = self.order("realism")[:WORST_IN_SUMMARY]
        copies = self.order("realism", descending=False, copies_only=True)
        copies = copies[np.argsort(s.distance[copies], kind="stable")]
        return {"n_images": len(self), "k": s.k,
                "n_in_manifold": int(s.in_manifold.sum()),
                "n_possible_copies": int(s.possible_copy.sum()),
                "copy_threshold": s.copy_threshold, "copy_rule": copy_rule(),
                "real_nn_median": s.real_nn_median,
                "least_realistic": [{"file": self.files[i], "realism": float(s.realism[i]),
                                     "nearest_real": self.nearest_name(i), "distance": float(s.distance[i])}
                                    for i in worst],
                "possible_copies": [{"file": self.files[i], "nearest_real": self.nearest_name(i),
                                     "distance": float(s.distance[i])} for i in copies[:COPIES_IN_SUMMARY]]}


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "inf" if math.isinf(v) else repr(v)
    return str(v)


def to_csv_text(tables) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for t in tables:
        for i in range(len(t)):
            r = t.row(i)
            w.writerow([_cell(r[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def write_csv(path, tables) -> None:
    """One row per generated image of every table, written atomically."""
    write_text(path, to_csv_text(tables))
