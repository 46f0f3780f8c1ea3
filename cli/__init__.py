"""Command line: ``compute``, ``stats`` and ``model build`` (main.py with no argument opens the GUI).

It sits on top: it imports engine/ (the work) and reports/ (``compute --pdf``); engine/
imports nothing from here.
"""
from .commands import main
from .parser import _options_from, build_parser

__all__ = ["_options_from", "build_parser", "main"]
