"""The product's words, defined once: cell values, roles, run states, check levels.

Every layer imports these; this module imports nothing of sheetsync's.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

Value = str | int | float | bool | None
"""A cell's value: text, a number, a boolean or None (empty). Dates are ISO text."""

Role = Literal["feature", "baseline", "ladder"]
ROLES: tuple[Role, ...] = get_args(Role)
BASELINE_ROLES: tuple[Role, ...] = ("baseline", "ladder")
"""A baseline's own runs: one size (`baseline`) or a scaling ladder (`ladder`)."""

RunState = Literal["running", "finished", "killed", "failed", "timeout", "diverged"]
STATES: tuple[RunState, ...] = get_args(RunState)
"""What a trainer may write as a run's `state` in progress.json."""

UNFINISHED = "unfinished"
"""The marker a computed cell shows instead of a number for a run that stopped early."""
DIVERGED = "diverged"
"""A run whose loss became NaN or infinite (or that says so): a result, never a number."""
STALLED = "stalled"
"""A run not finished that shows no sign of life for too long: unfinished for computed cells."""
ERROR = "error"
"""A run whose files could not be read: its status cell says `error: <file>: <what>`."""

Level = Literal["ok", "warn", "fail"]


def is_unfinished(status: str) -> bool:
    """Whether a run status says the run stopped before its planned steps or tokens (or
    stalled: went silent before them)."""
    return status.startswith((UNFINISHED, "stalled"))


def is_diverged(status: str) -> bool:
    """Whether a run status says its loss diverged (`diverged at step 2,113/5,722`)."""
    return status.startswith(DIVERGED)


def is_error(status: str) -> bool:
    """Whether a run status says its files could not be read (`error: <file>: <what>`)."""
    return status.startswith(ERROR + ":")


def marker(status: str) -> str | None:
    """The word a computed cell (loss, evals, eval average, gain) shows instead of a number:
    `diverged` for a diverged run, `unfinished` for one that stopped early or stalled; None
    for a run whose computed cells hold numbers (finished) or nothing yet."""
    if status.startswith(DIVERGED):
        return DIVERGED
    if status.startswith((UNFINISHED, STALLED)):
        return UNFINISHED
    return None


def is_empty(value: Value) -> bool:
    """An empty cell: None, or text that is only white space."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def finite(value: object) -> float | None:
    """A finite number as float, else None (booleans, text, NaN and infinities are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
