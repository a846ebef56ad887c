"""OLMES (oe-eval) output folders: per-task `task-<idx>-<task>-metrics.json` and the summary
`metrics.json`.

A per-task file holds `task_name`, `task_config` (`primary_metric`, `num_shots`, `limit`,
`fewshot_seed`, `metadata.alias` such as `arc_challenge:mc::olmes`), `model_config` (`model`,
`model_path`, `revision`), `metrics` (every metric and `primary_score`), `num_instances` and
`current_date`. The summary lists `tasks` as {alias, metrics, num_instances, task_config} with
only the task config values that differ from OLMES's defaults (0 shots, no limit, seeds 1234),
and `model_config` likewise; where per-task files sit beside it, they are read instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records.evalformats.result import Read, Result, count, limit_of, metrics, text

FORMAT = "olmes"
DEFAULT_SEED = 1234  # OLMES's default fewshot_seed and random_subsample_seed


def looks_like_task(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("task_name"), str)
        and isinstance(data.get("metrics"), dict)
        and isinstance(data.get("task_config"), dict)
    )


def looks_like_summary(data: Any) -> bool:
    tasks = data.get("tasks") if isinstance(data, dict) else None
    return (
        isinstance(tasks, list)
        and bool(tasks)
        and all(isinstance(t, dict) and "alias" in t and "metrics" in t for t in tasks)
    )


def _date(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC).timestamp()


def _checkpoint(model: Mapping[str, Any]) -> str:
    name = text(model.get("model_path")) or text(model.get("model"))
    revision = text(model.get("revision"))
    return f"{name},revision={revision}" if name and revision else name


def _result(
    task: str,
    alias: str,
    values_in: Mapping[str, Any],
    config: Mapping[str, Any],
    instances: Any,
    model: Mapping[str, Any],
    path: Path,
    when: float,
) -> Result | None:
    values, stderrs = metrics(values_in, f"{path}: task {alias!r}", strict=False)
    if not values:
        return None
    primary = config.get("primary_metric")
    primary_key = f"{primary},none" if isinstance(primary, str) else None
    if primary_key not in values:
        primary_key = "primary_score,none" if "primary_score,none" in values else None
    samples = count(instances)
    limit = limit_of(config.get("limit"))
    if limit is not None and limit >= 1 and samples is not None and samples < limit:
        limit = None  # fewer documents than the limit: the whole task was evaluated
    gen = config.get("generation_kwargs")
    seed = (
        config.get("fewshot_seed", DEFAULT_SEED),
        config.get("random_subsample_seed", DEFAULT_SEED),
        gen.get("seed") if isinstance(gen, dict) else None,
    )
    return Result(
        task,
        values,
        stderrs,
        path,
        when,
        _checkpoint(model),
        shots=count(config.get("num_shots", 0)),
        limit=limit,
        samples=samples,
        seed=tuple(s if isinstance(s, int | str) else None for s in seed),
        primary=primary_key,
        variant=alias if alias != task else "",
        fmt=FORMAT,
    )


def read_task(data: Mapping[str, Any], path: Path, when: float) -> Read:
    config = data["task_config"]
    meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
    alias = meta.get("alias") if isinstance(meta.get("alias"), str) else data["task_name"]
    task = data["task_name"].split(":")[0]
    model = data.get("model_config") if isinstance(data.get("model_config"), dict) else {}
    when = _date(data.get("current_date")) or when
    out = Read()
    try:
        result = _result(
            task, alias, data["metrics"], config, data.get("num_instances"), model, path, when
        )
    except RunError as exc:
        out.problems.append((task, str(exc)))
        return out
    if result is not None:
        out.results.append(result)
    return out


def read_summary(data: Mapping[str, Any], path: Path, when: float) -> Read:
    model = data.get("model_config") if isinstance(data.get("model_config"), dict) else {}
    out = Read()
    for entry in data["tasks"]:
        alias, values = entry.get("alias"), entry.get("metrics")
        if not isinstance(alias, str) or not isinstance(values, dict):
            continue
        config = entry.get("task_config") if isinstance(entry.get("task_config"), dict) else {}
        try:
            result = _result(
                alias.split(":")[0],
                alias,
                values,
                config,
                entry.get("num_instances"),
                model,
                path,
                when,
            )
        except RunError as exc:
            out.problems.append((alias.split(":")[0], str(exc)))
            continue
        if result is not None:
            out.results.append(result)
    return out
