"""One task's numbers from one file, with everything that makes them this result and not
another (task, metric and filter, shots, limit, model, seed); and what a run's scan found."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.vocab import finite

Value = float | tuple[float, ...]
FILTERED = ("lm-eval 0.4",)  # formats whose metric keys carry a filter (`acc,none`)


@dataclass(frozen=True, eq=False)
class Result:
    """A task's metrics from one file. `values` and `stderrs` are keyed `metric,filter`
    (`none` where the format has no filters); a value is a tuple when the file lists repeats.
    Results compare by identity: two files with the same numbers are still two results."""

    task: str
    values: Mapping[str, Value]
    stderrs: Mapping[str, float]
    source: Path
    when: float = 0.0
    checkpoint: str = ""  # the model as the file names it (model_args, model name or path)
    shots: int | None = None
    limit: float | None = None  # the per-task limit when the eval was cut short, else None
    samples: int | None = None  # documents evaluated
    seed: tuple[Any, ...] = ()
    primary: str | None = None  # the `metric,filter` the file's own task config puts first
    variant: str = ""  # the task as the file names it, where that says more (suite, regime)
    fmt: str = ""
    note: str = ""

    def names(self) -> tuple[str, ...]:
        return (self.task, self.variant) if self.variant else (self.task,)

    def written(self, key: str) -> str:
        """A `metric,filter` key as the file writes it: bare where the format has no filters."""
        if key.endswith(",none") and self.fmt not in FILTERED:
            return key[: -len(",none")]
        return key


@dataclass(frozen=True)
class Unused:
    """Something found in a run's eval files and not shown, with the reason."""

    source: Path
    task: str  # "" for a whole file
    reason: str


@dataclass
class Found:
    """Everything read from a run's eval files, before a column picks from it."""

    results: list[Result] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # task (or "*") -> one-line message
    error_when: dict[str, float] = field(default_factory=dict)  # task -> newest failing file
    skipped: list[Unused] = field(default_factory=list)  # files and results found, not used
    notices: list[str] = field(default_factory=list)  # worth saying at every sync
    ambiguous: str | None = None  # why no file's results can be the run's own

    def fail(self, task: str, message: str, when: float) -> None:
        """Keep the newest file's error per task, so it can outrank an older good value."""
        if task not in self.errors or when >= self.error_when.get(task, -math.inf):
            self.errors[task] = message
            self.error_when[task] = when


@dataclass
class Read:
    """What one reader made of one file: results, and broken tasks as (task, message)."""

    results: list[Result] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def task_metrics(
        self, task: str, entry: Any, where: str, skip: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Value], dict[str, float]] | None:
        """A task entry's values and stderrs (see `metrics`), or None with the problem kept:
        an entry that is not a mapping, or a metric that is not a number."""
        if not isinstance(entry, dict):
            self.problems.append((task, f"{where}: expected a mapping of metrics"))
            return None
        try:
            return metrics(entry, where, skip)
        except RunError as exc:
            self.problems.append((task, str(exc)))
            return None


def number(value: Any, where: str, key: str) -> float:
    """A finite number, or a one-line error naming the file, task and key."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RunError(f"{where}: {key} must be a number, not {value!r}")
    try:
        result = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        result = math.inf
    if not math.isfinite(result):
        raise RunError(f"{where}: {key} is {result} (not a finite number)")
    return result


def stderr(value: Any) -> float | None:
    """A usable standard error, or None: NaN, "N/A" or a missing stderr never blanks a value."""
    result = finite(value)
    return result if result is not None and result >= 0 else None


def count(value: Any) -> int | None:
    """A non-negative integer (shots, samples), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and 0 <= value < 10**12 else None


def limit_of(value: Any) -> float | None:
    """A limit as a harness takes it: a positive count, or a fraction of the task below 1."""
    result = finite(value)
    if result is None or result <= 0:
        return None
    return float(int(result)) if result >= 1 else result


def split_key(key: str) -> tuple[str, str]:
    """`acc_norm,none` -> (acc_norm, none); a bare `acc_norm` has the filter `none`."""
    metric, _, filt = key.partition(",")
    return metric, filt or "none"


def metrics(
    entry: Mapping[str, Any], where: str, skip: frozenset[str] = frozenset(), strict: bool = True
) -> tuple[dict[str, Value], dict[str, float]]:
    """Values and stderrs of one task entry, keyed `metric,filter`. Text, lists and mappings
    (alias, sample counts) are not metrics; with `strict`, text under a metric key is an error."""
    values: dict[str, Value] = {}
    stderrs: dict[str, float] = {}
    for key, value in entry.items():
        if not isinstance(key, str) or key in skip:
            continue
        metric, filt = split_key(key)
        if metric.endswith("_stderr"):
            se = stderr(value)
            if se is not None:
                stderrs[f"{metric[: -len('_stderr')]},{filt}"] = se
            continue
        if value in ("N/A", None) or isinstance(value, dict | list):
            continue
        if isinstance(value, str) and not (strict and "," in key):
            continue
        values[f"{metric},{filt}"] = number(value, where, key)
    return values, stderrs


def text(value: Any) -> str:
    """A model name or argument string as the file gives it (a mapping as `k=v,...`)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
    return ""
