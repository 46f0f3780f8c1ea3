"""Feature extraction for one source: a decode pool feeding one inference loop per pass.

A pass can feed several models (Inception for FID, DINOv2 for FD_DINOv2): each image is
decoded once, preprocessed per model, and each model gets the same batches.

Decoding + preset preprocessing run in worker threads (Pillow, NumPy and SciPy release the
GIL); a bounded window of futures keeps memory flat and file order fixed; the calling thread
assembles batches and runs the model while the pool decodes ahead. Cancellation and progress
happen at the same points: between images and between batches.
"""
from __future__ import annotations

import shutil
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from . import cache as feature_cache
from . import cache_limit
from .inference import SPATIAL
from ..inputs.decode import reader_for
from ..errors import CancelToken, InputError
from ..run.events import Progress, Rate
from .ordered_pool import ordered_map
from .extracted import SPATIAL_DIM, Extracted, RunningFid
from .spaces import SPACES, FeatureSpace, cache_convention
from .stats import FeatureStore, MomentAccumulator, open_rows


@dataclass(frozen=True)
class SpaceRequest:
    """One model a pass over a source feeds: its feature space, the convention (preprocessing)
    and the loaded model (engine.features.inference.InferenceModel)."""
    space: FeatureSpace
    convention: object          # presets.Preset (an Inception preset or a space's convention)
    model: object


def extract(source, preset, model, opts, *, role="generated", index=0, on_event=None,
            cancel: CancelToken | None = None, ref_stats=None, cache_root=None) -> Extracted:
    """Inception features, stats and per-file problems of ``source`` (from the cache when
    possible): ``extract_spaces`` with the one request."""
    request = SpaceRequest(SPACES["inception"], preset, model)
    return extract_spaces(source, (request,), opts, role=role, index=index, on_event=on_event,
                          cancel=cancel, ref_stats=ref_stats, cache_root=cache_root)[0]


def extract_spaces(source, requests, opts, *, role="generated", index=0, on_event=None,
                   cancel: CancelToken | None = None, ref_stats=None, cache_root=None) -> list:
    """One ``Extracted`` per request, in order. Each request's features are cached under
    its own key (source, model hash, space + convention); the requests the cache does not
    hold are computed together in one pass: each image is decoded once and preprocessed for
    every model. ``ref_stats`` (Inception's) draws the live FID curve.

    The work folder is tried in the cache, then in the system's temporary folder, then in
    memory: a cache or disk that cannot be written costs the cache, never the run (the
    reason is in ``run_note``). With ``use_cache`` off nothing is written under the cache."""
    cancel = cancel or CancelToken()
    emit = on_event or (lambda e: None)
    out, keys, notes, spatial = [], [], [], []
    for req in requests:
        model = req.model
        # features are keyed by the network body's hash: adding the IS head keeps them valid
        # (a float16 copy of the model has its own numbers, so its own hash)
        base = model.sha256 if getattr(model, "precision", "fp32") == "fp16" else model.body_sha256
        key = feature_cache.cache_key(source, base + getattr(model, "cache_tag", ""),
                                      cache_convention(req.space, req.convention))
        # sFID's moments are accumulated only when asked for (they cost as much as pool3's)
        wants_spatial = "sfid" in opts.metrics and getattr(model, "has_spatial", False)
        hit, note = _cached(key, model, opts, wants_spatial, cache_root) if opts.use_cache else (None, None)
        out.append(hit)
        keys.append(key)
        notes.append(note)
        spatial.append(wants_spatial)
    todo = [i for i, hit in enumerate(out) if hit is None]
    if todo:
        fresh = _compute([requests[i] for i in todo], [keys[i] for i in todo], [spatial[i] for i in todo],
                         source, opts, role, index, emit, cancel, ref_stats, cache_root)
        for i, ext in zip(todo, fresh):
            out[i] = ext
    for ext, note in zip(out, notes):
        ext.cache_note = note
    return out


def _cached(key, model, opts, spatial, cache_root):
    """(Extracted from the cache or None, note on a damaged or insufficient entry)."""
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
                         spatial_stats=hit.spatial_stats, cache_key=key), None
    return None, cache_note


def _compute(requests, keys, spatial, source, opts, role, index, emit, cancel, ref_stats, cache_root):
    places = (["cache"] if opts.use_cache else []) + ["temp", "memory"]
    first_failure = None
    for place in places:
        workdirs = []
        try:
            for _ in requests:
                if place == "cache":
                    workdirs.append(feature_cache.new_workdir(cache_root))
                elif place == "temp":
                    workdirs.append(feature_cache.temp_workdir())
                else:
                    workdirs.append(None)
            results = _extract_into(workdirs, source, requests, opts, role, index, emit, cancel,
                                    ref_stats, spatial)
        except BaseException as exc:
            for workdir in workdirs:
                if workdir is not None:
                    shutil.rmtree(workdir, ignore_errors=True)
            if place != "memory" and feature_cache.is_unwritable(exc):
                first_failure = first_failure or (place, exc)
                continue
            raise
        run_note = _unwritable_note(*first_failure, place, opts.use_cache) if first_failure else None
        break
    for req, key, workdir, result in zip(requests, keys, workdirs, results):
        result.run_note = run_note
        if place == "cache":
            _publish(result, req, key, workdir, opts, cache_root)
        else:
            result.workdir = workdir
    return results


