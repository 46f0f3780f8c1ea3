"""Running feature extraction on a Ray cluster (optional: needs the ``ray[data]`` package).

Ray Data reads the file list, decodes and preprocesses on CPU workers, runs the ONNX model in
an actor pool (GPU actors where the cluster has GPUs), and returns per-shard moments and
features; the driver merges the float64 sums and writes the features in input order, so
the numbers equal a local run. Ray is never imported unless this executor is chosen.
"""
from __future__ import annotations

from ..errors import FidStudioError

RAY_REQUIREMENT = "ray[data]==2.60.0"


class ExecutorError(FidStudioError):
    """The Ray executor cannot run (Ray missing, cluster unreachable, workers failing)."""


def require_ray():
    """The ``ray`` module, or an ExecutorError with a one-line message saying how to get it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the executor needs Ray Data, not only Ray core)
    except ImportError:
        raise ExecutorError(f"the Ray executor needs the optional package {RAY_REQUIREMENT} "
                            f"(pip install '{RAY_REQUIREMENT}'; it is not part of the standalone "
                            "app); or run with --executor local") from None
    return ray
