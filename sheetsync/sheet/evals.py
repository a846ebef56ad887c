"""Eval cells at sync: each run's eval columns, averages and delta against its baseline;
and the eval files of one run explained, column by column (`sheetsync evals`)."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.layout import Layout
from sheetsync.project import Project
from sheetsync.records.evalformats.identity import Choice, choose, not_in_layout
from sheetsync.records.evals import RawEvals, read_raw
from sheetsync.records.runcache import EVAL_FILES, RunCache
from sheetsync.records.runs import Run, same_size
from sheetsync.science.evals import (
    MARKS,
    EvalSpec,
    Score,
    complete_average,
    eval_cells,
    parse_eval_spec,
    score_of,
)
from sheetsync.sheet.rows import Row
from sheetsync.vocab import BASELINE_ROLES, Value, marker


def eval_specs(layout: Layout) -> list[EvalSpec]:
    """The eval columns of the layout, parsed."""
    return [
        parse_eval_spec(c.key, c.options["eval"], f"{layout.source}: column {c.header!r}")
        for c in layout.eval_columns()
    ]


def read_choices(
    run_dir: Path, specs: Sequence[EvalSpec], raw: RawEvals | None = None
) -> tuple[RawEvals, dict[str, Choice]]:
    """Everything found in a run's eval files (`raw`, when already read) and, per column,
    what answers it and what not."""
    raw = raw if raw is not None else read_raw(run_dir)
    return raw, {spec.column_key: choose(spec.want, raw) for spec in specs}


def read_scores(run_dir: Path, specs: Sequence[EvalSpec]) -> dict[str, Score | str | None]:
    _, choices = read_choices(run_dir, specs)
    return {key: score_of(choice) for key, choice in choices.items()}


def explain(run_dir: Path, specs: Sequence[EvalSpec]) -> list[dict[str, Any]]:
    """Per column: the value and the file, task, metric, filter, shots, samples and model it
    came from, and every result found for it and not used, with why; then one record
    (`column` None) for the files and tasks no column uses."""
    raw, choices = read_choices(run_dir, specs)

    def where(path: Path) -> str:
        return str(path.relative_to(run_dir)) if path.is_relative_to(run_dir) else str(path)

    records: list[dict[str, Any]] = []
    for spec in specs:
        choice = choices[spec.column_key]
        score = score_of(choice)
        record: dict[str, Any] = {"column": spec.column_key, "task": spec.task, "kind": spec.kind}
        record |= {"shots_pinned": spec.shots, "limit_pinned": spec.limit}
        if isinstance(score, Score):
            newest = choice.newest
            record |= {
                "metric": score.metric,
                "filter": choice.key.partition(",")[2],
                "value": score.value,
                "stderr": score.stderr,
                "samples": list(score.samples),
                "spread": score.spread,
                "sources": [str(p) for p in score.sources],
                "file": where(score.sources[-1]),
                "format": score.fmt,
                "task_in_file": (newest.variant or newest.task) if newest else spec.task,
                "shots": score.shots,
                "limit": score.limit,
                "n_samples": score.documents,
                "model": score.model,
                "note": score.note,
            }
        elif score and score.startswith(MARKS):
            record["mark"] = score
        else:
            record["error" if score else "value"] = score
        record["not_used"] = [
            {"file": where(u.source), "task": u.task, "reason": u.reason} for u in choice.unused
        ]
        records.append(record)
    shown = {(u.source, u.task) for c in choices.values() for u in c.unused}
    rest: dict[tuple[str, str], list[str]] = {}
    for u in raw.skipped:
        if (u.source, u.task) not in shown:
            tasks = rest.setdefault((where(u.source), u.reason), [])
            if u.task:
                tasks.append(u.task)
    records.append(
        {
            "column": None,
            "not_used": [
                {"file": file, "reason": reason, "tasks": sorted(set(tasks))}
                for (file, reason), tasks in rest.items()
            ],
            "not_in_layout": not_in_layout(raw, [s.task for s in specs]),
            "notices": list(raw.notices),
        }
    )
    return records


class EvalSource:
    """Fills eval cells at every sync; a broken eval file leaves a note, not a failed sync."""

    def __init__(
        self,
        project: Project,
        layout: Layout,
        rows: Mapping[str, Row],
        cache: RunCache | None = None,
    ):
        self.project = project
        self.cache = cache if cache is not None else RunCache()
        self.layout = layout
        self.specs = eval_specs(layout)
        self.groups = [c.key for c in layout.runs.columns if c.key.startswith("eval_avg:")]
        self.has_delta = layout.runs.has("eval_avg_delta")
        self.notices: list[str] = []
        self.rows = list(rows.values())
        self._cache: dict[str, dict[str, Value]] = {}
        self._key = ("eval cells", repr((self.specs, layout.eval_scale, self.groups)))

    def cells_for(self, run: Run) -> dict[str, Value]:
        if run.run_id not in self._cache:
            read = functools.partial(self._read, run)
            cells, messages = self.cache.memo(run.path, self._key, read, EVAL_FILES)
            for message in messages:
                note = f"evals of {run.run_id}: {message}"
                if note not in self.notices:
                    self.notices.append(note)
            self._cache[run.run_id] = cells
        return self._cache[run.run_id]

    def _read(self, run: Run) -> tuple[dict[str, Value], list[str]]:
        """The run's eval cells and what to say about its files (plain data, kept)."""
        raw, choices = read_choices(run.path, self.specs)
        scores = {key: score_of(choice) for key, choice in choices.items()}
        messages = [s for s in scores.values() if isinstance(s, str)] + list(raw.notices)
        cells = eval_cells(self.specs, scores, self.layout.eval_scale, self.groups)
        return cells, messages

    def __call__(self, run: Run, row: Row) -> dict[str, Value]:
        keys = [s.column_key for s in self.specs] + ["eval_avg", *self.groups]
        if self.has_delta:
            keys.append("eval_avg_delta")
        word = marker(run.status)
        if word is not None:  # unfinished or diverged: no number that looks like a result
            return dict.fromkeys(keys, word)
        cells = dict(self.cells_for(run))
        if self.has_delta:
            cells["eval_avg_delta"] = self._delta(run, row, cells)
        return cells

    def _delta(self, run: Run, row: Row, cells: Mapping[str, Value]) -> Value:
        """eval avg minus that of the baseline's own run at the same size, when both complete."""
        mine = complete_average(cells)
        if mine is None or row.role in BASELINE_ROLES:
            return None
        for other in self.rows:
            if other.role not in BASELINE_ROLES or other.baseline_ref != row.baseline_ref:
                continue
            folder = self.project.run_dir(other.run_id)
            if not folder.is_dir():
                continue
            try:
                base = self.cache.run(folder)
            except RunError:  # its own row says so; this run's delta is just not known
                continue
            if base.finished and same_size(base, run):
                theirs = complete_average(self.cells_for(base))
                if theirs is not None:
                    return round(mine - theirs, 6)
        return None
