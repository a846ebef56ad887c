"""`init`: the project's files from templates, and the sheet's tabs and owned columns."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sheetsync.errors import SheetError, WouldDrop
from sheetsync.layout import TEMPLATES, Layout
from sheetsync.project import CONFIG_NAME, Project
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cycle import all_tabs, cycle
from sheetsync.sheet.grid import Snapshot, is_empty
from sheetsync.sheet.header import read_header
from sheetsync.sheet.plan import Plan, State, plan_header
from sheetsync.sheet.review_sync import create_review_tab
from sheetsync.sheet.rows import Row, parse_rows


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
    create_review_tab(backend, layout)  # filled by `sync`

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
    notices += list(backend.notices)
    return InitResult(backend.describe(), plan, notices)


def format_sheet(project: Project, force: bool = False) -> tuple[str, list[str]]:
    """Make the sheet readable in a meeting (frozen header, widths, formats). Idempotent.

    Returns the sheet's description and notices (what `force` dropped) for messages."""
    backend = open_backend(project, force=force)
    with backend.session():
        backend.format(project.layout())
    return backend.describe(), list(backend.notices)


@dataclass
class RepairPlan(Plan):
    rows: int = 0  # keyed rows whose owned cells are recorded


@dataclass(frozen=True)
class Repaired:
    sheet: str
    rows: int  # keyed rows whose owned cells are now recorded as sheetsync's


def repair_state(project: Project, force: bool = False) -> Repaired:
    """Rebuild the hidden state tab from the sheet: every owned cell's current value is taken
    as what sheetsync last wrote. Run `sync --dry-run` next: cells whose run folders now say
    otherwise are listed, and `sync` updates them."""
    layout = project.layout()
    backend = open_backend(project, force=force)
    with backend.session():
        backend.create_tabs([layout.state_tab], hidden=[layout.state_tab])

    def make_plan(snapshot: Snapshot) -> RepairPlan:
        state = State(layout.state_tab, snapshot.grid(layout.state_tab))
        count = 0
        for table in layout.tables():
            grid = snapshot.grid(table.tab)
            if not grid:
                continue
            header = read_header(grid, table)
            owned = [c.key for c in table.columns if c.owned and header.col(c.key)]
            for key, row in parse_rows(grid, header).items():
                values = {k: row.get(k) for k in owned if not is_empty(row.get(k))}
                if values:
                    state.record(table.tab, key, values)
                    count += 1
        return RepairPlan(state_writes=state.writes(), rows=count)

    plan, _ = cycle(backend, all_tabs(layout), make_plan)
    return Repaired(backend.describe(), plan.rows)


def check_state(snapshot: Snapshot, layout: Layout, rows: Mapping[str, Row], where: str) -> None:
    """Refuse to plan when the state tab is gone or empty while the sheet holds results:
    every value sheetsync wrote would otherwise look like a person's edit."""
    grid = snapshot.grid(layout.state_tab)
    if grid is not None and any(not is_empty(v) for line in grid[1:] for v in line):
        return
    results = [c.key for c in layout.runs.owned("result")]
    if any(not is_empty(row.get(k)) for row in rows.values() for k in results):
        what = "is gone" if grid is None else "is empty"
        raise SheetError(
            f"{where}: the hidden {layout.state_tab!r} tab, where sheetsync keeps what it wrote, "
            f"{what} while the {layout.runs.tab} tab has results; run `sheetsync init --repair` "
            "to rebuild it from the sheet"
        )
