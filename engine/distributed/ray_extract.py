"""The driver side of a Ray run: build the Ray Data pipeline, stream shards back, merge.

Each shard comes back once with its image positions, features and float64 moments. The
driver merges the moments (sums, never averaged FIDs), writes features to a file indexed by
position and compacts it in input order at the end, so KID / precision-recall / IS see the
same rows as a local run. Every position must arrive exactly once: a worker that dies is
restarted by Ray and its shard retried; anything still missing ends the run with an error
naming the count, never a silently smaller set.
"""
from __future__ import annotations

import math
import os
import pickle
import queue
import threading
import time
import warnings

import numpy as np

from ..errors import Cancelled, InputError
from ..features.extracted import FEATURE_DIM, Extracted, RunningFid
from ..features.stats import FeatureStore
from ..inputs.arrays import ArrayReader
from ..inputs.decode import reader_spec
from ..run.events import Message, Progress, Rate
from . import ExecutorError
from .cluster import connect, reachable
from .moments import RunningMoments, moments_to_stats
from .workers import KILL_ENV, InferenceActor, decode_prepare

# A shard's input is ~1.07 MB per image (3x299x299 float32) and its Σxxᵀ 32 MB whatever its
# size: 256 images keep an actor's batch near 275 MB and the moments near 12% of the traffic.
MAX_SHARD = 256
# A dying actor is restarted and its shard retried this many times; a crash that repeats
# (e.g. out of memory on every try) then ends the run with Ray's reason instead of looping.
MAX_RESTARTS = 3
# While waiting for a shard, the head's GCS port is tried every CHECK_EVERY_S; closed for
# LOST_AFTER_S in a row, the run ends with an error (Ray itself would wait, or end the process).
CHECK_EVERY_S = 2.0
LOST_AFTER_S = float(os.environ.get("FID_STUDIO_RAY_LOST_AFTER_S", "30"))


def shard_size(n_files: int, batch_size: int, actors: int) -> int:
    """About four shards per actor (load balance, progress, retries), at least one batch,
    at most MAX_SHARD images."""
    return max(batch_size, min(MAX_SHARD, math.ceil(n_files / (4 * max(1, actors)))))


def _dataset(ray, source, preset, model, opts, info):
    files = source.files
    per_block = max(1, opts.batch_size)
    # names as bytes: file names that are not valid UTF-8 (surrogate escapes) survive Arrow
    rows = [{"pos": i, "name": name.encode("utf-8", "surrogateescape")} for i, name in enumerate(files)]
    ds = ray.data.from_items(rows, override_num_blocks=max(1, math.ceil(len(files) / per_block)))
    # on a one-core cluster the model actor and a decode task share the core (1 CPU each
    # would leave the decode tasks waiting for ever behind the actor)
    cpu_each = 1.0 if info.cpus >= 2 else 0.5
    ds = ds.map_batches(decode_prepare, batch_size=None, batch_format="numpy", num_cpus=cpu_each,
                        fn_kwargs={"spec": reader_spec(source), "preset": preset.name})
    model_bytes = None if info.single_host else ray.put(model.path.read_bytes())
    device = info.device(opts.device)
    gpus = 1.0 if device == "cuda" else 0.0
    actors = info.max_actors if gpus else info.max_cpu_actors
    shard = shard_size(len(files), opts.batch_size, actors)
    with warnings.catch_warnings():
        # Ray 2.60 marks max_restarts / max_task_retries as deprecated pass-through remote
        # arguments with no named replacement yet; they still apply (pinned version)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ds.map_batches(
            InferenceActor, batch_size=shard, batch_format="numpy",
            concurrency=(1, min(actors, math.ceil(len(files) / shard))),
            num_gpus=gpus, num_cpus=0 if gpus else cpu_each,
            max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS,
            fn_constructor_kwargs={"model_path": str(model.path), "model_sha256": model.sha256,
                                   "model_bytes": model_bytes, "device": device,
                                   "threads": 0 if gpus else 1, "batch_size": opts.batch_size,
                                   "kill_after": os.environ.get(KILL_ENV)})


