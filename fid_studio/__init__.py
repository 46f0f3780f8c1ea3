"""FID Studio's Python API: FID / KID / IS / precision-recall against a fixed reference,
from inside a training loop, with the numbers ``fid-studio compute`` gives.

    import fid_studio
    ev = fid_studio.Evaluator("data/real", preset="clean", metrics=("fid", "kid"))
    scores = ev.score(samples_uint8_nhwc)      # or N×3×H×W, batches, a folder / .zip / .npz
    ev.log(step, scores, run="exp1")           # the desktop app's History draws the curve

Stable names: ``Evaluator``, ``Scores``, ``PRESETS``, ``METRICS``, ``__version__``,
``FidStudioError`` (and its subclasses ``InputError``, ``OptionError``, ``ModelError``).
"""
from engine import __version__
from engine.api import API_METRICS as METRICS
from engine.api import Evaluator, Scores, ensure_model
from engine.errors import FidStudioError, InputError, ModelError, OptionError
from engine.features.presets import PRESETS as _PRESETS

PRESETS = tuple(_PRESETS)

__all__ = ["Evaluator", "FidStudioError", "InputError", "METRICS", "ModelError", "OptionError",
           "PRESETS", "Scores", "__version__", "ensure_model"]
