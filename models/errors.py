"""Errors raised while obtaining weights and building the ONNX model.

Each message says what went wrong and what the user can do about it; callers (CLI, GUI,
engine) show the message as it is.
"""


class ModelBuildError(Exception):
    """Building the FID Inception model failed for a reason the user can act on."""


class HashMismatchError(ModelBuildError, ValueError):
    """A downloaded or supplied file is not the file we expect (wrong SHA-256)."""


class UnsafePickleError(ModelBuildError, ValueError):
    """A weights file asks the unpickler for something a weights file never needs.

    Raised before anything from the file is executed: the restricted unpickler never
    imports the object it refuses.
    """


class WeightsFormatError(ModelBuildError, ValueError):
    """A weights file is damaged, of an unsupported format, or lacks expected tensors."""


class DownloadError(ModelBuildError):
    """A download failed (offline, HTTP error, a web page instead of the file, cut off)."""


class DownloadCancelled(ModelBuildError):
    """The user cancelled a download; nothing was kept."""


def check_weights_file(path) -> None:
    """A weights file the user named must be a file: a folder is said to be a folder (opening it
    would only say 'no such file' or 'is a directory')."""
    import os
    if os.path.isdir(path):
        raise ModelBuildError(f"--weights {path} is a folder, not a weights file: give the path of "
                              "the .pth file itself (pt_inception-2015-12-05-6726825d.pth)")
    if not os.path.isfile(path):
        raise ModelBuildError(f"--weights: no such file {path}")
