"""Errors a user can act on, and the cancellation signal.

Every message names what was wrong and what to do about it; callers show it as is.
"""


class FidStudioError(Exception):
    """Base class: a problem the user can fix (bad path, bad option, missing model)."""


class InputError(FidStudioError):
    """A source cannot be used at all (missing folder, no images, unreadable archive)."""


class OptionError(FidStudioError, ValueError):
    """An option has an unknown name or an invalid value."""


class ModelError(FidStudioError):
    """The ONNX model is missing, corrupt, or lacks an output a metric needs."""


class DeviceError(FidStudioError):
    """The requested execution device cannot be used."""


class Cancelled(Exception):
    """Raised at a checkpoint after the user asked to stop; partial work is discarded."""


class CancelToken:
    """Thread-safe flag checked by the engine between batches."""

    def __init__(self):
        import threading
        self._event = threading.Event()

    def cancel(self):
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self):
        if self._event.is_set():
            raise Cancelled("run cancelled by the user")


class FeaturesGone(FidStudioError):
    """A stored run's features are no longer in the feature cache (they can be recomputed)."""
