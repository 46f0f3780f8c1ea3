"""FID Studio engine: sources -> decode -> preset preprocessing -> ONNX Inception -> metrics.

No Qt here: the GUI and the command line both drive this package.
"""
APP_NAME = "FID Studio"
APP_ID = "fid-studio"
__version__ = "0.1.0"
