"""lighteval results files (`results/<model>/results_<date>.json`).

Shape: `config_general` the run (`model_name`, `max_samples` for a limited run,
`generation_parameters`), `results` maps `suite|task|shots` (newer versions: `task|shots`)
-> bare metric -> value with `metric_stderr` beside it, plus `all` (a mean over everything,
not read) and `suite|group:_average|shots` (an unweighted mean of a group's subtasks, read as
the group and marked so); `config_tasks` each task's config (`metrics` / `metric` listing its
metrics, `original_num_docs` and `effective_num_docs`). The date is in the file name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sheetsync.records.evalformats.result import Read, Result, count, limit_of, text

FORMAT = "lighteval"
AVERAGE = ":_average"
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})(\.\d+)?")


def looks_like(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("config_general"), dict)
        and isinstance(data.get("results"), dict)
    )


def file_date(path: Path) -> float | None:
    """The time in a `results_2025-10-05T14-34-11.098252.json` name (taken as UTC)."""
    match = _DATE.search(path.name)
    if not match:
        return None
    day, hh, mm, ss, frac = match.groups()
    try:
        stamp = datetime.fromisoformat(f"{day}T{hh}:{mm}:{ss}{frac or ''}")
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC).timestamp()


def _metric_names(config: Mapping[str, Any]) -> list[str]:
    """The task's metrics in its config's order, higher-is-better ones only where it says."""
    listed = config.get("metrics", config.get("metric"))
    names = []
    for item in listed if isinstance(listed, list) else []:
        if isinstance(item, dict):
            name = item.get("metric_name", item.get("metric"))
            if isinstance(name, list):  # one metric object can report several names
                name = name[0] if name else None
            if isinstance(name, str) and item.get("higher_is_better") is not False:
                names.append(name)
        elif isinstance(item, str):
            names.append(item)
    return names


def read(data: Mapping[str, Any], path: Path, when: float) -> Read:
    general = data["config_general"]
    configs = data.get("config_tasks") if isinstance(data.get("config_tasks"), dict) else {}
    checkpoint = text(general.get("model_name"))
    max_samples = limit_of(general.get("max_samples"))
    gen = general.get("generation_parameters")
    seed = gen.get("seed") if isinstance(gen, dict) else None
    seeds = (seed,) if isinstance(seed, int) and not isinstance(seed, bool) else ()
    when = file_date(path) or when
    averaged: dict[str, int] = {}
    for key in data["results"]:
        parts = key.split("|") if isinstance(key, str) else []
        if len(parts) >= 2 and ":" in parts[-2] and not parts[-2].endswith(AVERAGE):
            group = "|".join([*parts[:-2], parts[-2].split(":")[0] + AVERAGE, parts[-1]])
            averaged[group] = averaged.get(group, 0) + 1
    out = Read()
    for key, entry in data["results"].items():
        if not isinstance(key, str) or key == "all":
            continue
        parts = key.split("|")
        if len(parts) not in (2, 3) or count(_int(parts[-1])) is None:
            out.problems.append((key, f"{path}: task {key!r}: not a suite|task|shots key"))
            continue
        suite, name, shots = ("", *parts) if len(parts) == 2 else parts
        task = name.replace(":", "_")
        note = ""
        if name.endswith(AVERAGE):
            task = name[: -len(AVERAGE)].replace(":", "_")
            note = f"unweighted mean of {averaged.get(key, 0)} subtasks (lighteval's _average)"
        where = f"{path}: task {key!r}"
        found = out.task_metrics(task, entry, where)
        if found is None:
            continue
        values, stderrs = found
        if not values:
            continue
        config = configs.get(key, configs.get(f"{suite}|{name}" if suite else name))
        config = config if isinstance(config, dict) else {}
        primary = next((f"{n},none" for n in _metric_names(config) if f"{n},none" in values), None)
        original = count(config.get("original_num_docs"))
        effective = count(config.get("effective_num_docs"))
        limit = None
        if effective is not None and original is not None and effective < original:
            limit = max_samples or float(effective)
        elif effective is None and max_samples is not None:
            limit = max_samples
        out.results.append(
            Result(
                task,
                values,
                stderrs,
                path,
                when,
                checkpoint,
                shots=count(_int(shots)),
                limit=limit,
                samples=effective,
                seed=seeds,
                primary=primary,
                variant=f"{suite}|{name}" if suite else name,
                fmt=FORMAT,
                note=note,
            )
        )
    return out


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None
