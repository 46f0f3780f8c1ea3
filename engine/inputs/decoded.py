"""One decoded image, or why it could not be used: what every reader of a source returns
(files and zip members in decode.py, uint8 arrays in arrays.py)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# images above this many pixels are refused unread (files and array images alike)
MAX_PIXELS = 100_000_000


@dataclass
class Decoded:
    name: str
    array: np.ndarray | None = None     # HxWx3 uint8
    problem: str | None = None          # why it could not be used
    note: str | None = None             # e.g. "16-bit scaled to 8-bit"
