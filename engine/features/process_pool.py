"""Decode + preprocessing in worker processes, images handed over in shared memory.

The thread pool is the default: Pillow and the sparse resize release the GIL for ~90% of the
work (bench/decode_scaling.py), enough for a few cores. On a many-core GPU host the remaining
~10% caps threads well below the core count, so ``decode_processes`` runs the same per-file
work in processes. Each in-flight image owns one slot of a shared-memory ring (3x299x299
float32, or one such array per feature space when a run feeds several models); a worker writes
the preprocessed image into its slot and returns only the small per-file record. The consumer copies a slot out before the slot is given to the next file,
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


def _targets(preset_name) -> list:
    """[(space, convention)]: a preset name alone is Inception's."""
    return [("inception", preset_name)] if isinstance(preset_name, str) else list(preset_name)


def _shapes(targets) -> list:
    from .spaces import get_space
    return [(3, get_space(s).input_size, get_space(s).input_size) for s, _ in targets]


def _init(shm_name, depth, spec, preset_name):
    from ..inputs.decode import reader_from_spec
    from .spaces import get_space
    targets = _targets(preset_name)
    shapes = _shapes(targets)
    shm = shared_memory.SharedMemory(name=shm_name)
    width = sum(int(np.prod(s)) for s in shapes)
    _state.update(shm=shm, ring=np.ndarray((depth, width), np.float32, buffer=shm.buf),
                  read=reader_from_spec(spec) if spec is not None else None, shapes=shapes,
                  prepares=[get_space(s).convention(c).prepare for s, c in targets])


def _work(item, slot):
    # a name to read here, or an image the parent already read (array sources)
    d = _state["read"](item) if isinstance(item, str) else item
    if d.array is None:
        return d, False
    at = 0
    for prepare, shape in zip(_state["prepares"], _state["shapes"]):
        x = prepare(d.array)
        if x.shape != shape:
            raise ValueError(f"preprocessed shape {x.shape}, expected {shape}")
        size = x.size
        _state["ring"][slot, at:at + size] = x.ravel()
        at += size
    d.array = None  # the pixels stay here; only the record travels back
    return d, True


def _split(row, shapes) -> list:
    out, at = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(row[at:at + size].reshape(shape).copy())
        at += size
    return out


def ordered_decode(source, preset_name, *, workers: int, depth: int, read=None):
    """Yield (Decoded, preprocessed array or None) in file order, like the thread pipeline.
    ``preset_name`` may instead be a sequence of (space, convention) pairs: each image is
    then decoded once and preprocessed for each, and a list of arrays is yielded.

    Folders and zips are read by the workers. An image array is read here, in order, by
    ``read`` (the caller's reader, which checks the member as a whole) and its pixels sent
    to the workers: a compressed member inflates forward only, and only once."""
    from ..inputs.decode import reader_spec
    single = isinstance(preset_name, str)
    shapes = _shapes(_targets(preset_name))
    width = sum(int(np.prod(s)) for s in shapes)
    in_parent = source.kind == "array"
    spec = None if in_parent else reader_spec(source)
    shm = shared_memory.SharedMemory(create=True, size=int(depth * width * 4))
    ring = np.ndarray((depth, width), np.float32, buffer=shm.buf)
    ctx = mp.get_context("spawn")  # no fork of a process that holds ONNX Runtime threads
    window = collections.deque()
    it = iter(enumerate(source.files))
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init,
                                 initargs=(shm.name, depth, spec,
                                           preset_name if single else tuple(preset_name))) as pool:
            def fill():
                while len(window) < depth:
                    item = next(it, None)
                    if item is None:
                        return
                    i, name = item
                    task = read(name) if in_parent else name
                    window.append((i % depth, pool.submit(_work, task, i % depth)))
            try:
                fill()
                while window:
                    slot, fut = window.popleft()
                    decoded, ok = fut.result()
                    # copied out before the slot is reused
                    x = _split(ring[slot], shapes) if ok else None
                    x = x[0] if single and x is not None else x
                    fill()
                    yield decoded, x
            finally:
                for _, fut in window:
                    fut.cancel()
    finally:
        del ring
        shm.close()
        shm.unlink()
