"""Eval cells at sync: each run's eval columns, averages and delta against its baseline."""

from __future__ import annotations

from collections.abc import Mapping

from sheetsync.layout import Layout
from sheetsync.project import Project
from sheetsync.records.runs import Run, same_size
from sheetsync.science.evals import (
    EvalSpec,
    complete_average,
    eval_cells,
    parse_eval_spec,
    read_scores,
)
from sheetsync.sheet.rows import Row
from sheetsync.vocab import BASELINE_ROLES, UNFINISHED, Value, is_unfinished


def eval_specs(layout: Layout) -> list[EvalSpec]:
    """The eval columns of the layout, parsed."""
    return [
        parse_eval_spec(c.key, c.options["eval"], f"{layout.source}: column {c.header!r}")
        for c in layout.eval_columns()
    ]


class EvalSource:
    """Fills eval cells at every sync; a broken eval file leaves a note, not a failed sync."""

    def __init__(self, project: Project, layout: Layout, rows: Mapping[str, Row]):
        self.project = project
        self.layout = layout
        self.specs = eval_specs(layout)
        self.groups = [c.key for c in layout.runs.columns if c.key.startswith("eval_avg:")]
        self.has_delta = layout.runs.has("eval_avg_delta")
        self.notices: list[str] = []
        self.rows = list(rows.values())
        self._cache: dict[str, dict[str, Value]] = {}

    def cells_for(self, run: Run) -> dict[str, Value]:
        if run.run_id not in self._cache:
            scores = read_scores(run.path, self.specs)
            for score in scores.values():
                if isinstance(score, str):
                    note = f"evals of {run.run_id}: {score}"
                    if note not in self.notices:
                        self.notices.append(note)
            self._cache[run.run_id] = eval_cells(
                self.specs, scores, self.layout.eval_scale, self.groups
            )
        return self._cache[run.run_id]

    def __call__(self, run: Run, row: Row) -> dict[str, Value]:
        keys = [s.column_key for s in self.specs] + ["eval_avg", *self.groups]
        if self.has_delta:
            keys.append("eval_avg_delta")
        if is_unfinished(run.status):
            return dict.fromkeys(keys, UNFINISHED)
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
            base = self.project.read_run(folder)
            if base.finished and same_size(base, run):
                theirs = complete_average(self.cells_for(base))
                if theirs is not None:
                    return round(mine - theirs, 6)
        return None
