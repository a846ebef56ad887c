"""Errors a person can act on: one line saying what, where, and what to do."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


class SheetsyncError(Exception):
    """Base of every error sheetsync raises for bad input; the CLI prints it on one line.

    Where they are known, the error also says where as fields: the `file`, the sheet's `row`
    and `column` (its header text, or a file's key), and the `rule` broken."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike[str] | None = None,
        row: int | None = None,
        column: str | None = None,
        rule: str | None = None,
    ):
        super().__init__(message)
        self.file = Path(file) if file is not None else None
        self.row = row
        self.column = column
        self.rule = rule


class UsageError(SheetsyncError):
    """The command was called wrongly (bad option value, unknown name): exit code 2."""

    exit_code = 2


class ConfigError(SheetsyncError):
    """sheetsync.yaml or the layout is missing, malformed or inconsistent."""

    exit_code = 2


class RunError(SheetsyncError):
    """A run folder is missing, or a file in it is malformed; the message names the file."""


class SheetError(SheetsyncError):
    """The sheet itself is inconsistent (mangled header, duplicate run id); names row/column."""


class BaselineError(SheetsyncError):
    """An unknown, ambiguous or malformed dated baseline."""


class BackendError(SheetsyncError):
    """The sheet could not be read or written (file locked, API failure after retries)."""


class StaleSheet(Exception):
    """The sheet changed between read and write; the engine re-reads and re-plans.

    Not a SheetsyncError: it never reaches a person unless re-planning keeps failing.
    """


class FitError(SheetsyncError):
    """A ladder that cannot support the requested scaling-law fit."""


class WouldDrop(BackendError):
    """Saving the workbook through openpyxl would drop what a person made in it (text boxes,
    chart styles, ...); refused unless forced."""


def file_error(error: type[Exception], file: str | os.PathLike[str], message: str) -> Exception:
    """`error(message)` about `file`: with it as its `file` field when it is a SheetsyncError
    (the readers take the error class to raise from their callers)."""
    if issubclass(error, SheetsyncError):
        return error(message, file=file)
    return error(message)


@contextlib.contextmanager
def about(file: str | os.PathLike[str]) -> Iterator[None]:
    """An error raised inside that names no `file` is about this one (a config's errors all
    are: its text already says so, its `file` field says it too)."""
    try:
        yield
    except SheetsyncError as exc:
        if exc.file is None:
            exc.file = Path(file)
        raise
