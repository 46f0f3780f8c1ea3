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
PRECISIONS = ("fp32", "tf32", "fp16")


def cuda_provider_options(precision: str = "fp32") -> dict:
    """Explicit CUDA provider options. ``use_tf32`` is off unless TF32 is asked for: ONNX
    Runtime may otherwise run float32 convolutions as TF32 on Ampere and newer GPUs (10-bit
    mantissa inputs), far outside the 1e-5 FID parity. Heuristic cuDNN algorithm choice gives
    the same kernels on every run (an exhaustive search may time its way to another)."""
    return {"device_id": "0", "use_tf32": "1" if precision == "tf32" else "0",
            "cudnn_conv_algo_search": "HEURISTIC", "do_copy_in_default_stream": "1"}
LOGITS = "logits_unbiased"  # the Inception Score head's output (no fc.bias)


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


def open_session(path, device: str = "auto", threads: int = 0, precision: str = "fp32",
                 build_hint: str = "python main.py model build"):
    """(ONNX Runtime session, DeviceChoice) for any model file: CUDA with the explicit provider
    options when available and asked for, else CPU, with ORT's own logging silenced. Every
    network (Inception, DINOv2, ...) opens its session here, so all run alike."""
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    so = ort.SessionOptions()
    so.log_severity_level = 4
    if threads:
        so.intra_op_num_threads = threads
    available = ort.get_available_providers()
    session, choice = None, None
    if device in ("auto", "cuda"):
        if CUDA in available:
            _preload_pip_cuda(ort)
            try:
                session = ort.InferenceSession(str(path), so,
                                               providers=[(CUDA, cuda_provider_options(precision)), CPU])
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
            session = ort.InferenceSession(str(path), so, providers=[CPU])
        except Exception as exc:
            raise ModelError(f"cannot load model {path}: {str(exc).splitlines()[0]}. "
                             f"Rebuild it with `{build_hint}`.") from None
        why = "as requested" if device == "cpu" else f"CUDA unavailable: {reason}"
        choice = DeviceChoice("cpu", f"Running on CPU ({why})")
    return session, choice


class InferenceModel:
    """Wraps an ORT session; ``run`` maps a normalised NCHW batch to (features, logits|None)."""

    def __init__(self, path, device: str = "auto", threads: int = 0, precision: str = "fp32",
                 io_binding: bool | None = None, build_hint: str = "python main.py model build"):
        if precision not in PRECISIONS:
            raise ModelError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"model file not found: {self.path}. Build it with `{build_hint}`.")
        self.precision = precision
        self.fp32_sha256 = file_sha256(self.path)
        if precision == "fp16":
            from models.common.fp16 import fp16_model_for
            try:
                self.path = fp16_model_for(self.path)
            except (OSError, ValueError) as exc:
                raise ModelError(f"cannot build the fp16 model: {exc}") from None
        self.sha256 = file_sha256(self.path)
        session, choice = open_session(self.path, device, threads, precision, build_hint)
        self.session = session
        self.device = choice
        self.input_name = session.get_inputs()[0].name
        outputs = [o.name for o in session.get_outputs()]
        if "features" not in outputs:
            raise ModelError(f"model {self.path} has no 'features' output (outputs: {outputs})")
        meta = session.get_modelmeta().custom_metadata_map
        # the unbiased head (pool3 · Wᵀ) is appended to an unchanged body: features cached
        # under the body's hash stay valid when the head is added
        self.body_sha256 = meta.get("body_sha256") or self.sha256
        self.has_logits = LOGITS in outputs
        self.has_spatial = SPATIAL in outputs
        self.head_sha256 = meta.get("is_head_sha256") if self.has_logits else None
        self.logits_note = None
        if not self.has_logits and "logits" in outputs:
            self.logits_note = ("this model's 'logits' include fc.bias, which the standard "
                                "Inception Score leaves out; rebuild the model and add the head again")
        self._outputs = ["features"] + ([LOGITS] if self.has_logits else [])
        self.provider_options = _applied_options(session)
        use_binding = (choice.device == "cuda") if io_binding is None else io_binding
        self._bound = None
        self.io_binding = "off (plain session.run)"
        if use_binding:
            from .io_binding import BoundRunner
            self._bound = BoundRunner(session, self.input_name, self._outputs, choice.device)
            self.io_binding = self._bound.describe()

    @property
    def cache_tag(self) -> str:
        """What besides the model file changes the numbers (part of the feature-cache key)."""
        return "+tf32" if self.precision == "tf32" and self.device.device == "cuda" else ""

    def precision_warning(self) -> str | None:
        from .precision import drift_warning
        return drift_warning(self.precision, self.device.device)

    def run(self, batch: np.ndarray):
        batch = np.ascontiguousarray(batch, np.float32)
        out = self._bound.run(batch) if self._bound is not None else \
            self.session.run(self._outputs, {self.input_name: batch})
        return out[0], (out[1] if self.has_logits else None)

    def run_outputs(self, batch: np.ndarray, spatial: bool = False) -> dict:
        """{"features", "logits" (the unbiased head, when present), SPATIAL (when asked)}: one pass."""
        batch = np.ascontiguousarray(batch, np.float32)
        if spatial and self.has_spatial:   # the bound runner binds features/logits only
            names = self._outputs + [SPATIAL]
            out = self.session.run(names, {self.input_name: batch})
        else:
            names = self._outputs
            out = self._bound.run(batch) if self._bound is not None else \
                self.session.run(names, {self.input_name: batch})
        got = dict(zip(names, out))
        res = {"features": got["features"]}
        if self.has_logits:
            res["logits"] = got[LOGITS]
        if SPATIAL in got:
            res[SPATIAL] = got[SPATIAL]
        return res

    def describe(self) -> dict:
        return {"path": str(self.path), "sha256": self.sha256, "body_sha256": self.body_sha256,
                "has_logits": self.has_logits, "is_head_sha256": self.head_sha256, "has_spatial": self.has_spatial,
                "precision": self.precision, "fp32_sha256": self.fp32_sha256,
                "provider_options": self.provider_options, "io_binding": self.io_binding}


def _applied_options(session) -> dict:
    """The options each provider of the session really runs with (read back, not assumed)."""
    try:
        opts = session.get_provider_options()
    except Exception:  # very old ORT builds lack it
        return {}
    keep = ("device_id", "use_tf32", "cudnn_conv_algo_search", "do_copy_in_default_stream",
            "gpu_mem_limit", "arena_extend_strategy", "cudnn_conv_use_max_workspace", "prefer_nhwc")
    return {p: ({k: v for k, v in o.items() if k in keep} if p == CUDA else dict(o)) for p, o in opts.items()}


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
