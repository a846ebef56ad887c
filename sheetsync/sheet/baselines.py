"""`baseline add`: a new dated baseline, as a file in the baselines folder and a tab row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sheetsync.project import Project
from sheetsync.records.baselines import Baseline, new_baseline
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cycle import append_rows


def add_baseline(
    project: Project,
    name: str,
    config_file: Path,
    date: dt.date | None = None,
    note: str | None = None,
    backfill: bool = False,
    person: str | None = None,
) -> Baseline:
    """Register a new dated baseline: validated first, then the tab row, then the file."""
    new = new_baseline(project.registry(), name, config_file, date, note, backfill, person)
    layout = project.layout()
    append_rows(open_backend(project), layout, layout.baselines, [new.row])
    new.save()
    return new.baseline
