"""One read of the whole sheet as records: runs, fits and baselines, for views and fits."""

from __future__ import annotations

from dataclasses import dataclass, field

from sheetsync.errors import SheetError
from sheetsync.layout import Layout
from sheetsync.project import Project
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cycle import all_tabs
from sheetsync.sheet.header import records_of
from sheetsync.vocab import Value


@dataclass(frozen=True)
class SheetRows:
    """The Runs tab as records keyed by layout column key (people's own columns by header)."""

    layout: Layout
    records: list[dict[str, Value]]
    extra_columns: list[str]
    fits: list[dict[str, Value]]
    baselines: list[dict[str, Value]]
    notices: list[str] = field(default_factory=list)


def read_rows(project: Project) -> SheetRows:
    """One read of the sheet; no write."""
    layout = project.layout()
    backend = open_backend(project)
    with backend.session():
        snapshot = backend.read(all_tabs(layout))
    grid = snapshot.grid(layout.runs.tab)
    if grid is None:
        raise SheetError(f"{backend.describe()}: no {layout.runs.tab!r} tab; run `sheetsync init`")
    notices: list[str] = []
    records, extras = records_of(grid, layout.runs, notices)
    fits, _ = records_of(snapshot.grid(layout.scaling.tab), layout.scaling)
    baselines, _ = records_of(snapshot.grid(layout.baselines.tab), layout.baselines)
    return SheetRows(layout, records, extras, fits, baselines, notices)