class _Shards:
    """Builds and iterates the dataset in a helper thread, so the caller can poll the cancel
    token and watch the head while a shard is on its way (every Ray call may block while the
    cluster is gone); closing stops the Ray execution."""

    _END = object()

    def __init__(self, make_dataset, gcs: str | None = None):
        self.q: queue.Queue = queue.Queue(maxsize=4)
        self.stop = threading.Event()
        self.gcs = gcs if gcs and ":" in gcs else None
        self._checked, self._down_since = time.monotonic(), None
        self.thread = threading.Thread(target=self._pump, args=(make_dataset,), name="ray-shards",
                                       daemon=True)
        self.thread.start()

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _pump(self, make_dataset):
        it = None
        try:
            it = iter(make_dataset().iter_rows())
            for row in it:
                if not self._put(row["shard"]):
                    break
            self._put(self._END)
        except BaseException as exc:  # handed to the caller's thread
            self._put(exc)
        finally:
            close = getattr(it, "close", None)
            if close:
                close()

    def next(self, cancel):
        while True:
            cancel.check()
            try:
                item = self.q.get(timeout=0.2)
            except queue.Empty:
                if not self.thread.is_alive() and self.q.empty():
                    raise ExecutorError("the Ray result stream ended without its final marker")
                self._watch_head()
                continue
            if item is self._END:
                return None
            if isinstance(item, BaseException):
                raise item
            return pickle.loads(item)

    def _watch_head(self) -> None:
        now = time.monotonic()
        if self.gcs is None or now - self._checked < CHECK_EVERY_S:
            return
        self._checked = now
        if reachable(self.gcs):
            self._down_since = None
        elif self._down_since is None:
            self._down_since = now
        elif now - self._down_since >= LOST_AFTER_S:
            raise ExecutorError(f"lost the Ray cluster: its head ({self.gcs}) has not answered for "
                                f"{LOST_AFTER_S:g} s; the run was stopped and no score was computed")

    def close(self):
        self.stop.set()


def _summary(exc: BaseException) -> str:
    # Ray's errors carry the remote traceback; its last line names the cause
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"


class _ByPosition:
    """A float32 (n_files, dim) array indexed by position, in a file when the run has a work
    folder (else in memory, the engine's last resort); ``compact`` writes the rows of the
    readable images, in input order, to a FeatureStore (memory stays flat with a folder)."""

    def __init__(self, path, n: int, dim: int):
        self.path, self.dim = path, dim
        if path is None:
            self.rows = np.zeros((max(1, n), dim), np.float32)
            return
        with open(path, "wb") as fh:
            fh.truncate(max(1, n) * dim * 4)
        self.rows = np.memmap(path, np.float32, "r+", shape=(max(1, n), dim))

    def compact(self, order, out_path) -> FeatureStore:
        store = FeatureStore(out_path, self.dim)
        for a in range(0, len(order), 4096):
            store.append(self.rows[order[a:a + 4096]])
        store.close()
        del self.rows
        if self.path is not None:
            os.remove(self.path)
        return store


def _in(workdir, name):
    return workdir / name if workdir is not None else None


