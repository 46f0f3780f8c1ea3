"""The TF inception-2015-12-05 network ("FID Inception") as data.

One table serves both weight layouts: each conv names its path in the TorchScript
``default_1.pt`` (under ``net.layers``) and its prefix in pytorch-fid's state dict.
Kernel sizes come from the weights; strides and paddings are written here and, for
``default_1.pt``, checked against the ``stride``/``padding`` attributes stored in the
archive (read from its code and pickle: see weights.TorchScriptWeights).

Quirks of the TF graph that FID depends on (pytorch-fid's FIDInception* patches):
3x3 average pools exclude the padding from the mean (count_include_pad=0), and the last
block (mixed_10 / Mixed_7c) uses a max pool in its pool branch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Conv:
    """conv (no bias) + batch norm (eps 1e-3) + ReLU."""

    ts: str  # module path in default_1.pt, relative to net.layers
    fid: str  # pytorch-fid / torchvision state-dict prefix
    stride: int = 1
    pad: tuple[int, int] = (0, 0)  # (height, width), symmetric


@dataclass(frozen=True)
class Pool:
    kind: str  # "max" or "avg"
    kernel: int
    stride: int
    pad: int
    ts: str  # module path in default_1.pt, to check the pool type there


@dataclass(frozen=True)
class Fork:
    """Convs applied to the same input; their outputs join the block's concat in order."""

    convs: tuple[Conv, ...]


def _a(ts: str, fid: str) -> tuple:
    return (
        (Conv(f"{ts}.conv", f"{fid}.branch1x1"),),
        (Conv(f"{ts}.tower.conv", f"{fid}.branch5x5_1"),
         Conv(f"{ts}.tower.conv_1", f"{fid}.branch5x5_2", pad=(2, 2))),
        (Conv(f"{ts}.tower_1.conv", f"{fid}.branch3x3dbl_1"),
         Conv(f"{ts}.tower_1.conv_1", f"{fid}.branch3x3dbl_2", pad=(1, 1)),
         Conv(f"{ts}.tower_1.conv_2", f"{fid}.branch3x3dbl_3", pad=(1, 1))),
        (Pool("avg", 3, 1, 1, f"{ts}.tower_2.pool"),
         Conv(f"{ts}.tower_2.conv", f"{fid}.branch_pool")),
    )


def _b(ts: str, fid: str) -> tuple:
    return (
        (Conv(f"{ts}.conv", f"{fid}.branch3x3", stride=2),),
        (Conv(f"{ts}.tower.conv", f"{fid}.branch3x3dbl_1"),
         Conv(f"{ts}.tower.conv_1", f"{fid}.branch3x3dbl_2", pad=(1, 1)),
         Conv(f"{ts}.tower.conv_2", f"{fid}.branch3x3dbl_3", stride=2)),
        (Pool("max", 3, 2, 0, f"{ts}.pool"),),
    )


def _c(ts: str, fid: str) -> tuple:
    return (
        (Conv(f"{ts}.conv", f"{fid}.branch1x1"),),
        (Conv(f"{ts}.tower.conv", f"{fid}.branch7x7_1"),
         Conv(f"{ts}.tower.conv_1", f"{fid}.branch7x7_2", pad=(0, 3)),
         Conv(f"{ts}.tower.conv_2", f"{fid}.branch7x7_3", pad=(3, 0))),
        (Conv(f"{ts}.tower_1.conv", f"{fid}.branch7x7dbl_1"),
         Conv(f"{ts}.tower_1.conv_1", f"{fid}.branch7x7dbl_2", pad=(3, 0)),
         Conv(f"{ts}.tower_1.conv_2", f"{fid}.branch7x7dbl_3", pad=(0, 3)),
         Conv(f"{ts}.tower_1.conv_3", f"{fid}.branch7x7dbl_4", pad=(3, 0)),
         Conv(f"{ts}.tower_1.conv_4", f"{fid}.branch7x7dbl_5", pad=(0, 3))),
        (Pool("avg", 3, 1, 1, f"{ts}.tower_2.pool"),
         Conv(f"{ts}.tower_2.conv", f"{fid}.branch_pool")),
    )


