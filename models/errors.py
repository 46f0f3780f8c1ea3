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


def check_weights_file(path, expected: str = "pt_inception-2015-12-05-6726825d.pth", *,
                       size_range: tuple[int, int] | None = None, flag: str = "--weights") -> None:
    """The checks a weights file the user named must pass before it is hashed or read, each
    refusal one ModelBuildError line: it exists, is a file (a folder is said to be a folder:
    opening it would only say 'no such file' or 'is a directory'), can be read, and, with
    ``size_range`` (lowest, highest bytes), has a plausible size. ``expected`` names the file
    the user should give."""
    import os
    if os.path.isdir(path):
        raise ModelBuildError(f"{flag} {path} is a folder, not a weights file: give the path of "
                              f"the .pth file itself ({expected})")
    if not os.path.isfile(path):
        raise ModelBuildError(f"{flag}: no such file {path}")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise ModelBuildError(f"{flag}: cannot read {path} ({exc.strerror or exc})") from None
    if size_range is not None:
        lo, hi = size_range
        size = os.path.getsize(path)
        if not lo <= size <= hi:
            hint = "truncated (an interrupted download?)" if size < lo else "too large"
            raise WeightsFormatError(
                f"{os.path.basename(path)} is {size:,} bytes; {expected} takes {lo:,}–{hi:,} "
                f"bytes: the file is {hint} or not those weights")
