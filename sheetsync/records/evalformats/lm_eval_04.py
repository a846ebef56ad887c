"""lm-evaluation-harness 0.4.x results files (`results_<date>.json`, or `X_<date>.json` for
`--output_path X.json`).

Shape: `results` (and `groups`) map task -> `metric,filter` -> value with `metric_stderr,filter`
beside it; `configs` holds each task's own config (`metric_list`, `filter_list`,
`num_fewshot`); `n-shot` the shots, `n-samples` {original, effective} the documents (fewer
effective ones mean `--limit`), `group_subtasks` a group's members, `higher_is_better` per
metric; `config` the run (`model_args`, `limit`, seeds); `date` a Unix time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sheetsync.records.evalformats.identity import USUAL_METRICS
from sheetsync.records.evalformats.result import Read, Result, count, limit_of, text

FORMAT = "lm-eval 0.4"
MARKERS = ("n-shot", "configs", "group_subtasks", "n-samples", "higher_is_better")
SEEDS = ("random_seed", "numpy_seed", "torch_seed", "fewshot_seed")


def looks_like(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        return False
    if "config_general" in data:
        return False
    if any(key in data for key in MARKERS):
        return True
    return any(
        isinstance(entry, dict) and any(isinstance(k, str) and "," in k for k in entry)
        for entry in data["results"].values()
    )


def _mapping(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


class _File:
    """The per-task facts of one results file, looked up by task or by a group's members."""

    def __init__(self, data: Mapping[str, Any]):
        self.nshot = _mapping(data, "n-shot")
        self.configs = _mapping(data, "configs")
        self.nsamples = _mapping(data, "n-samples")
        self.subtasks = _mapping(data, "group_subtasks")
        self.better = _mapping(data, "higher_is_better")
        self.config = _mapping(data, "config")
        self.limit = limit_of(self.config.get("limit"))

    def leaves(self, task: str) -> list[str]:
        """A group's member tasks, through nested groups; [] for a plain task."""
        out: list[str] = []
        seen = {task}
        members = self.subtasks.get(task)
        stack = list(members)[::-1] if isinstance(members, list) else []
        while stack and len(seen) < 10_000:
            name = stack.pop()
            if not isinstance(name, str) or name in seen:
                continue
            seen.add(name)
            members = self.subtasks.get(name)
            if isinstance(members, list) and members:
                stack += members[::-1]
            else:
                out.append(name)
        return out

    def shots(self, task: str, leaves: list[str]) -> int | None:
        if not leaves:
            shots = count(self.nshot.get(task))
            if shots is None:
                shots = count(_mapping(self.configs, task).get("num_fewshot"))
            return shots
        found = {self.shots(leaf, []) for leaf in leaves}
        return found.pop() if len(found) == 1 else None

    def size(self, task: str, leaves: list[str]) -> tuple[float | None, int | None]:
        """(limit, documents evaluated): the limit only where it cut a task short."""
        total, limited, known = 0, False, True
        for name in leaves or [task]:
            entry = self.nsamples.get(name)
            original = count(entry.get("original")) if isinstance(entry, dict) else None
            effective = count(entry.get("effective")) if isinstance(entry, dict) else None
            if effective is None:
                known = False
                continue
            total += effective
            if original is not None and effective < original:
                limited = True
        if not known and total == 0:
            return self.limit, None  # no counts: a configured limit is taken at its word
        if not limited:
            return None, total
        if self.limit is not None:
            return self.limit, total
        return (float(total) if not leaves else None), total

    def primary(self, task: str, leaves: list[str]) -> str | None:
        """The `metric,filter` the task's own config lists first; for a group, its members'."""
        if leaves:
            found = {self.primary(leaf, []) for leaf in leaves}
            return found.pop() if len(found) == 1 else None
        config = _mapping(self.configs, task)
        listed = config.get("metric_list")
        if not isinstance(listed, list):
            return None
        better = _mapping(self.better, task)
        names = []
        for item in listed:
            name = item.get("metric") if isinstance(item, dict) else None
            if isinstance(name, str) and name:
                up = item.get("higher_is_better", better.get(name))
                if up is not False:
                    names.append(name)
        if not names:
            return None
        listed_filters = config.get("filter_list")
        filters = [
            f.get("name")
            for f in (listed_filters if isinstance(listed_filters, list) else [])
            if isinstance(f, dict) and isinstance(f.get("name"), str)
        ]
        # A multiple-choice config lists acc before acc_norm and names neither as primary;
        # where the usual table names one of the listed metrics, that one is shown.
        usual = USUAL_METRICS.get(task, "").split(",")[0]
        metric = usual if usual in names else names[0]
        return f"{metric},{filters[0] if filters else 'none'}"

    def seed(self) -> tuple[Any, ...]:
        seeds: list[Any] = [self.config.get(k) for k in SEEDS]
        gen = self.config.get("gen_kwargs")
        if isinstance(gen, dict):
            seeds.append(gen.get("seed"))
        elif isinstance(gen, str):
            parts = dict(p.split("=", 1) for p in gen.split(",") if "=" in p)
            seeds.append(parts.get("seed"))
        seeds = [s if isinstance(s, int | str) and not isinstance(s, bool) else None for s in seeds]
        return tuple(seeds) if any(s is not None for s in seeds) else ()

    def checkpoint(self, data: Mapping[str, Any]) -> str:
        return (
            text(self.config.get("model_args"))
            or text(data.get("model_name"))
            or text(self.config.get("pretrained"))
        )


def read(data: Mapping[str, Any], path: Path, when: float) -> Read:
    """Every task and group of the file, each with its shots, limit and primary metric."""
    facts = _File(data)
    tasks = dict(data["results"])
    for name, entry in _mapping(data, "groups").items():
        tasks.setdefault(name, entry)
    checkpoint, seed = facts.checkpoint(data), facts.seed()
    out = Read()
    for task, entry in tasks.items():
        if not isinstance(task, str):
            continue
        where = f"{path}: task {task!r}"
        found = out.task_metrics(task, entry, where, skip=frozenset({"alias", "samples"}))
        if found is None:
            continue
        values, stderrs = found
        if not values:
            continue  # a header line such as an MMLU category with no metrics of its own
        leaves = facts.leaves(task)
        limit, samples = facts.size(task, leaves)
        if samples is None:
            samples = count(entry.get("samples"))
        out.results.append(
            Result(
                task,
                values,
                stderrs,
                path,
                when,
                checkpoint,
                shots=facts.shots(task, leaves),
                limit=limit,
                samples=samples,
                seed=seed,
                primary=facts.primary(task, leaves),
                fmt=FORMAT,
                note=f"group of {len(leaves)} tasks" if leaves else "",
            )
        )
    return out
