"""sheetsync: keep a manually curated experiment spreadsheet honest and useful.

The Python API (`sheetsync.open()`, `Experiments` and the values its calls return) is loaded
on first use: `import sheetsync` imports neither pandas nor the sheet backends.
"""

from __future__ import annotations

from typing import Any

from sheetsync.api import NAMES as _API  # the API's names only: nothing of it is loaded yet
from sheetsync.errors import (
    BackendError,
    BaselineError,
    ConfigError,
    FitError,
    RunError,
    SheetError,
    SheetsyncError,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    *_API,
    "BackendError",
    "BaselineError",
    "ConfigError",
    "FitError",
    "RunError",
    "RunLog",
    "SheetError",
    "SheetsyncError",
    "UsageError",
    "__version__",
    "load_runs",
]


def __getattr__(name: str) -> Any:
    if name in _API:  # lazily: `import sheetsync` must not import pandas or a backend
        from sheetsync import api

        return getattr(api, name)
    if name == "load_runs":
        from sheetsync.views.rows import load_runs

        return load_runs
    if name == "RunLog":  # the writer for training scripts
        from sheetsync.records.runlog import RunLog

        return RunLog
    raise AttributeError(f"module 'sheetsync' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
