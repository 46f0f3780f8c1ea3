"""engine/ is the bottom layer: it imports no Qt and nothing from the packages above it
(reports/, gui/, cli/, the fid_studio API, main.py, selftest.py), not even lazily."""
import ast
import subprocess
import sys

from conftest import ROOT

# Packages above the engine, and the GUI toolkits.
FORBIDDEN = ("gui", "reports", "cli", "fid_studio", "main", "selftest",
             "PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2")


def test_engine_imports_no_qt():
    # cli is imported too: the command line without --pdf must not load Qt either.
    code = ("import sys, engine.run.job, engine.features.pipeline, engine.outputs.history, engine.inputs.checkpoints, cli;"
            "bad=[m for m in sys.modules if m.split('.')[0] in ('PySide6','shiboken6','pyqtgraph','PyQt5','PyQt6')];"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, at any depth (inside
    functions too), relative ones resolved against ``module``; importlib.import_module and
    __import__ with a literal name count as imports. A relative import that climbs out of
    the top-level package is given as '..' + its target."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                out.append((node.lineno, node.module))
            elif node.level > len(package):
                out.append((node.lineno, ".." + (node.module or "")))
            else:
                base = package[:len(package) - node.level + 1]
                out.append((node.lineno, ".".join(base + ([node.module] if node.module else []))))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                out.append((node.lineno, node.args[0].value))
    return out


def forbidden_imports(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    return [(line, name) for line, name in imported_modules(source, module, is_package)
            if name.startswith("..") or name.split(".")[0] in FORBIDDEN]


def test_the_import_scan_sees_nested_relative_and_dynamic_imports():
    """The scan below is only as good as what it sees: lazy imports inside functions,
    relative imports that climb out of engine/, and import_module with a literal name."""
    source = ("import numpy\n"
              "from .atomic import atomic_path\n"
              "def f():\n"
              "    from gui.report import x\n"
              "    import PySide6.QtGui\n"
              "class C:\n"
              "    def g(self):\n"
              "        from ...reports import pdf\n"
              "        importlib.import_module('cli.commands')\n"
              "        from ..errors import OptionError\n")
    found = forbidden_imports(source, "engine.run.job")
    assert found == [(4, "gui.report"), (5, "PySide6.QtGui"), (8, "..reports"), (9, "cli.commands")]
    assert (10, "engine.errors") in imported_modules(source, "engine.run.job", False)
    assert imported_modules("from . import x", "engine", True) == [(1, "engine")]


def test_engine_imports_nothing_from_the_layers_above():
    files = sorted(p for p in (ROOT / "engine").rglob("*.py") if "__pycache__" not in p.parts)
    assert len(files) > 40, files          # the whole engine was scanned, not an empty folder
    bad, seen = [], 0
    for path in files:
        rel = path.relative_to(ROOT).with_suffix("")
        is_package = rel.name == "__init__"
        module = ".".join(rel.parts[:-1] if is_package else rel.parts)
        seen += len(imported_modules(path.read_text(encoding="utf-8"), module, is_package))
        bad += [f"{path.relative_to(ROOT)}:{line}: imports {name}"
                for line, name in forbidden_imports(path.read_text(encoding="utf-8"), module, is_package)]
    assert seen > 200, seen
    assert not bad, "engine/ must not import the layers above it or Qt:\n" + "\n".join(bad)
