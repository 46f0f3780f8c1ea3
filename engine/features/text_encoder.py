"""A CLIP text tower's ONNX session: token ids (N, 77) int64 in, ``features`` (N, D) out, run in
batches on the device the image models use (same session rules: inference.open_session)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import CancelToken, ModelError
from .inference import file_sha256, open_session


class TextEncoder:
    def __init__(self, path, device: str = "auto", build_hint: str = "python main.py model add clip-vitl14"):
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"text encoder not found: {self.path}. Add it with `{build_hint}`.")
        self.sha256 = file_sha256(self.path)
        # float32 always: the option ``precision`` is about the image models' convolutions
        self.session, self.device = open_session(self.path, device, build_hint=build_hint)
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        if inputs != ["tokens"] or "features" not in outputs:
            raise ModelError(f"{self.path} is not a CLIP text encoder (inputs {inputs}, outputs {outputs}); "
                             f"rebuild it with `{build_hint}`")

    def encode(self, ids: np.ndarray, batch_size: int = 64, cancel: CancelToken | None = None) -> np.ndarray:
        """(N, D) float32 features of the token rows ``ids``, ``batch_size`` rows a call."""
        ids = np.ascontiguousarray(ids, np.int64)
        out = []
        for s in range(0, len(ids), batch_size):
            if cancel is not None:
                cancel.check()
            out.append(self.session.run(["features"], {"tokens": ids[s:s + batch_size]})[0])
        if not out:
            raise ValueError("no prompts to encode")
        return np.concatenate(out).astype(np.float32, copy=False)
