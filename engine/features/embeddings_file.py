"""Reference embeddings kept in a stats file, for the metrics that need the embeddings
themselves rather than moments (CMMD).

``stats SOURCE -o FILE --cmmd`` adds, beside ``mu``/``sigma``, the arrays ``cmmd_embeddings``
((n, 768) float32, each row L2-normalised), ``cmmd_space``, ``cmmd_convention`` and
``cmmd_model_sha256`` (the ONNX model that made them; a run refuses embeddings of another
space, convention or model) and ``cmmd_files_sha256``. A run given such a file as reference
(or generated source) reads them instead of images; the rows are validated: shape, finite,
unit norm within ``NORM_TOL``.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..inputs.sources import display_name

NORM_TOL = 1e-4      # |‖row‖ - 1|: float32 rounding of a normalised row is ~1e-7


def unit_rows(features, block: int = 4096) -> np.ndarray:
    """``features`` with every row L2-normalised (float64 arithmetic, float32 out)."""
    out = np.empty(features.shape, np.float32)
    for i in range(0, len(features), block):
        rows = np.asarray(features[i:i + block], np.float64)
        out[i:i + block] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def arrays(metric: str, features, *, space: str, convention: str, model_sha256: str,
           files_sha256: str) -> dict:
    """The arrays a stats file gains for ``metric`` (``cmmd``)."""
    return {f"{metric}_embeddings": unit_rows(features), f"{metric}_space": np.str_(space),
            f"{metric}_convention": np.str_(convention), f"{metric}_model_sha256": np.str_(model_sha256),
            f"{metric}_files_sha256": np.str_(files_sha256)}


@dataclass
class Embeddings:
    """A stats file's stored embeddings, standing in for an extracted source of one space."""
    features: np.ndarray
    embeddings_file: str
    n: int = 0
    stats: object = None
    logits: object = None
    skipped: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    from_cache: bool = True
    cache_note: str | None = None
    cache_key: str | None = None

    def __post_init__(self):
        self.n = len(self.features)


def load(path, metric: str, *, space, convention: str, model_sha256: str) -> Embeddings | None:
    """``metric``'s embeddings in the stats file ``path`` (None when it has none), validated
    against the run: refused (InputError, one line) when they are not usable."""
    label = display_name(str(path))
    key = f"{metric}_embeddings"
    try:
        with np.load(path, allow_pickle=False) as z:
            if key not in z.files:
                return None
            emb = np.asarray(z[key])
            meta = {k: str(z[f"{metric}_{k}"]) if f"{metric}_{k}" in z.files else ""
                    for k in ("space", "convention", "model_sha256")}
    except (OSError, ValueError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read the {metric} embeddings of {label}: {str(exc) or type(exc).__name__}") from None
    what = f"{label}: its {metric} embeddings"
    if emb.ndim != 2 or emb.shape[1] != space.dim or emb.shape[0] < 1 or emb.dtype.kind != "f":
        raise InputError(f"{what} have shape {emb.shape} ({emb.dtype}); expected (n, {space.dim}) floats "
                         f"of {space.label}")
    for name, want in (("space", space.name), ("convention", convention), ("model_sha256", model_sha256)):
        if meta[name] != want:
            raise InputError(f"{what} were made with {name.replace('_', ' ')} {meta[name] or 'none recorded'}, "
                             f"this run uses {want}: recompute them with `stats --{metric}` and this model")
    emb = emb.astype(np.float32, copy=False)
    if not np.all(np.isfinite(emb)):
        raise InputError(f"{what} contain NaN or infinity")
    norms = np.linalg.norm(emb.astype(np.float64), axis=1)
    worst = float(np.abs(norms - 1.0).max())
    if worst > NORM_TOL:
        raise InputError(f"{what} are not L2-normalised (a row's norm differs from 1 by {worst:.2e})")
    return Embeddings(emb, label)


def merge(files) -> dict:
    """The embedding arrays of the union of stats files [(path, arrays)] of disjoint shards:
    the rows concatenated in the files' order (CMMD does not depend on the order)."""
    names = sorted({k[:-len("_embeddings")] for _, d in files for k in d if k.endswith("_embeddings")})
    out = {}
    for metric in names:
        key = f"{metric}_embeddings"
        lacking = [p for p, d in files if key not in d]
        if lacking:
            raise InputError(f"{display_name(str(lacking[0]))} has no {metric} embeddings while other files "
                             f"have them: write every shard with `stats --{metric}`, or none")
        for what in ("space", "convention", "model_sha256"):
            values = {str(d.get(f"{metric}_{what}", "")) for _, d in files}
            if len(values) > 1:
                raise InputError(f"cannot merge {metric} embeddings made with another {what.replace('_', ' ')}: "
                                 f"{', '.join(sorted(v or 'none recorded' for v in values))}")
        first = files[0][1]
        out[key] = np.concatenate([np.asarray(d[key], np.float32) for _, d in files])
        out.update({f"{metric}_{what}": np.str_(str(first.get(f"{metric}_{what}", "")))
                    for what in ("space", "convention", "model_sha256")})
    return out
