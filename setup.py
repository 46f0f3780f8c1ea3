"""Build-time layout for `pip install .`: the repository's top-level folders become
sub-packages of the single installed package ``fid_studio``.

    fid_studio/          <- fid_studio/ (the public API)
    fid_studio/engine/   <- engine/        fid_studio/_main.py    <- main.py
    fid_studio/reports/  <- reports/       fid_studio/selftest.py <- selftest.py
    fid_studio/cli/      <- cli/
    fid_studio/gui/      <- gui/
    fid_studio/models/   <- models/

In the repository these run as top-level packages (``python main.py``, the tests and the
PyInstaller bundle import ``engine``, ``reports``, ``cli``, ``gui``, ``models``). Installed, those
generic names would collide with other projects, so the built copies get their cross-package imports
rewritten (``from engine.x import y`` -> ``from fid_studio.engine.x import y``), the way
vendoring tools rewrite vendored imports. engine/ itself uses relative imports. The build
fails on any import of these names that it does not know how to rewrite.
"""
import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
TOP_PACKAGES = ("engine", "reports", "cli", "gui", "models")
MAPPED = {**{top: f"fid_studio.{top}" for top in TOP_PACKAGES},
          "selftest": "fid_studio.selftest", "main": "fid_studio._main"}
NAMES = "|".join(MAPPED)
FROM_RE = re.compile(rf"^(\s*)from ({NAMES})((?:\.\w+)*) import ")
IMPORT_RE = re.compile(rf"^(\s*)import ({NAMES})((?:\.\w+)*)(\s+as\s+\w+)?(\s*(?:#.*)?)$")
SUSPECT_RE = re.compile(rf"^\s*(?:import|from)\s+({NAMES})\b|import_module\(\s*['\"]({NAMES})\b")


def rewrite_line(line: str) -> str:
    m = FROM_RE.match(line)
    if m:
        indent, top, rest = m.groups()
        return f"{indent}from {MAPPED[top]}{rest} import " + line[m.end():]
    body = line.rstrip("\r\n")
    m = IMPORT_RE.match(body)
    if m:
        indent, top, rest, alias, tail = m.groups()
        tail += line[len(body):]
        target = MAPPED[top]
        parent, _, leaf = target.rpartition(".")
        if alias:
            return f"{indent}import {target}{rest}{alias}{tail}"
        if rest:       # `import gui.app`: load it, and bind `gui` as the original did
            return f"{indent}import {target}{rest}; from {parent} import {leaf} as {top}{tail}"
        return f"{indent}from {parent} import {leaf} as {top}{tail}"
    if SUSPECT_RE.search(line):
        raise SystemExit(f"setup.py: cannot rewrite this import for the installed layout: {line.strip()}")
    return line


def rewrite_source(text: str) -> str:
    return "".join(rewrite_line(line) for line in text.splitlines(keepends=True))


class BuildPy(build_py):
    """Copies the mapped packages, then main.py / selftest.py and the self-test images,
    rewriting imports in every .py file of the built fid_studio package."""

    def run(self):
        super().run()
        pkg = Path(self.build_lib) / "fid_studio"
        shutil.copyfile(ROOT / "main.py", pkg / "_main.py")
        shutil.copyfile(ROOT / "selftest.py", pkg / "selftest.py")
        images = ROOT / "packaging" / "selftest_images"
        if images.is_dir():
            shutil.copytree(images, pkg / "packaging" / "selftest_images", dirs_exist_ok=True)
        for path in pkg.rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            new = rewrite_source(text)
            if new != text:
                path.write_text(new, encoding="utf-8")


def _packages():
    out = ["fid_studio"]
    for top in TOP_PACKAGES:
        for init in sorted((ROOT / top).rglob("__init__.py")):
            rel = init.parent.relative_to(ROOT).as_posix().replace("/", ".")
            out.append("fid_studio." + rel)
    return out + ["fid_studio.gui.resources"]      # icons (data only)


setup(
    packages=_packages(),
    package_dir={"fid_studio": "fid_studio", **{f"fid_studio.{top}": top for top in TOP_PACKAGES}},
    package_data={"fid_studio.gui.resources": ["*"]},
    cmdclass={"build_py": BuildPy},
)
