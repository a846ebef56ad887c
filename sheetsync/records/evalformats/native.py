"""sheetsync's own `evals.json`, written by a training script (values are fractions in [0, 1]):

    {"hellaswag": {"acc_norm": 0.61, "acc_norm_stderr": 0.004, "shots": 0},
     "gsm8k": {"exact_match": {"samples": [0.31, 0.29, 0.33]}, "shots": 5, "limit": 200}}

A metric is a number, or `{"samples": [...]}` (alias `repeats`) for a generative eval
repeated over seeds; `<metric>_stderr` is optional; `shots` and `limit` (optional) say how
the task was run. A metric key may name a filter (`exact_match,flexible-extract`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records.evalformats.result import (
    Read,
    Result,
    Value,
    count,
    limit_of,
    number,
    split_key,
    stderr,
)

FORMAT = "evals.json"
NAME = "evals.json"
RESERVED = ("shots", "limit")


def read(data: Any, path: Path, when: float) -> Read:
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a mapping of task -> metrics")
    out = Read()
    for task, entry in data.items():
        try:
            out.results.append(_task(str(task), entry, path, when))
        except RunError as exc:
            out.problems.append((str(task), str(exc)))
    return out


def _task(task: str, entry: Any, path: Path, when: float) -> Result:
    where = f"{path}: task {task!r}"
    if not isinstance(entry, dict) or not entry:
        raise RunError(f"{where}: expected a mapping of metric -> value")
    values: dict[str, Value] = {}
    stderrs: dict[str, float] = {}
    for key, value in entry.items():
        if key in RESERVED:
            continue
        metric, filt = split_key(str(key))
        if metric.endswith("_stderr"):
            se = stderr(value)
            if se is not None:
                stderrs[f"{metric[: -len('_stderr')]},{filt}"] = se
        elif isinstance(value, Mapping):
            samples = value.get("samples", value.get("repeats"))
            if not isinstance(samples, list) or not samples:
                raise RunError(
                    f"{where}: {key} must be a number or "
                    '{"samples": [...]} with at least one value'
                )
            values[f"{metric},{filt}"] = tuple(number(s, where, str(key)) for s in samples)
        else:
            values[f"{metric},{filt}"] = number(value, where, str(key))
    if not values:
        raise RunError(f"{where}: expected a mapping of metric -> value")
    return Result(
        task,
        values,
        stderrs,
        path,
        when,
        shots=count(entry.get("shots")),
        limit=limit_of(entry.get("limit")),
        fmt=FORMAT,
    )
