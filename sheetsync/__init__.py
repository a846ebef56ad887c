"""sheetsync: keep a manually curated experiment spreadsheet honest and useful."""

from __future__ import annotations

from typing import Any

from sheetsync.errors import SheetsyncError

__version__ = "0.1.0"

__all__ = ["RunLog", "SheetsyncError", "__version__", "load_runs"]


def __getattr__(name: str) -> Any:
    if name == "load_runs":  # lazily: `import sheetsync` must not import pandas
        from sheetsync.views.rows import load_runs

        return load_runs
    if name == "RunLog":  # the writer for training scripts
        from sheetsync.records.runlog import RunLog

        return RunLog
    raise AttributeError(f"module 'sheetsync' has no attribute {name!r}")
