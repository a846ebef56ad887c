"""What a sync computes for each run: the list of result-cell sources, in one place.

A source is called with the run (its folder, read) and its row (as the sheet has it) and
returns the owned cells it fills. Sources with something to say keep a `notices` list, which
`Sources` lists beside them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sheetsync.layout import Layout
from sheetsync.project import Project
from sheetsync.records.runcache import RunCache
from sheetsync.sheet.cells import CellSource, progress_cells
from sheetsync.sheet.checks import CheckContext, CheckSource
from sheetsync.sheet.evals import EvalSource
from sheetsync.sheet.gains import GainSource, fits_in
from sheetsync.sheet.grid import Grid
from sheetsync.sheet.header import records_of
from sheetsync.sheet.rows import Row


@dataclass(frozen=True)
class Sources:
    """The result-cell sources of a sync, in order, and the notices lists of those that keep
    one (filled as they run)."""

    cells: tuple[CellSource, ...]
    said: tuple[list[str], ...] = ()

    def notices(self) -> list[str]:
        return [notice for said in self.said for notice in said]


def result_sources(
    project: Project,
    layout: Layout,
    rows: Mapping[str, Row],
    scaling: Grid | None,
    cache: RunCache | None = None,
) -> Sources:
    """Progress and results always; evals, gains and checks when the layout has their columns.
    `cache`: run folders as last read (one is made for the project when not given)."""
    cache = cache if cache is not None else RunCache.for_project(project.root, project.folders)
    sources: list[CellSource] = [progress_cells]
    said: list[list[str]] = []
    if layout.eval_columns():
        evals = EvalSource(project, layout, rows, cache)
        sources.append(evals)
        said.append(evals.notices)
    if layout.runs.has("checks"):
        sources.append(CheckSource(CheckContext(project, rows, cache)))
    if layout.runs.has("gain") and scaling is not None:
        records, _ = records_of(scaling, layout.scaling)
        anchors = rows if layout.runs.has("gain_anchored") else None
        sources.append(GainSource(fits_in(records), project, cache, anchors))
    return Sources(tuple(sources), tuple(said))
