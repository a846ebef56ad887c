"""The package's layers: imports flow one way (records -> science -> project -> sheet -> views
-> cli), and no module imports itself back through another."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "sheetsync"

# Lowest first. A module may import its own layer and the layers below it, never above.
LAYERS: list[tuple[str, ...]] = [
    ("sheetsync.errors", "sheetsync.vocab"),
    ("sheetsync.records",),
    ("sheetsync.science",),
    ("sheetsync.layout", "sheetsync.project"),
    ("sheetsync.sheet",),
    ("sheetsync.views",),
    ("sheetsync.api", "sheetsync.demo_project", "sheetsync.demo_wandb"),
    ("sheetsync.cli", "sheetsync.__main__", "sheetsync"),
]
MAX_LINES = 420


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every sheetsync module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sheetsync"):
            found.add(node.module)
            for alias in node.names:  # `from sheetsync.sheet import backends`
                found.add(f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("sheetsync"))
    known = _modules()
    return {name for name in found if name in known}


def _layer(module: str) -> int:
    best, rank = -1, None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank is not None, f"{module} belongs to no layer: add it to LAYERS"
    return rank


def test_every_module_belongs_to_a_layer_and_imports_only_downwards():
    upward = []
    for name, path in _modules().items():
        for target in _imports(path):
            if _layer(target) > _layer(name):
                upward.append(f"{name} imports {target}")
    assert upward == []


def test_no_import_cycles_between_modules():
    graph = {name: _imports(path) - {name} for name, path in _modules().items()}
    # a package's __init__ importing its own submodules is not a cycle of ideas
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_the_library_never_imports_click_or_prints():
    offenders = []
    for name, path in _modules().items():
        if name in ("sheetsync.cli", "sheetsync.__main__"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = (
                    [node.module]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                )
                if any(m and m.split(".")[0] == "click" for m in mods):
                    offenders.append(f"{name} imports click")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                offenders.append(f"{name} prints (line {node.lineno})")
    assert offenders == []


def test_no_module_holds_more_than_one_idea():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text().splitlines())) > MAX_LINES and name != "sheetsync.cli"
    }
    assert long == {}


def test_a_wrong_way_import_is_caught(tmp_path):
    """The checker itself: a records module importing the sheet layer is reported."""
    assert _layer("sheetsync.records.runs") < _layer("sheetsync.sheet.plan")
    assert _layer("sheetsync.sheet.backends.local") == _layer("sheetsync.sheet")
    bad = tmp_path / "bad.py"
    bad.write_text("from sheetsync.sheet.plan import Plan\n")
    assert "sheetsync.sheet.plan" in _imports(bad)


def test_the_cli_imports_only_the_public_api_and_click():
    """Every command is a thin call of what a notebook can call: cli.py imports click, the
    standard library and names exported at the package root, nothing below it."""
    import sys

    import sheetsync

    offenders = []
    for name in ("sheetsync.cli", "sheetsync.__main__"):
        for node in ast.walk(ast.parse(_modules()[name].read_text())):
            if isinstance(node, ast.ImportFrom):
                mods, names = [node.module or ""], [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                mods, names = [a.name for a in node.names], []
            else:
                continue
            for mod in mods:
                top = mod.split(".")[0]
                if mod == "sheetsync":
                    offenders += [f"{name}: {n}" for n in names if n not in sheetsync.__all__]
                elif mod == "sheetsync.cli" and name == "sheetsync.__main__":
                    continue
                elif top != "click" and top not in sys.stdlib_module_names and mod != "__future__":
                    offenders.append(f"{name} imports {mod}")
    assert offenders == []
