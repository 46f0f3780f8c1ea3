"""What runs on the Ray workers: decode + preprocess (CPU tasks) and the model (actors).

Both reuse the local pipeline's pieces (``inputs.decode``, ``features.presets``,
``features.inference``) so a Ray run computes exactly what a local run computes.
"""
from __future__ import annotations

import os
import pickle
import tempfile

import numpy as np

from ..features.presets import INPUT_SIZE, get_preset
from ..inputs.decode import reader_from_spec
from .moments import shard_moments

# Test hook: "K:MARKER" makes an inference actor exit abruptly after K batches, once per
# marker file (the restarted actor finds the marker and carries on); "K:" makes every actor
# exit after K batches (a crash that repeats, so the run must end with an error).
KILL_ENV = "FID_STUDIO_RAY_KILL_AFTER"


def decode_prepare(batch: dict, *, spec: tuple, preset: str) -> dict:
    """Rows {pos, name} -> {pos, x (k,3,299,299) float32, problem, note}; failed rows hold
    zeros and their reason (the actor skips them, the driver records them). ``spec``
    (``inputs.decode.reader_spec``) says how the source is read: folder, zip or array."""
    read = reader_from_spec(spec)
    prepare = get_preset(preset).prepare
    names = [bytes(n).decode("utf-8", "surrogateescape") for n in batch["name"]]
    x = np.zeros((len(names), 3, INPUT_SIZE, INPUT_SIZE), np.float32)
    problems, notes = [], []
    for i, name in enumerate(names):
        d = read(name)
        if d.array is not None:
            x[i] = prepare(d.array)
        problems.append(d.problem or "")
        notes.append(d.note or "")
    return {"pos": np.asarray(batch["pos"], np.int64), "x": x,
            "problem": np.array(problems, dtype=object), "note": np.array(notes, dtype=object)}


def _local_model_file(path: str, sha256: str, model_bytes) -> str:
    from ..features.inference import file_sha256
    if os.path.isfile(path) and file_sha256(path) == sha256:
        return path
    if model_bytes is None:
        raise RuntimeError(f"model {path} with SHA-256 {sha256[:12]}… is not on this node")
    fd, tmp = tempfile.mkstemp(prefix="fid_inception_", suffix=".onnx")
    with os.fdopen(fd, "wb") as fh:
        fh.write(model_bytes)
    return tmp


class InferenceActor:
    """Holds one ONNX Runtime session; each call handles one shard: features in sub-batches
    of ``batch_size``, plus the shard's float64 moments, returned as one pickled row."""

    def __init__(self, model_path: str, model_sha256: str, model_bytes, device: str,
                 threads: int, batch_size: int, kill_after: str | None = None):
        from ..features.inference import InferenceModel
        local = _local_model_file(model_path, model_sha256, model_bytes)
        self.model = InferenceModel(local, device, threads)
        if self.model.sha256 != model_sha256:
            raise RuntimeError("the model on this node differs from the driver's")
        import ray
        self.node = ray.get_runtime_context().get_node_id()
        self.batch_size = batch_size
        self.calls = 0
        self.kill_after, self.kill_marker = None, None
        if kill_after:
            k, _, marker = kill_after.partition(":")
            self.kill_after, self.kill_marker = int(k), marker

    def _maybe_die(self) -> None:
        if self.kill_after is None or self.calls < self.kill_after:
            return
        if not self.kill_marker:
            os._exit(17)
        try:
            os.close(os.open(self.kill_marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os._exit(17)

    def __call__(self, batch: dict) -> dict:
        self._maybe_die()
        problem = [str(p) for p in batch["problem"]]
        ok = np.array([not p for p in problem], bool)
        x = batch["x"][ok]
        feats, logits = [], []
        for i in range(0, len(x), self.batch_size):
            f, lg = self.model.run(x[i:i + self.batch_size])
            feats.append(f)
            if lg is not None:
                logits.append(lg)
        f = np.concatenate(feats) if feats else np.zeros((0, 2048), np.float32)
        n, total, outer = shard_moments(f)
        self.calls += 1
        payload = {"pos": np.asarray(batch["pos"], np.int64), "ok": ok, "problem": problem,
                   "note": [str(s) for s in batch["note"]], "features": f,
                   "logits": np.concatenate(logits) if logits else None,
                   "n": n, "sum": total, "sum_outer": outer,
                   "device": self.model.device.device, "node": self.node}
        return {"shard": np.array([pickle.dumps(payload, protocol=5)], dtype=object)}
