"""The layers only point down: no import cycles inside engine/ and models/, and no import
from a lower layer up into a higher one.

The graph is read from the source with ``ast`` (nothing is imported): every Import and
ImportFrom node anywhere in a module, function-level ones included, since a late import
that closes a cycle still ties the two modules together. Relative imports are resolved;
``from pkg import name`` points at ``pkg.name`` when that is a module, else at ``pkg``.
``importlib.import_module("...")`` / ``__import__("...")`` with a literal name count too.
"""
from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

SCANNED = ("engine", "models")

# Top-level names each layer must never import (the layers above it).
FORBIDDEN = {
    "engine": {"gui", "reports", "cli", "main", "selftest"},
    "models": {"engine", "gui", "reports", "cli", "main", "selftest"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for top in SCANNED for p in sorted((ROOT / top).rglob("*.py"))}


def _package_of(name: str, path: Path) -> str:
    """The package a relative import in this module is relative to."""
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _literal_import_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            continue
        f = node.func
        called = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
        if called in ("import_module", "__import__"):
            yield node.args[0].value, node.lineno


def imports_of(name: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement in the module at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(name, path)
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub if sub in known else target, node.lineno))
    out += list(_literal_import_calls(tree))
    return out


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: first line}, for every module under SCANNED."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for target, line in imports_of(name, path, known):
            edges.setdefault(target, line)
        graph[name] = edges
    return graph


def find_cycles(graph: dict[str, dict[str, int]]) -> list[tuple[list[str], list[str]]]:
    """(cycle, component) per strongly connected component of more than one module (or a
    module importing itself): the cycle is a path that starts and ends at the same module,
    the component every module tied into it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def inner(v: str) -> list[str]:
        return [w for w in graph[v] if w in graph]

    # Tarjan's algorithm, iterative (recursion depth would follow the import depth).
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(inner(root)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(inner(w))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in graph[v]:
                    components.append(sorted(comp))
    return [(_cycle_in(graph, comp), comp) for comp in sorted(components)]


def _cycle_in(graph: dict[str, dict[str, int]], comp: list[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first search)."""
    members, start = set(comp), comp[0]
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [*reversed(path), start]
                if w in members and w not in parent:
                    parent[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle found in component {comp}")


def _describe(graph, cycle: list[str]) -> str:
    return " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])) \
        + f" -> {cycle[-1]}"


def test_scanner_resolves_relative_late_and_dynamic_imports(tmp_path):
    src = tmp_path / "inner.py"
    src.write_text("from . import cache as c\n"
                   "from ..errors import InputError\n"
                   "import numpy\n"
                   "def late():\n"
                   "    from ..run.options import X\n"
                   "    import importlib\n"
                   "    importlib.import_module('engine.inputs.decode')\n")
    known = {"engine.features.cache", "engine.errors", "engine.run.options"}
    got = imports_of("engine.features.inner", src, known)
    assert got == [("engine.features.cache", 1), ("engine.errors", 2), ("numpy", 3),
                   ("engine.run.options", 5), ("importlib", 6), ("engine.inputs.decode", 7)]
    init = tmp_path / "__init__.py"
    init.write_text("from .build import build\nfrom . import helper\n")
    assert imports_of("models", init, {"models.build", "models.helper"}) == [
        ("models.build", 1), ("models.helper", 2)]


def test_find_cycles_reports_the_path():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}, "e": {"e": 5}}
    cycles = find_cycles(graph)
    assert cycles == [(["a", "b", "c", "a"], ["a", "b", "c"]), (["e", "e"], ["e"])]
    assert _describe(graph, ["a", "b", "c", "a"]) == "a (line 1) -> b (line 2) -> c (line 3) -> a"


def test_no_import_cycles():
    graph = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(
        f"{_describe(graph, c)}\n    (tied together: {', '.join(comp)})" for c, comp in cycles)


def test_no_upward_imports():
    graph = import_graph()
    found = []
    for module, edges in sorted(graph.items()):
        banned = FORBIDDEN[module.split(".")[0]]
        found += [f"{module} line {line} imports {target}" for target, line in sorted(edges.items())
                  if target.split(".")[0] in banned]
    assert not found, "imports up the layers:\n" + "\n".join(found)


def test_shared_model_code_imports_no_network():
    # models/common, paths, registry and errors serve every network: a network's package
    # (any other subpackage of models/) sits above them, so adding one edits none of them
    graph = import_graph()
    networks = {p.parent.name for p in (ROOT / "models").glob("*/__init__.py")} - {"common"}
    assert "inception" in networks
    shared = [m for m in graph if m.split(".")[1:2] in (["common"], ["paths"], ["registry"], ["errors"])]
    found = [f"{m} line {line} imports {t}" for m in sorted(shared)
             for t, line in sorted(graph[m].items())
             if t.startswith("models.") and t.split(".")[1] in networks]
    assert shared and not found, "\n".join(found)
