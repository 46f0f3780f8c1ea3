"""Size of a PyInstaller bundle by component (MB = 10^6 bytes), as a Markdown table.

    python packaging/bundle_sizes.py dist/fid-studio
"""
from __future__ import annotations

import os
import sys
from collections import defaultdict

GROUPS = (  # first match wins: (label, test on the path relative to the bundle)
    ("onnxruntime: CUDA provider", lambda p: "libonnxruntime_providers_cuda" in p),
    ("onnxruntime: core", lambda p: p.startswith("_internal/onnxruntime")),
    ("ONNX model", lambda p: p.startswith("_internal/models/")),
    ("Qt: ICU (needed by QtCore)", lambda p: "/libicu" in p and "PySide6" in p),
    ("Qt / PySide6", lambda p: p.startswith(("_internal/PySide6", "_internal/shiboken6"))),
    ("SciPy (+ its OpenBLAS)", lambda p: p.startswith("_internal/scipy")),
    ("NumPy (+ its OpenBLAS)", lambda p: p.startswith("_internal/numpy")),
    ("scikit-learn", lambda p: p.startswith("_internal/sklearn")),
    ("Pillow", lambda p: p.startswith(("_internal/PIL", "_internal/pillow.libs"))),
    ("pyqtgraph", lambda p: p.startswith("_internal/pyqtgraph")),
    ("Python runtime", lambda p: p.startswith(("_internal/libpython", "_internal/python3",
                                                "_internal/base_library.zip"))),
    ("launcher + pure-Python modules (PYZ)", lambda p: "/" not in p),
    ("other (Python support libs, data)", lambda p: True),
)


def sizes(root: str) -> dict:
    out = defaultdict(int)
    for d, _, files in os.walk(root):
        for f in files:
            full = os.path.join(d, f)
            if os.path.islink(full):
                continue
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            label = next(lbl for lbl, test in GROUPS if test(rel))
            out[label] += os.path.getsize(full)
    return out


def main(argv=None) -> int:
    root = (argv or sys.argv[1:] or ["dist/fid-studio"])[0]
    s = sizes(root)
    total = sum(s.values())
    print("| component | MB |\n|---|---:|")
    for label, size in sorted(s.items(), key=lambda kv: -kv[1]):
        print(f"| {label} | {size / 1e6:.1f} |")
    print(f"| **total** | **{total / 1e6:.1f}** ({total / 2**20:.0f} MiB) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
