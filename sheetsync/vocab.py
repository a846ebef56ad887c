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

RunState = Literal["running", "finished", "killed", "failed", "timeout"]
STATES: tuple[RunState, ...] = get_args(RunState)
"""What a trainer may write as a run's `state` in progress.json."""

UNFINISHED = "unfinished"
"""The marker a computed cell shows instead of a number for a run that stopped early."""

Level = Literal["ok", "warn", "fail"]


def is_unfinished(status: str) -> bool:
    """Whether a run status says the run stopped before its planned steps or tokens (or
    stalled: went silent before them)."""
    return status.startswith((UNFINISHED, "stalled"))


def finite(value: object) -> float | None:
    """A finite number as float, else None (booleans, text, NaN and infinities are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
