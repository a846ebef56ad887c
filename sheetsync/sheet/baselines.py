"""`baseline add`: a new dated baseline, as a file in the baselines folder and a tab row."""

from __future__ import annotations

from sheetsync.project import Project
from sheetsync.records.baselines import Baseline, NewBaseline
from sheetsync.records.files import discard
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cycle import append_rows


def add_baseline(project: Project, new: NewBaseline) -> Baseline:
    """Register a new dated baseline (validated by `records.baselines.new_baseline`): the file
    staged (written under a temp name) first, then the tab row, then the file renamed into
    place. A failure before the row leaves the sheet and the baselines folder as they were."""
    layout = project.layout()
    temps = new.stage()
    try:
        append_rows(open_backend(project), layout, layout.baselines, [new.row])
        new.put_in_place(temps)
    finally:
        for tmp in temps:
            discard(tmp)
    return new.baseline
