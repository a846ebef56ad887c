"""Eval columns: which metric each column shows, stable per-task values, and averages that
mean one thing (generative repeats averaged first; a partial average marked k/n)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.errors import ConfigError
from sheetsync.records.evalformats.identity import (
    USUAL_METRICS,
    Choice,
    Want,
    choose,
    default_metric,
    limit_text,
)
from sheetsync.records.evals import RawEvals
from sheetsync.vocab import Value

KINDS = ("likelihood", "generative")
DEFAULT_METRICS = USUAL_METRICS

MARKS = ("ambiguous: ", "only ")  # a cell that is not an error: results exist, none fits


@dataclass(frozen=True)
class EvalSpec:
    """One eval column: the task, the metric it shows, whether it is generative, and the
    shots and limit a result must have to be shown (None: any shots, a full evaluation)."""

    column_key: str
    task: str
    metric: str | None = None
    kind: str = "likelihood"
    group: str | None = None
    shots: int | None = None
    limit: float | None = None

    @property
    def wanted_metric(self) -> str:
        return self.metric or default_metric(self.task)

    @property
    def want(self) -> Want:
        return Want(self.task, self.metric, self.kind, self.shots, self.limit)


def parse_eval_spec(column_key: str, mapping: Mapping[str, Any], where: str) -> EvalSpec:
    """Validate a layout column's `eval:` mapping; errors name the layout file and column."""
    unknown = set(mapping) - {"task", "metric", "kind", "group", "shots", "limit"}
    if unknown:
        raise ConfigError(f"{where}: unknown eval field {sorted(unknown)[0]!r}")
    task = mapping.get("task")
    if not isinstance(task, str) or not task.strip():
        raise ConfigError(f"{where}: eval needs a 'task' (e.g. hellaswag)")
    kind = mapping.get("kind", "likelihood")
    if kind not in KINDS:
        raise ConfigError(f"{where}: eval kind must be likelihood or generative, not {kind!r}")
    metric, group = mapping.get("metric"), mapping.get("group")
    for name, value in (("metric", metric), ("group", group)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{where}: eval {name} must be non-empty text")
    shots, limit = mapping.get("shots"), mapping.get("limit")
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 0):
        raise ConfigError(f"{where}: eval shots must be a whole number >= 0, not {shots!r}")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 < limit < 1e12
    ):
        raise ConfigError(f"{where}: eval limit must be a number of samples > 0, not {limit!r}")
    if limit is not None and limit >= 1:
        limit = float(int(limit))
    return EvalSpec(column_key, task.strip(), metric, kind, group, shots, limit)


@dataclass(frozen=True)
class Score:
    """A task's value as a fraction, with where it came from and how stable it is."""

    task: str
    metric: str
    value: float
    stderr: float | None
    samples: tuple[float, ...]
    sources: tuple[Path, ...]
    shots: int | None = None
    limit: float | None = None  # the per-task limit of a run cut short (`--limit`)
    model: str = ""
    documents: int | None = None  # how many documents the harness evaluated
    note: str = ""  # e.g. "unweighted mean of 57 hendrycksTest-* subtasks"
    fmt: str = ""

    @property
    def spread(self) -> float | None:
        return statistics.stdev(self.samples) if len(self.samples) > 1 else None


def score_of(choice: Choice) -> Score | str | None:
    """A column's score from its choice of results: the mean over repeats, or why none."""
    if choice.mark:
        return choice.mark
    newest = choice.newest
    if newest is None:
        return choice.error
    metric = newest.written(choice.key)
    for value in choice.values:
        if not 0.0 <= value <= 1.0:
            return (
                f"{newest.source}: task {newest.task!r}: {metric} = {value} is out of range "
                "[0, 1] (eval values are fractions)"
            )
    return Score(
        newest.task,
        metric,
        statistics.fmean(choice.values),
        choice.stderr,
        choice.values,
        tuple(r.source for r in choice.used),
        newest.shots,
        newest.limit,
        newest.checkpoint,
        newest.samples,
        newest.note,
        newest.fmt,
    )


def pick(spec: EvalSpec, raw: RawEvals) -> Score | str | None:
    """The spec's score from a run's eval files; an error text or a mark (`ambiguous: ...`);
    or None when not evaluated."""
    return score_of(choose(spec.want, raw))


def _average(values: list[float | None]) -> tuple[float | None, int]:
    present = [v for v in values if v is not None]
    return (statistics.fmean(present) if present else None), len(present)


def average_cell(values: list[float | None], scale: float) -> Value:
    """The mean of the values; a partial set says so (`0.612 (3/5)`, in percent `61.2 (3/5)`)
    so it is never compared with a complete one; no values at all is an empty cell, not 0."""
    mean, n = _average(values)
    if mean is None:
        return None
    if n == len(values):
        return round(mean * scale, 6)
    shown = f"{mean * scale:.1f}" if scale != 1.0 else f"{mean:.3f}"
    return f"{shown} ({n}/{len(values)})"


def error_cell(message: str) -> str:
    """Why an eval cell is empty, short enough for a cell: the message without its file path
    and task (`sync` and `sheetsync evals` print the whole line); a mark as it is."""
    mark = message.startswith(MARKS)
    path = r"^.*?\.json(:\d+)?: (task '.*?': )?"
    reason = message if mark else re.sub(path, "", message, count=1)
    if len(reason) > 80:
        reason = reason[:79] + "…"
    return reason if mark else f"error: {reason}"


def limited_cell(score: Score, factor: float) -> str:
    """A value from a run cut short (`--limit`), marked so it is never read as a full one."""
    shown = f"{score.value * factor:.1f}" if factor != 1.0 else f"{score.value:.3f}"
    return f"{shown} ({limit_text(score.limit)})"


def eval_cells(
    specs: Sequence[EvalSpec],
    scores: Mapping[str, Score | str | None],
    scale: str = "fraction",
    group_columns: Sequence[str] = (),
) -> dict[str, Value]:
    """Cells for the eval columns, `eval_avg` and `eval_avg:<group>` columns."""
    factor = 100.0 if scale == "percent" else 1.0
    cells: dict[str, Value] = {}
    values: dict[str, float | None] = {}
    for spec in specs:
        score = scores.get(spec.column_key)
        if isinstance(score, Score) and score.limit is not None and spec.limit is None:
            values[spec.column_key] = None  # kept out of averages unless the column pins it
            cells[spec.column_key] = limited_cell(score, factor)
        elif isinstance(score, Score):
            values[spec.column_key] = score.value
            cells[spec.column_key] = round(score.value * factor, 6)
        else:
            values[spec.column_key] = None
            cells[spec.column_key] = error_cell(score) if score else None
    cells["eval_avg"] = average_cell([values[s.column_key] for s in specs], factor)
    for key in group_columns:
        group = key.split(":", 1)[1]
        members = [values[s.column_key] for s in specs if s.group == group]
        cells[key] = average_cell(members, factor) if members else None
    return cells


def complete_average(cells: Mapping[str, Value]) -> float | None:
    avg = cells.get("eval_avg")
    return float(avg) if isinstance(avg, int | float) else None
