"""Feature extraction for one source: a decode pool feeding one inference loop.

Decoding + preset preprocessing run in worker threads (Pillow, NumPy and SciPy release the
GIL); a bounded window of futures keeps memory flat and file order fixed; the calling thread
assembles batches and runs the model while the pool decodes ahead. Cancellation and progress
happen at the same points: between images and between batches.
"""
from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from . import cache as feature_cache
from ..inputs.decode import reader_for
from ..errors import CancelToken, InputError
from ..run.events import Progress, Rate
from ..metrics import fid as fid_metric
from .ordered_pool import ordered_map
from .stats import FeatureStore, MomentAccumulator

FEATURE_DIM = 2048


@dataclass
class Extracted:
    n: int
    files: list
    skipped: list              # [(file, reason)]
    notes: list                # [(file, note)]
    stats: fid_metric.GaussianStats | None
    features: np.ndarray       # memory-mapped
    logits: np.ndarray | None
    from_cache: bool = False
    cache_note: str | None = None
    workdir: object = None     # set when not cached: the job removes it when done
    final_fid: object = None   # FidValue against the reference stats, computed at the end
    cache_key: str | None = None   # the feature cache entry's key (None when not cached)


class _RunningFid:
    """Running FID against reference stats for the live curve, at a bounded cost."""

    def __init__(self, ref_stats, budget: float = 0.1):
        self.ref = ref_stats
        self.budget = budget
        self.last_t = time.perf_counter()
        self.cost = 0.2
        self.value = None
        self.final = None   # the FidValue computed on the complete set (reused by the job)
        self.next_n = 32

    def maybe(self, acc: MomentAccumulator, n: int, final: bool = False):
        if self.ref is None or n < 2:
            return None
        now = time.perf_counter()
        # 32, 64 and 128 images give small sets a curve; beyond that the time rule keeps the
        # cost under ``budget`` of the run (0: only the final value)
        early = self.budget >= 0.05 and n >= self.next_n and self.next_n <= 128
        periodic = self.budget > 0 and now - self.last_t >= max(2.0, self.cost / self.budget)
        due = early or periodic
        if not final and not due:
            return None
        while self.next_n <= n:
            self.next_n *= 2
        t = time.perf_counter()
        value = fid_metric.compute(self.ref, acc.stats())
        self.value = value.fid
        if final:
            self.final = value
        self.cost = time.perf_counter() - t
        self.last_t = time.perf_counter()
        return self.value


def extract(source, preset, model, opts, *, role="generated", index=0, on_event=None,
            cancel: CancelToken | None = None, ref_stats=None, cache_root=None) -> Extracted:
    """Features, stats and per-file problems of ``source`` (from the cache when possible)."""
    cancel = cancel or CancelToken()
    emit = on_event or (lambda e: None)
    key = feature_cache.cache_key(source, model.sha256 + ("+logits" if model.has_logits else ""), preset.name)
    cache_note = None
    if opts.use_cache:
        hit, cache_note = feature_cache.lookup(key, cache_root)
        if hit is not None:
            return Extracted(hit.n, hit.files, hit.skipped, hit.notes, hit.stats, hit.features,
                             hit.logits, from_cache=True, cache_key=key)
    workdir = feature_cache.new_workdir(cache_root)
    try:
        result = _extract_into(workdir, source, preset, model, opts, role, index, emit, cancel, ref_stats)
    except BaseException:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    result.cache_note = cache_note
    if opts.use_cache:
        folder = feature_cache.publish(workdir, key, cache_root)
        entry = feature_cache.load_folder(folder)
        result.features, result.logits = entry.features, entry.logits
        result.cache_key = key
    else:
        result.workdir = workdir
    return result


def _extract_into(workdir, source, preset, model, opts, role, index, emit, cancel, ref_stats):
    feats = FeatureStore(workdir / "features.f32", FEATURE_DIM)
    logit_store = None
    acc = MomentAccumulator(FEATURE_DIM)
    running = _RunningFid(ref_stats, opts.live_fid_budget)
    skipped = list(source.refused)
    notes = []
    ok_files = []
    read = reader_for(source)
    prepare = preset.prepare
    total = len(source.files) + len(source.refused)
    rate = Rate(total)

    def job(name):
        d = read(name)
        return d, (prepare(d.array) if d.array is not None else None)

    batch, pending_skips = [], list(source.refused)
    done = len(source.refused)

    def run_batch():
        nonlocal logit_store
        f, lg = model.run(np.stack(batch))
        feats.append(f)
        acc.add(f)
        if lg is not None:
            if logit_store is None:
                logit_store = FeatureStore(workdir / "logits.f32", lg.shape[1])
            logit_store.append(lg)
        batch.clear()

    def report(final=False):
        images_per_s, eta = rate(done)
        fid_now = running.maybe(acc, feats.n, final=final)
        emit(Progress(role, index, "features", done, total, images_per_s, eta, fid_now,
                      feats.n, tuple(pending_skips)))
        pending_skips.clear()

    depth = max(2 * opts.batch_size, 4 * opts.workers)
    with closing(ordered_map(job, source.files, workers=opts.workers, depth=depth, name="decode")) as decoded_items:
        for decoded, x in decoded_items:
            cancel.check()
            done += 1
            if x is None:
                skipped.append((decoded.name, decoded.problem))
                pending_skips.append((decoded.name, decoded.problem))
                continue
            ok_files.append(decoded.name)
            if decoded.note:
                notes.append((decoded.name, decoded.note))
            batch.append(x)
            if len(batch) == opts.batch_size:
                run_batch()
                cancel.check()
                report()
    if batch:
        run_batch()
    cancel.check()
    if feats.n < 2:
        raise InputError(f"{source.label}: fewer than 2 readable images "
                         f"({len(skipped)} file(s) could not be used)")
    stats = acc.stats()
    report(final=True)
    feats.close()
    if logit_store is not None:
        logit_store.close()
    feature_cache.commit(workdir, n=feats.n, dim=FEATURE_DIM,
                         logits_dim=(logit_store.dim if logit_store else None),
                         files=ok_files, skipped=skipped, notes=notes, stats=stats)
    return Extracted(feats.n, ok_files, skipped, notes, stats, feats.open(),
                     logit_store.open() if logit_store else None, final_fid=running.final)
