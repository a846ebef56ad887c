"""Mutation testing of the modules the sheet's truth rests on: one mutant per line.

Each line of a module that holds something to mutate gets one mutant, the first of (in this
order): a comparison shifted by one or negated (`<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=`,
`in` <-> `not in`, `is` <-> `is not`), `and` <-> `or`, an arithmetic operator swapped (`+`
<-> `-`, `*` <-> `/`, `**` -> `*`), a returned boolean flipped, a number constant changed
(n -> n + 1) or a boolean constant flipped, a `not` removed. Docstrings, strings and
annotations are left alone.

Each mutant is run against the tests that call the module (`-x`: the first failure kills it;
a run slower than five times the unmutated one, at least 30 s, counts as killed: a loop the
mutant made endless);
a survivor is run again against a wider set (the tests that reach the module through a
command), and what still survives is listed with its line, for a person to judge whether it is
equivalent (the same behaviour written another way) or a hole in the tests.

    python tools/mutate.py sheetsync/sheet/plan.py        # one module, its default tests
    python tools/mutate.py --all                          # the four modules of the issue
    python tools/mutate.py MODULE --tests tests/test_x.py  # other tests

A module outside the table below is run against the test files that import it (found by text).

The tree is copied to a scratch folder; the worktree is never touched.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> (the tests that call it, the wider tests a survivor is tried against)
TESTS: dict[str, tuple[list[str], list[str]]] = {
    "sheetsync/sheet/plan.py": (
        ["tests/test_plan.py", "tests/test_plan_edges.py"],
        ["tests/test_engine_both.py", "tests/test_xlsx_sync.py", "tests/test_checks.py"],
    ),
    "sheetsync/records/runs.py": (
        ["tests/test_runs.py", "tests/test_runs_edges.py"],
        ["tests/test_runlog.py", "tests/test_bad_inputs.py", "tests/test_hostile_input.py"],
    ),
    "sheetsync/science/gain.py": (
        ["tests/test_scaling.py", "tests/test_gain_edges.py", "tests/test_verdicts.py"],
        ["tests/test_gain_colours.py", "tests/test_fits_report.py", "tests/test_floor.py"],
    ),
    "sheetsync/science/trend.py": (
        ["tests/test_scaling.py", "tests/test_trend_edges.py", "tests/test_verdicts.py"],
        ["tests/test_fits_report.py"],
    ),
}

COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
ARITH = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.Pow: ast.Mult,
}


@dataclass(frozen=True)
class Mutant:
    line: int
    kind: str
    original: str  # the source of the mutated node
    mutated: str  # what it became
    source: str  # the whole module with the mutant in it


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """Ids of nodes not to mutate: docstrings, annotations, `TYPE_CHECKING` blocks."""
    out: set[int] = set()

    def drop(node: ast.AST | None) -> None:
        if node is not None:
            out.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(getattr(first.value, "value", None), str):
            drop(first)
        if isinstance(node, ast.AnnAssign):
            drop(node.annotation)
        if isinstance(node, ast.arg):
            drop(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            drop(node.returns)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:  # declarations (`frozen=True`), not logic
                drop(decorator)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            drop(node)
    return out


def _candidates(tree: ast.Module) -> list[tuple[int, int, int, ast.AST, str]]:
    """(line, priority, column, node, kind) of every mutable node."""
    skipped = _skipped_nodes(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped or not hasattr(node, "lineno"):
            continue
        kind, rank = None, 9
        if isinstance(node, ast.Compare) and type(node.ops[0]) in COMPARE:
            kind, rank = "comparison", 0
        elif isinstance(node, ast.BoolOp):
            kind, rank = "and/or", 1
        elif isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in ARITH:
            kind, rank = "arithmetic", 2
        elif (
            isinstance(node, ast.Return)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, bool)
        ):
            kind, rank = "returned boolean", 3
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            kind, rank = "constant", 4
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            kind, rank = "not removed", 5
        if kind is not None:
            found.append((node.lineno, rank, node.col_offset, node, kind))
    return found


def _mutate(node: ast.AST) -> ast.AST:
    """A mutated copy of `node` (one operator or value changed)."""
    import copy

    new = copy.deepcopy(node)
    if isinstance(new, ast.Compare):
        new.ops[0] = COMPARE[type(new.ops[0])]()
    elif isinstance(new, ast.BoolOp):
        new.op = ast.Or() if isinstance(new.op, ast.And) else ast.And()
    elif isinstance(new, ast.BinOp | ast.AugAssign):
        new.op = ARITH[type(new.op)]()
    elif isinstance(new, ast.Return):
        new.value = ast.Constant(not new.value.value)  # type: ignore[union-attr]
    elif isinstance(new, ast.Constant):
        value = new.value
        new.value = (not value) if isinstance(value, bool) else value + 1
    elif isinstance(new, ast.UnaryOp):
        return new.operand
    return new


def _offsets(source: str) -> list[int]:
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line.encode("utf-8")))
    return starts


def mutants(path: Path) -> list[Mutant]:
    """One mutant for each line that holds something to mutate."""
    source = path.read_text(encoding="utf-8")
    data = source.encode("utf-8")
    starts = _offsets(source)
    tree = ast.parse(source)
    best: dict[int, tuple[int, int, ast.AST, str]] = {}
    for line, rank, col, node, kind in _candidates(tree):
        if line not in best or (rank, col) < best[line][:2]:
            best[line] = (rank, col, node, kind)
    out = []
    for line in sorted(best):
        _, _, node, kind = best[line]
        a = starts[node.lineno - 1] + node.col_offset
        b = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[operator]
        before = data[a:b].decode("utf-8")
        after = ast.unparse(_mutate(node))
        if not isinstance(node, ast.Return | ast.AugAssign | ast.Constant):
            after = f"({after})"
        text = (data[:a] + after.encode("utf-8") + data[b:]).decode("utf-8")
        try:
            compile(text, str(path), "exec")
        except SyntaxError:
            continue
        out.append(Mutant(line, kind, " ".join(before.split()), after, text))
    return out


def importers(module: str) -> list[str]:
    """The test files that import `module` (by its dotted name, or `from package import name`)."""
    dotted = module.removesuffix(".py").replace("/", ".")
    package, _, name = dotted.rpartition(".")
    found = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if dotted in text or f"from {package} import {name}" in text:
            found.append(str(path.relative_to(ROOT)))
    return found


def _run(tree: Path, tests: list[str], timeout: float, show: bool = False) -> bool:
    """Whether the tests pass (a mutant survives) in the scratch tree; `show`: print the end
    of pytest's output when they do not."""
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    present = [t for t in tests if (tree / t).exists()]
    if not present:
        return True
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p"]
    cmd += ["no:cacheprovider", *present]
    try:
        done = subprocess.run(
            cmd, cwd=tree, env=env, capture_output=True, timeout=timeout, preexec_fn=_interruptible
        )
    except subprocess.TimeoutExpired:
        if show:
            print(f"  {' '.join(present)}: over {timeout:.0f} s", flush=True)
        return False  # a mutant that hangs the tests is caught by them
    if show and done.returncode:
        print(done.stdout.decode(errors="replace")[-3000:], flush=True)
    return done.returncode == 0


