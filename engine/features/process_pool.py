"""Decode + preprocessing in worker processes, images handed over in shared memory.

The thread pool is the default: Pillow and the sparse resize release the GIL for ~90% of the
work (bench/decode_scaling.py), enough for a few cores. On a many-core GPU host the remaining
~10% caps threads well below the core count, so ``decode_processes`` runs the same per-file
work in processes. Each in-flight image owns one slot of a shared-memory ring (3x299x299
float32); a worker writes the preprocessed image into its slot and returns only the small
per-file record. The consumer copies a slot out before the slot is given to the next file,
so results arrive in file order with at most ``depth`` images in flight, as with threads.
"""
from __future__ import annotations

import collections
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory

import numpy as np

SHAPE = (3, 299, 299)

_state = {}


def _init(shm_name, depth, source_kind, source_path, preset_name):
    from ..inputs.decode import FolderReader, ZipReader
    from .presets import get_preset
    shm = shared_memory.SharedMemory(name=shm_name)
    _state.update(shm=shm, ring=np.ndarray((depth, *SHAPE), np.float32, buffer=shm.buf),
                  read=(ZipReader if source_kind == "zip" else FolderReader)(source_path),
                  prepare=get_preset(preset_name).prepare)


def _work(name, slot):
    d = _state["read"](name)
    if d.array is None:
        return d, False
    x = _state["prepare"](d.array)
    if x.shape != SHAPE:
        raise ValueError(f"preprocessed shape {x.shape}, expected {SHAPE}")
    _state["ring"][slot] = x
    d.array = None  # the pixels stay here; only the record travels back
    return d, True


def ordered_decode(source, preset_name, *, workers: int, depth: int):
    """Yield (Decoded, preprocessed array or None) in file order, like the thread pipeline."""
    shm = shared_memory.SharedMemory(create=True, size=int(depth * np.prod(SHAPE) * 4))
    ring = np.ndarray((depth, *SHAPE), np.float32, buffer=shm.buf)
    ctx = mp.get_context("spawn")  # no fork of a process that holds ONNX Runtime threads
    window = collections.deque()
    it = iter(enumerate(source.files))
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init,
                                 initargs=(shm.name, depth, source.kind, str(source.path), preset_name)) as pool:
            def fill():
                while len(window) < depth:
                    item = next(it, None)
                    if item is None:
                        return
                    i, name = item
                    window.append((i % depth, pool.submit(_work, name, i % depth)))
            try:
                fill()
                while window:
                    slot, fut = window.popleft()
                    decoded, ok = fut.result()
                    x = ring[slot].copy() if ok else None  # copy out before the slot is reused
                    fill()
                    yield decoded, x
            finally:
                for _, fut in window:
                    fut.cancel()
    finally:
        del ring
        shm.close()
        shm.unlink()