def _d(ts: str, fid: str) -> tuple:
    return (
        (Conv(f"{ts}.tower.conv", f"{fid}.branch3x3_1"),
         Conv(f"{ts}.tower.conv_1", f"{fid}.branch3x3_2", stride=2)),
        (Conv(f"{ts}.tower_1.conv", f"{fid}.branch7x7x3_1"),
         Conv(f"{ts}.tower_1.conv_1", f"{fid}.branch7x7x3_2", pad=(0, 3)),
         Conv(f"{ts}.tower_1.conv_2", f"{fid}.branch7x7x3_3", pad=(3, 0)),
         Conv(f"{ts}.tower_1.conv_3", f"{fid}.branch7x7x3_4", stride=2)),
        (Pool("max", 3, 2, 0, f"{ts}.pool"),),
    )


def _e(ts: str, fid: str, pool_kind: str) -> tuple:
    return (
        (Conv(f"{ts}.conv", f"{fid}.branch1x1"),),
        (Conv(f"{ts}.tower_conv", f"{fid}.branch3x3_1"),
         Fork((Conv(f"{ts}.tower_mixed_conv", f"{fid}.branch3x3_2a", pad=(0, 1)),
               Conv(f"{ts}.tower_mixed_conv_1", f"{fid}.branch3x3_2b", pad=(1, 0))))),
        (Conv(f"{ts}.tower_1_conv", f"{fid}.branch3x3dbl_1"),
         Conv(f"{ts}.tower_1_conv_1", f"{fid}.branch3x3dbl_2", pad=(1, 1)),
         Fork((Conv(f"{ts}.tower_1_mixed_conv", f"{fid}.branch3x3dbl_3a", pad=(0, 1)),
               Conv(f"{ts}.tower_1_mixed_conv_1", f"{fid}.branch3x3dbl_3b", pad=(1, 0))))),
        (Pool(pool_kind, 3, 1, 1, f"{ts}.tower_2_pool"),
         Conv(f"{ts}.tower_2_conv", f"{fid}.branch_pool")),
    )


# The stem: a plain sequence. 299 -> 149 -> 147 -> 147 -> 73 -> 73 -> 71 -> 35.
STEM = (
    Conv("conv", "Conv2d_1a_3x3", stride=2),
    Conv("conv_1", "Conv2d_2a_3x3"),
    Conv("conv_2", "Conv2d_2b_3x3", pad=(1, 1)),
    Pool("max", 3, 2, 0, "pool0"),
    Conv("conv_3", "Conv2d_3b_1x1"),
    Conv("conv_4", "Conv2d_4a_3x3"),
    Pool("max", 3, 2, 0, "pool1"),
)

# (name for graph nodes, branches). Each block's outputs are concatenated on channels.
BLOCKS = (
    ("Mixed_5b", _a("mixed", "Mixed_5b")),
    ("Mixed_5c", _a("mixed_1", "Mixed_5c")),
    ("Mixed_5d", _a("mixed_2", "Mixed_5d")),
    ("Mixed_6a", _b("mixed_3", "Mixed_6a")),
    ("Mixed_6b", _c("mixed_4", "Mixed_6b")),
    ("Mixed_6c", _c("mixed_5", "Mixed_6c")),
    ("Mixed_6d", _c("mixed_6", "Mixed_6d")),
    ("Mixed_6e", _c("mixed_7", "Mixed_6e")),
    ("Mixed_7a", _d("mixed_8", "Mixed_7a")),
    ("Mixed_7b", _e("mixed_9", "Mixed_7b", "avg")),
    ("Mixed_7c", _e("mixed_10", "Mixed_7c", "max")),  # the TF quirk: max pool here
)

# 8x8 map -> pool3 (2048 features).
FINAL_POOL = Pool("avg", 8, 8, 0, "pool2")

BN_EPS = 1e-3
NUM_FEATURES = 2048
NUM_CLASSES = 1008  # TF's 1008-way head in the pytorch-fid weights
IMAGE_SIZE = 299


def all_convs() -> list[Conv]:
    """Every conv of the network in graph order (94 of them)."""
    out: list[Conv] = [s for s in STEM if isinstance(s, Conv)]
    for _, branches in BLOCKS:
        for branch in branches:
            for step in branch:
                if isinstance(step, Conv):
                    out.append(step)
                elif isinstance(step, Fork):
                    out.extend(step.convs)
    return out
