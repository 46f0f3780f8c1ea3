"""Feature extraction for one source: a decode pool feeding one inference loop.

Decoding + preset preprocessing run in worker threads (Pillow, NumPy and SciPy release the
GIL); a bounded window of futures keeps memory flat and file order fixed; the calling thread
assembles batches and runs the model while the pool decodes ahead. Cancellation and progress
happen at the same points: between images and between batches.
"""
from __future__ import annotations

import shutil
from contextlib import closing

import numpy as np

from . import cache as feature_cache
from . import cache_limit
from .inference import SPATIAL
from ..inputs.decode import reader_for
from ..errors import CancelToken, InputError
from ..run.events import Progress, Rate
from .ordered_pool import ordered_map
from .extracted import FEATURE_DIM, SPATIAL_DIM, Extracted, RunningFid
from .stats import FeatureStore, MomentAccumulator, open_rows


def extract(source, preset, model, opts, *, role="generated", index=0, on_event=None,
            cancel: CancelToken | None = None, ref_stats=None, cache_root=None) -> Extracted:
    """Features, stats and per-file problems of ``source`` (from the cache when possible).

    The work folder is tried in the cache, then in the system's temporary folder, then in
    memory: a cache or disk that cannot be written costs the cache, never the run (the
    reason is in ``run_note``). With ``use_cache`` off nothing is written under the cache."""
    cancel = cancel or CancelToken()
    emit = on_event or (lambda e: None)
    # pool3 features are keyed by the network body's hash: adding the IS head keeps them valid
    # (a float16 copy of the model has its own numbers, so its own hash)
    base = model.sha256 if getattr(model, "precision", "fp32") == "fp16" else model.body_sha256
    key = feature_cache.cache_key(source, base + getattr(model, "cache_tag", ""), preset.name)
    # sFID's moments are accumulated only when asked for (they cost as much as pool3's)
    spatial = "sfid" in opts.metrics and getattr(model, "has_spatial", False)
    cache_note = run_note = None
    if opts.use_cache:
        hit, cache_note = feature_cache.lookup(key, cache_root)
        if hit is not None and spatial and not hit.has_spatial:
            feature_cache.discard(key, cache_root)
            hit, cache_note = None, ("feature cache entry had no sFID statistics (made before "
                                     "sFID or without it); recomputed")
        head = getattr(model, "head_sha256", None)
        logits_ok = hit is not None and hit.logits is not None and hit.logits_head == head
        # pool3 features stay valid across a head change; logits only from the same head.
        # A run that wants IS re-extracts an entry that lacks its logits (and replaces it).
        wants_logits = model.has_logits and "is" in opts.metrics
        if hit is not None and (logits_ok or not wants_logits):
            cache_limit.touch(hit.folder)
            return Extracted(hit.n, hit.files, hit.skipped, hit.notes, hit.stats, hit.features,
                             hit.logits if logits_ok else None, from_cache=True, moments=hit.moments,
                             spatial_stats=hit.spatial_stats, cache_key=key)
    places = (["cache"] if opts.use_cache else []) + ["temp", "memory"]
    first_failure = None
    for place in places:
        workdir = None
        try:
            if place == "cache":
                workdir = feature_cache.new_workdir(cache_root)
            elif place == "temp":
                workdir = feature_cache.temp_workdir()
            result = _extract_into(workdir, source, preset, model, opts, role, index, emit, cancel, ref_stats,
                                   spatial)
        except BaseException as exc:
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
            if place != "memory" and feature_cache.is_unwritable(exc):
                first_failure = first_failure or (place, exc)
                continue
            raise
        if first_failure:
            run_note = _unwritable_note(*first_failure, place, opts.use_cache)
        break
    result.cache_note, result.run_note = cache_note, run_note
    if place == "cache":
        try:
            feature_cache.commit(workdir, n=result.n, dim=FEATURE_DIM,
                                 logits_dim=(result.logits.shape[1] if result.logits is not None else None),
                                 files=result.files, skipped=result.skipped, notes=result.notes,
                                 stats=result.stats, moments=result.moments,
                                 logits_head=(getattr(model, "head_sha256", None)
                                              if result.logits is not None else None),
                                 spatial_stats=result.spatial_stats)
            folder = feature_cache.publish(workdir, key, cache_root)
            cache_limit.touch(folder)
            cache_limit.evict(cache_root or feature_cache.cache_root(), opts.cache_limit_gb * cache_limit.GB,
                              keep=folder)
        except OSError as exc:
            if not feature_cache.is_unwritable(exc):
                shutil.rmtree(workdir, ignore_errors=True)
                raise
            result.run_note = result.run_note or _unwritable_note("cache", exc, "temp", True)
            result.workdir = workdir          # the job removes it when done
        else:
            result.cache_key = key
            result.features = open_rows(folder / "features.f32", result.n, FEATURE_DIM)
            if result.logits is not None:
                result.logits = open_rows(folder / "logits.f32", result.n, result.logits.shape[1])
    else:
        result.workdir = workdir
    return result


