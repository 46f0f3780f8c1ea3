"""Paired metrics over two sources: files matched by relative path without extension.

Unpaired files, ambiguous names (a.png and a.jpg) and size mismatches are listed, not fatal.
Aggregates: mean SSIM, mean MSE, and mean per-image PSNR over pairs that are not identical
(identical pairs have infinite PSNR; they are counted and named in a warning).
"""
from __future__ import annotations

import collections
import math
import posixpath
from contextlib import closing
from dataclasses import dataclass, field

import numpy as np

from ..inputs.decode import reader_for
from ..errors import CancelToken
from .events import Progress, Rate
from ..metrics import paired
from ..features.ordered_pool import ordered_map


def _stem_map(names):
    groups = collections.defaultdict(list)
    for n in names:
        groups[posixpath.splitext(n)[0]].append(n)
    return groups


def match(ref_names, gen_names):
    """(pairs, problems): pairs of (ref, gen) names; problems as (file, reason) for the GEN side."""
    ref, gen = _stem_map(ref_names), _stem_map(gen_names)
    pairs, problems = [], []
    for stem in sorted(set(ref) | set(gen)):
        r, g = ref.get(stem, []), gen.get(stem, [])
        if len(r) > 1 or len(g) > 1:
            problems.append(("/".join(r + g), f"ambiguous name '{stem}': several files share it"))
        elif not r:
            problems.append((g[0], "no reference image with this name (unpaired)"))
        elif not g:
            problems.append((r[0], "reference image has no generated counterpart (unpaired)"))
        else:
            pairs.append((r[0], g[0]))
    return pairs, problems


@dataclass
class PairedResult:
    n_pairs: int = 0
    ssim: float | None = None
    mse: float | None = None
    psnr: float | None = None
    problems: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    per_image: list = field(default_factory=list)   # (gen file, ssim|None, mse)


def pairability(ref_source, gen_source) -> tuple[int, int]:
    """(paired, total distinct names): lets a UI say whether paired metrics make sense."""
    pairs, problems = match(ref_source.files, gen_source.files)
    return len(pairs), len(pairs) + len(problems)


def compute(ref_source, gen_source, metrics, opts, *, index=0, on_event=None,
            cancel: CancelToken | None = None) -> PairedResult:
    cancel = cancel or CancelToken()
    emit = on_event or (lambda e: None)
    want_ssim = "ssim" in metrics
    pairs, problems = match(ref_source.files, gen_source.files)
    read_ref, read_gen = reader_for(ref_source), reader_for(gen_source)
    res = PairedResult(problems=list(problems))

    def job(pair):
        a, b = read_ref(pair[0]), read_gen(pair[1])
        for d in (a, b):
            if d.array is None:
                return pair[1], None, None, f"{d.name}: {d.problem}"
        if a.array.shape != b.array.shape:
            return pair[1], None, None, (f"size mismatch: reference {a.array.shape[1]}x{a.array.shape[0]}, "
                                         f"generated {b.array.shape[1]}x{b.array.shape[0]}")
        try:
            s = paired.ssim(a.array, b.array) if want_ssim else None
        except ValueError as exc:
            return pair[1], None, None, f"SSIM not computable: {exc}"
        return pair[1], s, paired.mse(a.array, b.array), None

    rate = Rate(len(pairs))
    if problems:  # unpaired names are known before any decoding: show them at once
        emit(Progress("generated", index, "pairs", 0, len(pairs), 0.0, None, new_skipped=tuple(problems)))
    done, new_ssim, new_skips = 0, [], []
    with closing(ordered_map(job, pairs, workers=opts.workers, depth=4 * opts.workers, name="pairs")) as results:
        for name, s, m, problem in results:
            cancel.check()
            done += 1
            if problem:
                res.problems.append((name, problem))
                new_skips.append((name, problem))
            else:
                res.per_image.append((name, s, m))
                if s is not None:
                    new_ssim.append(s)
            if done % 16 == 0 or done == len(pairs):
                r, eta = rate(done)
                emit(Progress("generated", index, "pairs", done, len(pairs), r, eta,
                              n_images=len(res.per_image), new_skipped=tuple(new_skips),
                              ssim_values=tuple(new_ssim)))
                new_ssim, new_skips = [], []
    res.n_pairs = len(res.per_image)
    if res.n_pairs == 0:
        res.warnings.append("no usable image pairs: paired metrics not computed "
                            "(pairs are matched by relative path without extension)")
        return res
    mses = np.array([m for _, _, m in res.per_image])
    if want_ssim:
        res.ssim = float(np.mean([s for _, s, _ in res.per_image]))
    res.mse = float(mses.mean())
    finite = mses[mses > 0]
    identical = int((mses == 0).sum())
    if identical:
        res.warnings.append(f"PSNR: {identical} of {res.n_pairs} pair(s) are identical (infinite PSNR); "
                            "they are left out of the mean PSNR")
    res.psnr = float(np.mean([paired.psnr_from_mse(m) for m in finite])) if len(finite) else math.inf
    if math.isinf(res.psnr):
        res.warnings.append("PSNR is infinite: every pair is identical")
    return res