def extract_into(workdir, source, preset, model, opts, role, index, emit, cancel, ref_stats) -> Extracted:
    """Ray counterpart of the local ``_extract_into``: the same result, which ``extract``
    then caches as it caches a local one."""
    if source.kind == "array" and source.array.compressed:
        # each Ray task would inflate the member from its start to reach its own images
        raise InputError(f"{source.label}: a compressed .npz member (np.savez_compressed) is read "
                         "forward only and cannot be shared out to Ray workers; use --executor local "
                         "(threads or --decode-processes), or save the images with np.savez")
    info = connect(opts.ray_address)
    running = RunningFid(ref_stats, opts.live_fid_budget)
    ray = __import__("ray")
    files = source.files
    total = len(files) + len(source.refused)
    rate = Rate(total)
    seen = np.zeros(len(files), bool)
    ok = np.zeros(len(files), bool)
    problems, notes = {}, {}
    feats_by_pos = _ByPosition(_in(workdir, "features_by_position.f32"), len(files), FEATURE_DIM)
    logits_by_pos = None
    moments = RunningMoments(FEATURE_DIM)
    skipped_new = list(source.refused)
    done = len(source.refused)
    n_shards, nodes = 0, set()
    shards = (_Shards(lambda: _dataset(ray, source, preset, model, opts, info), info.address)
              if files else None)
    try:
        while shards is not None:
            try:
                shard = shards.next(cancel)
            except (Cancelled, ExecutorError, InputError):
                raise
            except Exception as exc:  # Ray's own errors (task/actor failures, lost nodes)
                raise ExecutorError(f"the Ray run failed: {_summary(exc)}") from None
            if shard is None:
                break
            pos = shard["pos"]
            if seen[pos].any():
                if seen[pos].all():
                    continue   # a retried shard delivered twice: already counted
                raise ExecutorError("a Ray shard overlapped others partially; the run was stopped")
            seen[pos] = True
            good = pos[shard["ok"]]
            ok[good] = True
            feats_by_pos.rows[good] = shard["features"]
            if shard["logits"] is not None:
                if logits_by_pos is None:
                    logits_by_pos = _ByPosition(_in(workdir, "logits_by_position.f32"), len(files),
                                                shard["logits"].shape[1])
                logits_by_pos.rows[good] = shard["logits"]
            for p, problem, note in zip(pos, shard["problem"], shard["note"]):
                if problem:
                    problems[int(p)] = problem
                    skipped_new.append((files[p], problem))
                elif note:
                    notes[int(p)] = note
            moments.add(shard["n"], shard["sum"], shard["sum_outer"])
            n_shards += 1
            nodes.add(shard["node"])
            done += len(pos)
            images_per_s, eta = rate(done)
            fid_now = running.maybe(moments, moments.n) if moments.n >= 2 else None
            emit(Progress(role, index, "features", done, total, images_per_s, eta, fid_now,
                          moments.n, tuple(skipped_new)))
            skipped_new = []
    finally:
        if shards is not None:
            shards.close()
    cancel.check()
    if source.kind == "array":    # a stored .npz member's CRC, before its numbers are used
        ArrayReader(source.array).finish()
    missing = int((~seen).sum())
    if missing:
        raise ExecutorError(f"{missing} of {len(files)} image(s) never came back from the Ray workers "
                            "(a worker failed and was not recovered); nothing was computed")
    order = np.flatnonzero(ok)
    if moments.n != len(order):
        raise ExecutorError(f"Ray moments count {moments.n} differs from the {len(order)} features received")
    if len(order) < 2:
        raise InputError(f"{source.label}: fewer than 2 readable images "
                         f"({total - len(order)} file(s) could not be used)")
    feats = feats_by_pos.compact(order, _in(workdir, "features.f32"))
    logit_store = logits_by_pos.compact(order, _in(workdir, "logits.f32")) if logits_by_pos else None
    stats = moments_to_stats(moments.n, moments.total, moments.outer)
    running.maybe(moments, moments.n, final=True)
    emit(Progress(role, index, "features", done, total, *rate(done), running.value, moments.n, ()))
    emit(Message(f"{source.label}: {n_shards} shard(s) merged from {len(nodes)} Ray node(s)"))
    ok_files = [files[p] for p in order]
    skipped = list(source.refused) + [(files[p], problems[p]) for p in sorted(problems)]
    note_list = [(files[p], notes[p]) for p in sorted(notes)]
    return Extracted(feats.n, ok_files, skipped, note_list, stats, feats.open(),
                     logit_store.open() if logit_store else None, final_fid=running.final)