def _publish(result, req, key, workdir, opts, cache_root) -> None:
    dim = req.space.dim
    try:
        feature_cache.commit(workdir, n=result.n, dim=dim,
                             logits_dim=(result.logits.shape[1] if result.logits is not None else None),
                             files=result.files, skipped=result.skipped, notes=result.notes,
                             stats=result.stats, moments=result.moments,
                             logits_head=(getattr(req.model, "head_sha256", None)
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
        result.features = open_rows(folder / "features.f32", result.n, dim)
        if result.logits is not None:
            result.logits = open_rows(folder / "logits.f32", result.n, result.logits.shape[1])


def _unwritable_note(place, exc, used, use_cache) -> str:
    where = {"cache": "the feature cache folder", "temp": "the temporary folder"}[place]
    fallback = {"temp": "a temporary folder", "memory": "memory"}[used]
    head = "feature cache not written: " if use_cache else ""
    return f"{head}{where} cannot be written ({exc.strerror or exc}); this run kept its features in {fallback}"


class _Sink:
    """What one model's outputs go into during a pass: features, moments, logits, sFID."""

    def __init__(self, req, workdir, spatial, ref_stats, live_budget):
        self.req, self.model, self.workdir, self.spatial = req, req.model, workdir, spatial
        dim = req.space.dim
        self.feats = FeatureStore(workdir / "features.f32" if workdir else None, dim)
        self.acc = MomentAccumulator(dim)
        self.acc_s = MomentAccumulator(SPATIAL_DIM) if spatial else None
        self.logit_store = None
        # the live curve is Inception's FID: never drawn from another space's features
        self.running = RunningFid(ref_stats if req.space.name == "inception" else None, live_budget)
        self.batch = []

    def run_batch(self):
        out = self.model.run_outputs(np.stack(self.batch), spatial=self.spatial)
        f, lg = out["features"], out.get("logits")
        self.feats.append(f)
        self.acc.add(f)
        if self.acc_s is not None:
            self.acc_s.add(out[SPATIAL])
        if lg is not None:
            if self.logit_store is None:
                self.logit_store = FeatureStore(self.workdir / "logits.f32" if self.workdir else None,
                                                lg.shape[1])
            self.logit_store.append(lg)
        self.batch.clear()

    def finish(self, ok_files, skipped, notes) -> Extracted:
        stats = self.acc.stats()
        moments = self.acc.moments()
        spatial_stats = self.acc_s.stats() if self.acc_s is not None else None
        self.feats.close()
        if self.logit_store is not None:
            self.logit_store.close()
        return Extracted(self.feats.n, list(ok_files), list(skipped), list(notes), stats, self.feats.open(),
                         self.logit_store.open() if self.logit_store else None,
                         final_fid=self.running.final, moments=moments, spatial_stats=spatial_stats)


def _extract_into(workdirs, source, requests, opts, role, index, emit, cancel, ref_stats, spatial):
    if opts.executor == "ray":   # sFID moments are not computed on Ray (sFID is then null with the reason)
        if len(requests) != 1 or requests[0].space.name != "inception":
            raise InputError("the Ray executor computes Inception features only")
        from ..distributed.ray_extract import extract_into as extract_on_ray
        req = requests[0]
        return [extract_on_ray(workdirs[0], source, req.convention, req.model, opts, role, index, emit,
                               cancel, ref_stats)]
    sinks = [_Sink(r, w, s, ref_stats, opts.live_fid_budget) for r, w, s in zip(requests, workdirs, spatial)]
    lead = sinks[0]
    skipped = list(source.refused)
    notes = []
    ok_files = []
    read = reader_for(source)
    prepares = [r.convention.prepare for r in requests]
    total = len(source.files) + len(source.refused)
    rate = Rate(total)

    def job(name):
        d = read(name)
        return d, ([p(d.array) for p in prepares] if d.array is not None else None)

    pending_skips = list(source.refused)
    done = len(source.refused)

    def report(final=False):
        images_per_s, eta = rate(done)
        fid_now = None
        for sink in sinks:
            value = sink.running.maybe(sink.acc, sink.feats.n, final=final)
            fid_now = value if sink.running.ref is not None else fid_now
        emit(Progress(role, index, "features", done, total, images_per_s, eta, fid_now,
                      lead.feats.n, tuple(pending_skips)))
        pending_skips.clear()

    depth = max(2 * opts.batch_size, 4 * opts.workers)
    if opts.decode_processes:
        from .process_pool import ordered_decode
        items = ordered_decode(source, [(r.space.name, r.convention.name) for r in requests],
                               workers=opts.workers, depth=depth, read=read)
    else:
        items = ordered_map(job, source.files, workers=opts.workers, depth=depth, name="decode")
    with closing(items) as decoded_items:
        for decoded, xs in decoded_items:
            cancel.check()
            done += 1
            if xs is None:
                skipped.append((decoded.name, decoded.problem))
                pending_skips.append((decoded.name, decoded.problem))
                continue
            ok_files.append(decoded.name)
            if decoded.note:
                notes.append((decoded.name, decoded.note))
            for sink, x in zip(sinks, xs):
                sink.batch.append(x)
            if len(lead.batch) == opts.batch_size:
                for sink in sinks:
                    sink.run_batch()
                cancel.check()
                report()
    if lead.batch:
        for sink in sinks:
            sink.run_batch()
    cancel.check()
    finish = getattr(read, "finish", None)
    if finish is not None:      # an .npz member: its CRC check covers the bytes not yet checked
        finish()
    if lead.feats.n < 2:
        raise InputError(f"{source.label}: fewer than 2 readable images "
                         f"({len(skipped)} file(s) could not be used)")
    report(final=True)
    return [sink.finish(ok_files, skipped, notes) for sink in sinks]