def _unwritable_note(place, exc, used, use_cache) -> str:
    where = {"cache": "the feature cache folder", "temp": "the temporary folder"}[place]
    fallback = {"temp": "a temporary folder", "memory": "memory"}[used]
    head = "feature cache not written: " if use_cache else ""
    return f"{head}{where} cannot be written ({exc.strerror or exc}); this run kept its features in {fallback}"


def _extract_into(workdir, source, preset, model, opts, role, index, emit, cancel, ref_stats,
                  spatial=False):
    if opts.executor == "ray":   # sFID moments are not computed on Ray (sFID is then null with the reason)
        from ..distributed.ray_extract import extract_into as extract_on_ray
        return extract_on_ray(workdir, source, preset, model, opts, role, index, emit, cancel, ref_stats)
    feats = FeatureStore(workdir / "features.f32" if workdir else None, FEATURE_DIM)
    logit_store = None
    acc = MomentAccumulator(FEATURE_DIM)
    acc_s = MomentAccumulator(SPATIAL_DIM) if spatial else None
    running = RunningFid(ref_stats, opts.live_fid_budget)
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
        out = model.run_outputs(np.stack(batch), spatial=spatial)
        f, lg = out["features"], out.get("logits")
        feats.append(f)
        acc.add(f)
        if acc_s is not None:
            acc_s.add(out[SPATIAL])
        if lg is not None:
            if logit_store is None:
                logit_store = FeatureStore(workdir / "logits.f32" if workdir else None, lg.shape[1])
            logit_store.append(lg)
        batch.clear()

    def report(final=False):
        images_per_s, eta = rate(done)
        fid_now = running.maybe(acc, feats.n, final=final)
        emit(Progress(role, index, "features", done, total, images_per_s, eta, fid_now,
                      feats.n, tuple(pending_skips)))
        pending_skips.clear()

    depth = max(2 * opts.batch_size, 4 * opts.workers)
    if opts.decode_processes:
        from .process_pool import ordered_decode
        items = ordered_decode(source, preset.name, workers=opts.workers, depth=depth, read=read)
    else:
        items = ordered_map(job, source.files, workers=opts.workers, depth=depth, name="decode")
    with closing(items) as decoded_items:
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
    finish = getattr(read, "finish", None)
    if finish is not None:      # an .npz member: its CRC check covers the bytes not yet checked
        finish()
    if feats.n < 2:
        raise InputError(f"{source.label}: fewer than 2 readable images "
                         f"({len(skipped)} file(s) could not be used)")
    stats = acc.stats()
    moments = acc.moments()
    spatial_stats = acc_s.stats() if acc_s is not None else None
    report(final=True)
    feats.close()
    if logit_store is not None:
        logit_store.close()
    return Extracted(feats.n, ok_files, skipped, notes, stats, feats.open(),
                     logit_store.open() if logit_store else None, final_fid=running.final, moments=moments,
                     spatial_stats=spatial_stats)