def _interruptible() -> None:
    """SIGINT back to its default in the tests: a shell's background job (`&`) ignores it, and
    children inherit that, so a test that interrupts a trainer would wait forever."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _scratch() -> Path:
    tree = Path(tempfile.mkdtemp(prefix="sheetsync-mutants-"))
    for name in ("sheetsync", "tests", "templates", "docs", "examples", "benchmarks"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, tree / name)
    return tree


def run_module(module: str, tests: list[str], wider: list[str], timeout: float) -> dict:
    tree = _scratch()
    target = tree / module
    original = target.read_text(encoding="utf-8")
    found = mutants(ROOT / module)
    survivors = []
    started = time.monotonic()
    try:
        limits = []
        for selection in (tests, wider):
            began = time.monotonic()
            if not _run(tree, selection, timeout, show=True):
                raise SystemExit(f"{module}: the tests fail without a mutant; fix them first")
            limits.append(max(30.0, 5 * (time.monotonic() - began)))
        for i, mutant in enumerate(found, 1):
            target.write_text(mutant.source, encoding="utf-8")
            alive = _run(tree, tests, limits[0]) and _run(tree, wider, limits[1])
            mark = "SURVIVED" if alive else "killed"
            print(f"  [{i}/{len(found)}] line {mutant.line} {mutant.kind}: {mark}", flush=True)
            if alive:
                survivors.append(mutant)
    finally:
        target.write_text(original, encoding="utf-8")
        shutil.rmtree(tree, ignore_errors=True)
    killed = len(found) - len(survivors)
    return {
        "module": module,
        "mutants": len(found),
        "killed": killed,
        "share": killed / len(found) if found else 1.0,
        "seconds": round(time.monotonic() - started),
        "survivors": [
            {"line": m.line, "kind": m.kind, "from": m.original, "to": m.mutated} for m in survivors
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="module paths (default with --all: four)")
    parser.add_argument("--all", action="store_true", help="the four modules of the issue")
    parser.add_argument("--tests", nargs="*", help="tests to run instead of the defaults")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds for the unmutated test run"
    )
    args = parser.parse_args()
    modules = list(TESTS) if args.all else args.modules
    if not modules:
        parser.error("name a module or pass --all")
    for module in modules:
        if args.list:
            for m in mutants(ROOT / module):
                print(f"{module}:{m.line} {m.kind}: {m.original} -> {m.mutated}")
            continue
        tests, wider = TESTS.get(module, (importers(module), []))
        if args.tests:
            tests, wider = args.tests, []
        print(f"{module}: {len(mutants(ROOT / module))} mutants", flush=True)
        report = run_module(module, tests, wider, args.timeout)
        print(
            f"{module}: {report['killed']}/{report['mutants']} killed "
            f"({100 * report['share']:.0f}%), {report['seconds']} s"
        )
        for s in report["survivors"]:
            print(f"  survivor line {s['line']} ({s['kind']}): {s['from']}  ->  {s['to']}")


if __name__ == "__main__":
    main()
