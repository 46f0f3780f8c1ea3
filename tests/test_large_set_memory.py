"""Large sets keep the heap flat: centred copies go to a file-backed map and distance blocks
shrink with the set size; the numbers are those of the in-memory path."""
from __future__ import annotations

import numpy as np

from engine.metrics import pr_adm, prdc
from engine.per_image import scores


def _sets(n_real=300, n_fake=120, d=16):
    rng = np.random.default_rng(3)
    return rng.normal(size=(n_real, d)).astype(np.float32), rng.normal(0.3, 1.1, size=(n_fake, d)).astype(np.float32)


def test_block_rows_bounded_by_elements():
    assert prdc.block_rows(10_000, 1024) == 1024
    assert prdc.block_rows(1_000_000, 256) == (1 << 24) // 1_000_000
    assert prdc.block_rows(10**9, 256) == 8
    assert prdc.block_rows(1_000_000, 256) * 1_000_000 * 4 <= 64 << 20


def test_spilled_copies_are_file_backed_and_give_the_same_scores(monkeypatch):
    real, fake = _sets()
    in_memory = scores.compute(real, fake)
    pr_mem, prdc_mem = pr_adm.compute(real, fake), prdc.compute(real, fake)
    monkeypatch.setattr(prdc, "SPILL_BYTES", 1000)          # everything above 1 kB spills
    r_c, f_c = prdc.centred(real, fake)
    assert isinstance(r_c, np.memmap) and isinstance(f_c, np.memmap)
    spilled = scores.compute(real, fake)                   # same blocks: bit for bit the same
    for field in ("realism", "in_manifold", "nearest", "distance", "possible_copy"):
        np.testing.assert_array_equal(getattr(spilled, field), getattr(in_memory, field), err_msg=field)
    assert spilled.copy_threshold == in_memory.copy_threshold
    assert pr_adm.compute(real, fake) == pr_mem
    assert prdc.compute(real, fake) == prdc_mem
    monkeypatch.setattr(prdc, "BLOCK_ELEMENTS", 300 * 10)   # 10-row blocks against 300 columns
    assert prdc.block_rows(300, 256) == 10
    narrow = scores.compute(real, fake)                     # other GEMM shapes: float32 rounding only
    np.testing.assert_allclose(narrow.realism, in_memory.realism, rtol=1e-6)
    for field in ("in_manifold", "nearest", "distance", "possible_copy"):
        np.testing.assert_array_equal(getattr(narrow, field), getattr(in_memory, field), err_msg=field)
