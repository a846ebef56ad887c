"""lm-evaluation-harness 0.3 results files (`main.py --output_path results.json`).

Shape: `results` maps task -> bare metric -> value (`acc`, `acc_norm`, with `acc_stderr`
beside them), `versions` task -> version, `config` the run (`model_args`, `num_fewshot` and
`limit` for every task). No date: the file's modification time orders it. MMLU is 57
`hendrycksTest-<subject>` tasks; their unweighted mean is read as `mmlu`, marked so (0.4's
`mmlu` group weights subjects by size, and 0.3 files carry no sizes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sheetsync.records.evalformats.result import Read, Result, count, limit_of, text

FORMAT = "lm-eval 0.3"
MMLU_PREFIX = "hendrycksTest-"
MMLU_SUBJECTS = 57


def looks_like(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        return False
    if "config_general" in data or not ("versions" in data or "config" in data):
        return False
    entries = [e for e in data["results"].values() if isinstance(e, dict)]
    return bool(entries) and not any(isinstance(k, str) and "," in k for e in entries for k in e)


def read(data: Mapping[str, Any], path: Path, when: float) -> Read:
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    shots = count(config.get("num_fewshot"))
    limit = limit_of(config.get("limit"))
    checkpoint = text(config.get("model_args")) or text(config.get("model"))
    out = Read()
    for task, entry in data["results"].items():
        if not isinstance(task, str):
            continue
        where = f"{path}: task {task!r}"
        found = out.task_metrics(task, entry, where)
        if found is None:
            continue
        values, stderrs = found
        if values:
            out.results.append(
                Result(task, values, stderrs, path, when, checkpoint, shots, limit, fmt=FORMAT)
            )
    subjects = [r for r in out.results if r.task.startswith(MMLU_PREFIX)]
    if subjects and "mmlu" not in data["results"]:
        mmlu = _mmlu(subjects, path)
        if isinstance(mmlu, Result):
            out.results.append(mmlu)
        else:
            out.problems.append(("mmlu", mmlu))
    return out


def _mmlu(subjects: list[Result], path: Path) -> Result | str:
    """The unweighted mean of the 57 subjects, per metric all of them report; its stderr is
    that of a mean of independent estimates, sqrt(sum se^2) / n."""
    if len(subjects) != MMLU_SUBJECTS:
        return (
            f"{path}: task 'mmlu': {len(subjects)} of the {MMLU_SUBJECTS} {MMLU_PREFIX}* "
            "subtasks; mmlu needs all of them"
        )
    first = subjects[0]
    keys = [k for k in first.values if all(k in s.values for s in subjects)]
    values: dict[str, float] = {}
    stderrs: dict[str, float] = {}
    for key in keys:
        numbers = [s.values[key] for s in subjects]
        if any(isinstance(n, tuple) for n in numbers):
            continue
        values[key] = math.fsum(numbers) / len(numbers)  # type: ignore[arg-type]
        if all(key in s.stderrs for s in subjects):
            stderrs[key] = math.sqrt(math.fsum(s.stderrs[key] ** 2 for s in subjects)) / len(
                subjects
            )
    return Result(
        "mmlu",
        values,
        stderrs,
        path,
        first.when,
        first.checkpoint,
        first.shots,
        first.limit,
        fmt=FORMAT,
        note=f"unweighted mean of {len(subjects)} {MMLU_PREFIX}* subtasks",
    )
