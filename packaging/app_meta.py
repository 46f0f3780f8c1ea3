"""APP_NAME, APP_ID and __version__ from engine/__init__.py, read without importing engine.

    python packaging/app_meta.py      -> APP_NAME='FID Studio' APP_ID=... VERSION=... (for sh eval)
pyinstaller.spec imports read_meta(); the shell scripts eval this module's output.
"""
from __future__ import annotations

import ast
import shlex
from pathlib import Path

INIT = Path(__file__).resolve().parent.parent / "engine" / "__init__.py"


def read_meta(path: Path = INIT) -> dict:
    values = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return {"APP_NAME": values["APP_NAME"], "APP_ID": values["APP_ID"], "VERSION": values["__version__"]}


if __name__ == "__main__":
    print("\n".join(f"{k}={shlex.quote(v)}" for k, v in read_meta().items()))
