"""The package's layout: no import cycles, and flags are parsed in srgan/cli.py alone.

The import graph is read from the source with ``ast`` (nothing is imported), counting
imports inside functions too: a lazy import still ties two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names an ``import`` or ``from ... import`` statement may load."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: from the package that holds ``module``
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""])
    else:
        base = node.module or ""
    base = base.rstrip(".")
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def import_graph(package: Path) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}`` for every ``.py`` under ``package``.

    ``from a.b import c`` counts as importing ``a.b.c`` when that is a module of the package,
    else ``a.b``; a dotted name that is no module counts as its longest module prefix.
    """
    root = package.parent
    paths = {_module_name(p, root): p for p in sorted(package.rglob("*.py"))}
    graph = {}
    for module, path in paths.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            names = _imported(node, module, path.name == "__init__.py")
            base, members = names[0], names[1:]
            if isinstance(node, ast.ImportFrom):
                modules = [m for m in members if m in paths]
                names = modules if len(modules) == len(members) else modules + [base]
            for name in names:
                while name and name not in paths:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    found.add(name)
        graph[module] = found
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle ``[a, b, ..., a]`` of ``graph``, or ``[]`` when there is none."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return []


def test_no_module_of_srgan_imports_one_that_imports_it_back():
    graph = import_graph(ROOT / "srgan")
    assert "srgan.cli" in graph and "srgan.training.run" in graph["srgan.cli"]
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


def _top_level(module: str) -> str:
    """``srgan.inference.upscale`` -> ``srgan.inference``; ``srgan.cli`` stays itself."""
    return ".".join(module.split(".")[:2])


def test_no_folder_of_srgan_imports_one_that_imports_it_back():
    """The same one level up, so the layers stay one-way: data and models under inference,
    inference under evaluation (which runs the upscaler), evaluation under training."""
    graph: dict[str, set[str]] = {}
    for module, imported in import_graph(ROOT / "srgan").items():
        graph.setdefault(_top_level(module), set()).update(
            _top_level(m) for m in imported if _top_level(m) != _top_level(module))
    assert "srgan.inference" in graph["srgan.evaluation"]
    cycle = find_cycle(graph)
    assert not cycle, "import cycle between folders: " + " -> ".join(cycle)


def test_the_cycle_check_sees_a_cycle_through_a_lazy_import(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.sub import b\n")
    (package / "sub" / "b.py").write_text("from . import c\n")
    (package / "sub" / "c.py").write_text("def f():\n    from pkg import a\n")
    graph = import_graph(package)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.sub.c"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.sub.c", "pkg.a"]
    (package / "sub" / "c.py").write_text("import json\n")
    assert find_cycle(import_graph(package)) == []


def test_only_cli_parses_flags():
    """Domain code takes frozen dataclasses; argparse lives in srgan/cli.py."""
    users = []
    for path in sorted((ROOT / "srgan").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.split(".")[0] == "argparse" for name in names):
                users.append(str(path.relative_to(ROOT)))
    assert set(users) == {"srgan/cli.py"}, f"argparse imported by {sorted(set(users))}"


def _code_outside_tests() -> list[Path]:
    """Every ``.py`` of the product, the scripts, the benchmarks and the entry points."""
    return sorted([p for folder in ("srgan", "scripts", "benchmarks")
                   for p in (ROOT / folder).rglob("*.py")] + list(ROOT.glob("*.py")))


def test_nothing_patches_sys_path_or_imports_the_tests():
    """Code runs installed, or from a clone as ``python -m scripts.NAME``: no file edits
    ``sys.path``, and none imports from tests/ (conftest and its helpers)."""
    tests = {p.stem for p in (ROOT / "tests").glob("*.py")} | {"tests"}
    offenders = []
    for path in _code_outside_tests():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "path" and isinstance(
                    node.value, ast.Name) and node.value.id == "sys":
                offenders.append(f"{path.relative_to(ROOT)}: sys.path")
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(ROOT)}: imports {name}" for name in names
                          if name.split(".")[0] in tests]
    assert not offenders, offenders
