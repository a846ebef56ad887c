"""Errors a person can act on: one line saying what, where, and what to do."""

from __future__ import annotations


class SheetsyncError(Exception):
    """Base of every error sheetsync raises for bad input; the CLI prints it on one line."""

    exit_code = 1


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
