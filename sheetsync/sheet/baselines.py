"""`baseline add`: a new dated baseline, as a file in the baselines folder and a tab row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sheetsync.project import Project
from sheetsync.records.baselines import Baseline, new_baseline
from sheetsync.records.files import discard
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
    code: str | None = None,
) -> Baseline:
    """Register a new dated baseline: everything validated and the file staged (written under
    a temp name) first, then the tab row, then the file renamed into place. A failure before
    the row leaves the sheet and the baselines folder as they were."""
    new = new_baseline(project.registry(), name, config_file, date, note, backfill, person, code)
    layout = project.layout()
    temps = new.stage()
    try:
        append_rows(open_backend(project), layout, layout.baselines, [new.row])
        new.put_in_place(temps)
    finally:
        for tmp in temps:
            discard(tmp)
    return new.baseline
