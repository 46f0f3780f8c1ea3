"""Running the session through IO binding with fixed host buffers per batch shape.

On CUDA the host buffers are page-locked ("pinned") when this ONNX Runtime can allocate them
(HOST_ACCESSIBLE memory of the CUDA device): copies to and from the GPU then run by DMA
without a staging copy. Where pinned memory cannot be had, ordinary (pageable) NumPy buffers
are bound and that is what ``describe()`` says. The same class runs on the CPU provider (the
tests use it there: the features must be bit-identical to ``session.run``).
"""
from __future__ import annotations

import ctypes

import numpy as np

MAX_SHAPES = 2   # the batch size and the last, partial batch


def _pinned_memory_info():
    """(memory info, None) for CUDA pinned host memory, or (None, why not)."""
    try:
        import onnxruntime as ort
        for dev in ort.get_ep_devices():
            if getattr(dev, "ep_name", "") == "CUDAExecutionProvider":
                info = dev.memory_info(ort.OrtDeviceMemoryType.HOST_ACCESSIBLE)
                if info is None:
                    return None, "the CUDA device offers no host-accessible memory"
                return info, None
        return None, "no CUDA device among ONNX Runtime's EP devices"
    except Exception as exc:  # older ORT without the EP-device API
        return None, f"pinned allocation API unavailable ({type(exc).__name__})"


class BoundRunner:
    def __init__(self, session, input_name: str, outputs: list, device: str):
        self.session = session
        self.input_name = input_name
        self.outputs = outputs
        self.device = device
        self._shapes = {o.name: o.shape for o in session.get_outputs()}
        self._entries: dict[int, tuple] = {}
        self.pinned_info, self.why_not_pinned = (_pinned_memory_info() if device == "cuda"
                                                 else (None, "CPU provider: no device copies"))
        self.pinned = False
        if self.pinned_info is not None:
            try:
                self._host((1, 4))
                self.pinned = True
            except Exception as exc:
                self.pinned_info, self.why_not_pinned = None, f"pinned allocation failed ({str(exc)[:80]})"

    def describe(self) -> str:
        if self.pinned:
            return "on, pinned host buffers for input and outputs"
        return f"on, pageable host buffers ({self.why_not_pinned})"

    def _host(self, shape):
        """(keep-alive object, numpy view) of a float32 host buffer."""
        if self.pinned_info is None:
            a = np.empty(shape, np.float32)
            return a, a
        import onnxruntime as ort
        ov = ort.OrtValue.ortvalue_from_shape_and_type(list(shape), np.float32, memory_info=self.pinned_info)
        count = int(np.prod(shape))
        buf = (ctypes.c_float * count).from_address(ov.data_ptr())
        return ov, np.ctypeslib.as_array(buf).reshape(shape)

    def _entry(self, n: int, item_shape):
        entry = self._entries.get(n)
        if entry is not None:
            return entry
        if len(self._entries) >= MAX_SHAPES:
            self._entries.pop(next(iter(self._entries)))
        io = self.session.io_binding()
        keep, views = [], []
        in_obj, in_view = self._host((n, *item_shape))
        self._bind(io, self.input_name, in_obj, in_view, is_input=True)
        keep.append(in_obj)
        for name in self.outputs:
            shape = [n] + [d if isinstance(d, int) else None for d in self._shapes[name][1:]]
            if None in shape:
                raise RuntimeError(f"output {name} has a symbolic inner shape {self._shapes[name]}")
            obj, view = self._host(tuple(shape))
            self._bind(io, name, obj, view, is_input=False)
            keep.append(obj)
            views.append(view)
        entry = self._entries[n] = (io, in_view, views, keep)
        return entry

    def _bind(self, io, name, obj, view, *, is_input):
        if obj is not view:  # an OrtValue in pinned memory
            (io.bind_ortvalue_input if is_input else io.bind_ortvalue_output)(name, obj)
        elif is_input:
            io.bind_cpu_input(name, view)
        else:
            io.bind_output(name, "cpu", 0, np.float32, list(view.shape), view.ctypes.data)

    def run(self, batch: np.ndarray) -> list:
        io, in_view, views, _ = self._entry(len(batch), batch.shape[1:])
        in_view[...] = batch
        self.session.run_with_iobinding(io)
        return [v.copy() for v in views]
