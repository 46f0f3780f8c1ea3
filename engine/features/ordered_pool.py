"""In-order parallel map with a bounded number of items in flight.

Decoding runs in worker threads (Pillow, NumPy and SciPy release the GIL) while the caller
consumes results in input order; at most ``depth`` results exist at once, so memory stays
flat however many files a source holds. Closing the generator (``with closing(...)``, or the
caller raising) cancels what has not started and waits for what has.
"""
from __future__ import annotations

import collections
from concurrent.futures import ThreadPoolExecutor


def ordered_map(fn, items, *, workers: int, depth: int, name: str = "worker"):
    window = collections.deque()
    it = iter(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name) as pool:
        def fill():
            while len(window) < depth:
                item = next(it, _END)
                if item is _END:
                    return
                window.append(pool.submit(fn, item))
        try:
            fill()
            while window:
                result = window.popleft().result()
                fill()
                yield result
        finally:
            for fut in window:
                fut.cancel()


_END = object()
