"""Eval columns: which metric each column shows, stable per-task values, and averages that
mean one thing (generative repeats averaged first; a partial average marked k/n)."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.errors import ConfigError
from sheetsync.records.evals import Measurement, RawEvals, read_raw
from sheetsync.vocab import Value

KINDS = ("likelihood", "generative")
# What lm-evaluation-harness reports as each task's main number (its task YAMLs).
DEFAULT_METRICS = {
    "hellaswag": "acc_norm,none",
    "arc_challenge": "acc_norm,none",
    "arc_easy": "acc_norm,none",
    "piqa": "acc_norm,none",
    "openbookqa": "acc_norm,none",
    "winogrande": "acc,none",
    "mmlu": "acc,none",
    "boolq": "acc,none",
    "lambada_openai": "acc,none",
    "gsm8k": "exact_match,strict-match",
    "triviaqa": "exact_match,remove_whitespace",
    "gpqa_main_zeroshot": "acc_norm,none",
    "gpqa_diamond_zeroshot": "acc_norm,none",
    "gpqa_main_cot_zeroshot": "exact_match,flexible-extract",
    "mmlu_pro": "exact_match,custom-extract",
}


def default_metric(task: str) -> str:
    """The metric a column shows when the layout names none; other gpqa_* variants follow
    their YAMLs (generative and cot ones score `exact_match` per filter, the rest `acc_norm`)."""
    if task in DEFAULT_METRICS:
        return DEFAULT_METRICS[task]
    if task.startswith("gpqa_"):
        generative = "cot" in task or "generative" in task
        return "exact_match,flexible-extract" if generative else "acc_norm,none"
    return "acc,none"


@dataclass(frozen=True)
class EvalSpec:
    """One eval column: the task, the metric it shows, and whether it is generative."""

    column_key: str
    task: str
    metric: str | None = None
    kind: str = "likelihood"
    group: str | None = None

    @property
    def wanted_metric(self) -> str:
        return self.metric or default_metric(self.task)


def parse_eval_spec(column_key: str, mapping: Mapping[str, Any], where: str) -> EvalSpec:
    """Validate a layout column's `eval:` mapping; errors name the layout file and column."""
    unknown = set(mapping) - {"task", "metric", "kind", "group"}
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
    return EvalSpec(column_key, task.strip(), metric, kind, group)


@dataclass(frozen=True)
class Score:
    """A task's value as a fraction, with where it came from and how stable it is."""

    task: str
    metric: str
    value: float
    stderr: float | None
    samples: tuple[float, ...]
    sources: tuple[Path, ...]

    @property
    def spread(self) -> float | None:
        return statistics.stdev(self.samples) if len(self.samples) > 1 else None


def _metric_key(values: Mapping[str, Any], wanted: str, task: str = "") -> str | None:
    """The key holding `wanted`: exact, else a bare metric with the task's default filter
    (gsm8k `exact_match` -> `exact_match,strict-match`), `none`, then the first filter."""
    if wanted in values:
        return wanted
    base = wanted.split(",", 1)[0]
    if base in values:
        return base
    default = default_metric(task)
    if "," not in wanted and default.split(",", 1)[0] == base and default in values:
        return default
    if f"{base},none" in values:
        return f"{base},none"
    matches = sorted(k for k in values if k.split(",", 1)[0] == base)
    return matches[0] if matches else None


def pick(spec: EvalSpec, raw: RawEvals) -> Score | str | None:
    """The spec's score from a run's eval files; an error text; or None when not evaluated."""
    candidates: list[Measurement] = [m for m in raw.harness if m.task == spec.task]
    if spec.task in raw.native:
        candidates.append(raw.native[spec.task])
    if not candidates:
        return raw.errors.get(spec.task) or raw.errors.get("*")
    newest = max(candidates, key=lambda m: m.when)
    if raw.error_when.get(spec.task, -math.inf) > newest.when:
        return raw.errors[spec.task]  # the newest file is broken: say so, show no stale value
    group = [
        m for m in candidates if m.checkpoint == newest.checkpoint and m.source.name != "evals.json"
    ]
    if spec.kind == "likelihood" or newest.source.name == "evals.json" or not group:
        group = [newest]
    samples: list[float] = []
    stderr = None
    metric = None
    for m in group:
        key = _metric_key(m.values, spec.wanted_metric, spec.task)
        if key is None:
            return f"{m.source}: task {spec.task!r}: no metric {spec.wanted_metric.split(',')[0]!r}"
        value = m.values[key]
        samples += list(value) if isinstance(value, tuple) else [value]
        stderr = m.stderrs.get(key, stderr)
        metric = key
    for value in samples:
        if not 0.0 <= value <= 1.0:
            return (
                f"{newest.source}: task {spec.task!r}: {metric} = {value} is out of range "
                "[0, 1] (eval values are fractions)"
            )
    mean = statistics.fmean(samples)
    if len(samples) > 1 and spec.kind == "likelihood":
        samples = [samples[-1]]
        mean = samples[0]
    return Score(
        spec.task, metric or "", mean, stderr, tuple(samples), tuple(m.source for m in group)
    )


def read_scores(run_dir: Path, specs: Sequence[EvalSpec]) -> dict[str, Score | str | None]:
    raw = read_raw(run_dir)
    return {spec.column_key: pick(spec, raw) for spec in specs}


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
    and task (`sync` and `sheetsync evals` print the whole line)."""
    reason = re.sub(r"^.*?\.json(:\d+)?: (task '.*?': )?", "", message, count=1)
    if len(reason) > 80:
        reason = reason[:79] + "…"
    return f"error: {reason}"


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
        if isinstance(score, Score):
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
