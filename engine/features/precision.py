"""What a reduced precision costs, as measured, for the result's warnings and the README.

fp32 is the exact path (TF32 off on CUDA). The figures were measured by
bench/precision_drift.py on the parity fixtures (64 + 64 images, all three presets, on ONNX
Runtime's CPU float16 kernels, 2026-12-01); a GPU run of bench/gpu_check.py measures them on
CUDA kernels (bench/RESULTS-gpu.md).
"""
from __future__ import annotations

# relative FID change against fp32, and where it was measured
MEASURED_DRIFT = {
    "fp16": "measured 3.1e-4 to 3.7e-4 relative on the parity fixtures with the float16 model on "
            "the CPU (bench/precision_drift.py); on CUDA kernels: bench/gpu_check.py",
    "tf32": "not measured on a GPU yet (bench/gpu_check.py); TF32 rounds convolution inputs to the "
            "same 10-bit mantissa as float16, so expect a drift of the same order as fp16",
}


def drift_warning(precision: str, device: str) -> str | None:
    if precision == "fp32":
        return None
    if precision == "tf32" and device != "cuda":
        return "precision tf32 has no effect on the CPU: the run used exact fp32"
    return (f"precision {precision}: features are not exact float32, so FID drifts from the fp32 path "
            f"({MEASURED_DRIFT[precision]}); do not compare it with fp32 numbers at 1e-5")
