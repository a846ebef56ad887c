"""`init`: the project's files from templates, and the sheet's tabs and owned columns."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from sheetsync.layout import TEMPLATES
from sheetsync.project import CONFIG_NAME, Project
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cycle import all_tabs, cycle
from sheetsync.sheet.grid import Snapshot
from sheetsync.sheet.plan import Plan, State, plan_header


def write_project_files(folder: Path) -> list[Path]:
    """A commented sheetsync.yaml and layout.yaml from the templates, and the two folders."""
    folder.mkdir(parents=True, exist_ok=True)
    created = []
    for name in (CONFIG_NAME, "layout.yaml"):
        target = folder / name
        if not target.exists():
            shutil.copyfile(TEMPLATES / name, target)
            created.append(target)
    for sub in ("runs", "baselines"):
        if not (folder / sub).exists():
            (folder / sub).mkdir()
            created.append(folder / sub)
    return created


@dataclass(frozen=True)
class InitResult:
    sheet: str
    plan: Plan


def init_sheet(project: Project) -> InitResult:
    """Create missing tabs and add missing owned columns at the right end; then format."""
    layout = project.layout()
    backend = open_backend(project)
    with backend.session():
        backend.create_tabs(all_tabs(layout), hidden=[layout.state_tab])

    def make_plan(snapshot: Snapshot) -> Plan:
        plan = Plan()
        for table in layout.tables():
            plan.changes += plan_header(snapshot.grid(table.tab), table)
        state_grid = snapshot.grid(layout.state_tab)
        if plan.changes or not state_grid:
            plan.state_writes = State(layout.state_tab, state_grid).writes()
        return plan

    plan, _ = cycle(backend, all_tabs(layout), make_plan)
    with backend.session():
        backend.format(layout)
    return InitResult(backend.describe(), plan)


def format_sheet(project: Project) -> str:
    """Make the sheet readable in a meeting (frozen header, widths, formats). Idempotent.

    Returns the sheet's description for messages."""
    backend = open_backend(project)
    with backend.session():
        backend.format(project.layout())
    return backend.describe()
