import threading
import time
from contextlib import closing

from engine.features.ordered_pool import ordered_map


def test_order_kept_and_items_in_flight_bounded():
    lock = threading.Lock()
    state = {"started": 0, "consumed": 0, "max_ahead": 0}

    def work(i):
        with lock:
            state["started"] += 1
            state["max_ahead"] = max(state["max_ahead"], state["started"] - state["consumed"])
        time.sleep(0.001 * (i % 3))  # finish out of order
        return i * i

    out = []
    for v in ordered_map(work, range(200), workers=4, depth=8):
        with lock:
            state["consumed"] += 1
        out.append(v)
    assert out == [i * i for i in range(200)]
    assert state["max_ahead"] <= 8 + 1  # memory bound: never more than depth results ahead


def test_closing_early_stops_submitting():
    started = []

    def work(i):
        started.append(i)
        return i

    with closing(ordered_map(work, range(10_000), workers=2, depth=4)) as it:
        for v in it:
            if v == 3:
                break
    assert len(started) < 20
