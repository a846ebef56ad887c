"""`init`: the project's files from templates, and the sheet's tabs and owned columns."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sheetsync.errors import WouldDrop
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
    notices: list[str] = field(default_factory=list)


def init_sheet(project: Project, force: bool = False) -> InitResult:
    """Create missing tabs and add missing owned columns at the right end; then format.

    On a workbook holding what an openpyxl save would drop, formatting is skipped and said
    so (`force` formats anyway); creating a missing tab there is refused unless `force`."""
    layout = project.layout()
    backend = open_backend(project, force=force)
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
    notices: list[str] = []
    with backend.session():
        try:
            backend.format(layout)
        except WouldDrop as exc:
            notices.append(f"not formatted: {exc}")
    notices += list(getattr(backend, "notices", []))
    return InitResult(backend.describe(), plan, notices)


def format_sheet(project: Project, force: bool = False) -> tuple[str, list[str]]:
    """Make the sheet readable in a meeting (frozen header, widths, formats). Idempotent.

    Returns the sheet's description and notices (what `force` dropped) for messages."""
    backend = open_backend(project, force=force)
    with backend.session():
        backend.format(project.layout())
    return backend.describe(), list(getattr(backend, "notices", []))
