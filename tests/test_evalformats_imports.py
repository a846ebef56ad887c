"""The format readers stand on their own: they import nothing of sheetsync but its errors and
its words (vocab, which imports nothing of sheetsync), so they can move as a unit and a notebook
can use them alone."""

from __future__ import annotations

import ast
from pathlib import Path

import sheetsync.records.evalformats

FOLDER = Path(sheetsync.records.evalformats.__file__).parent


def test_evalformats_imports_only_errors_bounded_reading_and_itself():
    for path in sorted(FOLDER.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("sheetsync"):
                    assert name in (
                        "sheetsync.errors",
                        "sheetsync.vocab",
                        "sheetsync.records.files",
                    ) or (name.startswith("sheetsync.records.evalformats")), (
                        f"{path.name} imports {name}"
                    )
