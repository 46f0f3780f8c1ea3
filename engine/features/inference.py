"""The ONNX Runtime session: CUDA when available and asked for, else CPU, said in one line.

onnxruntime-gpu lists the CUDA provider even where no GPU or CUDA libraries exist; creating
a session then logs a burst of errors and silently falls back. So ORT's own logging is
silenced, the providers the session really got are read back, and one line of ours says
which device runs and why.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import DeviceError, ModelError

# ONNX Runtime 1.2x+ builds for Linux/macOS carry Microsoft's 1DS telemetry: the first session
# writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime/deviceid (a persistent identifier) and
# an event database next to it. ``ort.disable_telemetry_events()`` comes too late for that
# (measured: the files still appear); the environment variable read when ORT creates its
# environment stops both. A user who wants telemetry can set ORT_DISABLE_TELEMETRY=0.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

SPATIAL = "mixed_6_conv"  # sFID's spatial features (N, 2023); models built before sFID lack it
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


@lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path) -> str:
    st = os.stat(path)
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


def _cuda_missing_reason() -> str:
    for lib in ("libcuda.so.1", "nvcuda.dll"):
        try:
            ctypes.CDLL(lib)
            break
        except OSError:
            continue
    else:
        return "no NVIDIA driver found"
    return "the CUDA provider could not start (CUDA 13 / cuDNN 9 libraries missing or GPU unusable)"


@dataclass
class DeviceChoice:
    device: str        # "cuda" | "cpu"
    line: str          # one human sentence: which provider runs and why


class InferenceModel:
    """Wraps an ORT session; ``run`` maps a normalised NCHW batch to (features, logits|None)."""

    def __init__(self, path, device: str = "auto", threads: int = 0):
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"model file not found: {self.path}. Build it with `python main.py model build`.")
        ort.set_default_logger_severity(4)
        so = ort.SessionOptions()
        so.log_severity_level = 4
        if threads:
            so.intra_op_num_threads = threads
        self.sha256 = file_sha256(self.path)
        available = ort.get_available_providers()
        session, choice = None, None
        if device in ("auto", "cuda"):
            if CUDA in available:
                _preload_pip_cuda(ort)
                try:
                    session = ort.InferenceSession(str(self.path), so, providers=[CUDA, CPU])
                except Exception as exc:  # ORT raises its own error types for provider failures
                    session = None
                    cuda_error = str(exc).splitlines()[0]
                else:
                    cuda_error = None
                if session is not None and session.get_providers()[0] == CUDA:
                    choice = DeviceChoice("cuda", f"Running on CUDA ({_gpu_name()})")
                else:
                    reason = cuda_error or _cuda_missing_reason()
                    session = None
            else:
                reason = "this onnxruntime build has no CUDA provider"
            if choice is None and device == "cuda":
                raise DeviceError(f"CUDA was requested but cannot be used: {reason}. "
                                  "Choose device 'auto' or 'cpu'.")
        if choice is None:
            try:
                session = ort.InferenceSession(str(self.path), so, providers=[CPU])
            except Exception as exc:
                raise ModelError(f"cannot load model {self.path}: {str(exc).splitlines()[0]}. "
                                 "Rebuild it with `python main.py model build`.") from None
            why = "as requested" if device == "cpu" else f"CUDA unavailable: {reason}"
            choice = DeviceChoice("cpu", f"Running on CPU ({why})")
        self.session = session
        self.device = choice
        self.input_name = session.get_inputs()[0].name
        outputs = [o.name for o in session.get_outputs()]
        if "features" not in outputs:
            raise ModelError(f"model {self.path} has no 'features' output (outputs: {outputs})")
        self.has_logits = "logits" in outputs
        self.has_spatial = SPATIAL in outputs
        self._outputs = ["features"] + (["logits"] if self.has_logits else [])

    def run(self, batch: np.ndarray):
        out = self.session.run(self._outputs, {self.input_name: np.ascontiguousarray(batch, np.float32)})
        return out[0], (out[1] if self.has_logits else None)

    def run_outputs(self, batch: np.ndarray, spatial: bool = False) -> dict:
        """{"features", "logits" (when the head exists), SPATIAL (when asked)}: one pass."""
        names = self._outputs + ([SPATIAL] if spatial and self.has_spatial else [])
        out = self.session.run(names, {self.input_name: np.ascontiguousarray(batch, np.float32)})
        return dict(zip(names, out))

    def describe(self) -> dict:
        return {"path": str(self.path), "sha256": self.sha256, "has_logits": self.has_logits,
                "has_spatial": self.has_spatial}


def _preload_pip_cuda(ort) -> None:
    """Load CUDA/cuDNN from the nvidia-* pip packages (onnxruntime-gpu[cuda,cudnn]) when they
    are installed: ORT does not find them on its own. Quiet when they are absent."""
    import contextlib
    import importlib.util
    import io
    if not hasattr(ort, "preload_dlls") or importlib.util.find_spec("nvidia") is None:
        return
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            ort.preload_dlls()
        except Exception:  # a partial CUDA install: session creation below reports it
            pass


def _gpu_name() -> str:
    try:
        import subprocess
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else "GPU"
    except (OSError, IndexError, Exception):
        return "GPU"
