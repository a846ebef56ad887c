"""The commands' library side: init, add and sync as read -> plan -> write cycles.

Each cycle holds the backend's session (a lock), reads the tabs once, plans with the pure
functions of `sheetsync.plan`, and writes the plan in one go. When the sheet changed between
read and write (a person saved meanwhile), it re-reads and re-plans instead of overwriting.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sheetsync.backends.base import Backend, Snapshot, Value
from sheetsync.baselines import Baseline
from sheetsync.cells import ROLES, CellSource, launch_cells, progress_cells
from sheetsync.configs import Change, diff
from sheetsync.errors import BackendError, SheetError, StaleSheet, UsageError
from sheetsync.layout import TEMPLATES, Layout
from sheetsync.plan import (
    Header,
    Plan,
    State,
    finish,
    index_rows,
    plan_append,
    plan_header,
    plan_update,
    read_header,
)
from sheetsync.project import CONFIG_NAME, Project
from sheetsync.runs import Run, read_run, save_launch_copy

ATTEMPTS = 4
SourceFactory = Callable[[Project, Layout, Snapshot], Iterable[CellSource]]
SOURCE_FACTORIES: list[SourceFactory] = []


def cell_source(factory: SourceFactory) -> SourceFactory:
    """Register a factory of result-cell sources (evals, gains, checks) for every sync."""
    SOURCE_FACTORIES.append(factory)
    return factory


def all_tabs(layout: Layout) -> list[str]:
    return [t.tab for t in layout.tables()] + [layout.state_tab]


def cycle(
    backend: Backend,
    tabs: Sequence[str],
    make_plan: Callable[[Snapshot], Plan],
    dry_run: bool = False,
) -> tuple[Plan, bool]:
    """Read, plan, write; re-read and re-plan when the sheet changed underneath."""
    with backend.session():
        for _ in range(ATTEMPTS):
            snapshot = backend.read(tabs)
            plan = make_plan(snapshot)
            if dry_run or plan.empty:
                return plan, False
            try:
                backend.write(snapshot, plan.writes())
            except StaleSheet:
                continue
            return plan, True
    raise BackendError(
        f"{backend.describe()}: the sheet kept changing while sheetsync was writing "
        f"({ATTEMPTS} attempts); nothing was written, run the command again"
    )


def _grid(snapshot: Snapshot, tab: str, backend: Backend):
    grid = snapshot.grid(tab)
    if grid is None:
        raise SheetError(f"{backend.describe()}: no {tab!r} tab; run `sheetsync init` first")
    return grid


# --- init -----------------------------------------------------------------------------


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
    backend = project.backend()
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


# --- add ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingAdd:
    """What `add` will append, shown to the person before they confirm."""

    run: Run
    baseline: Baseline
    changes: list[Change]
    cells: Mapping[str, Value]


def prepare_add(
    project: Project,
    run_dir: Path,
    question: str,
    baseline_ref: str | None,
    role: str = "feature",
) -> PendingAdd:
    """Read the run, resolve its dated baseline, and compute the row; writes nothing."""
    if not question or not question.strip():
        raise UsageError("--question is empty: say what this run is meant to find out")
    run = read_run(Path(run_dir))
    registry = project.registry()
    if baseline_ref is None:
        names = registry.names()
        if len(names) != 1:
            known = ", ".join(names) or "none yet"
            raise UsageError(f"name the baseline with --baseline NAME[@DATE] (known: {known})")
        baseline_ref = names[0]
    baseline = registry.resolve(baseline_ref)
    changes = diff(baseline.config(), run.config)
    if role not in ROLES:
        raise UsageError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    cells = launch_cells(run, baseline, question.strip(), role=role)
    return PendingAdd(run, baseline, changes, cells)


def commit_add(project: Project, pending: PendingAdd) -> Plan:
    """Append the run's row (refusing a run id already in the sheet)."""
    layout = project.layout()
    backend = project.backend()
    table = layout.runs

    def make_plan(snapshot: Snapshot) -> Plan:
        grid = _grid(snapshot, table.tab, backend)
        header = read_header(grid, table)
        state = State(layout.state_tab, snapshot.grid(layout.state_tab))
        plan = Plan(changes=plan_append(grid, header, [pending.cells], state))
        return finish(plan, state, [header])

    plan, _ = cycle(backend, [table.tab, layout.state_tab], make_plan)
    save_launch_copy(pending.run)
    return plan


# --- sync -----------------------------------------------------------------------------


@dataclass
class SyncResult:
    sheet: str
    plan: Plan
    applied: bool
    synced: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _runs_to_sync(
    project: Project, rows: Mapping[str, int], run_dirs: Sequence[Path] | None, table_tab: str
) -> tuple[list[Run], list[str]]:
    if run_dirs:
        runs = []
        for path in run_dirs:
            run = read_run(Path(path))
            if run.run_id not in rows:
                raise SheetError(
                    f"{table_tab} tab: run {run.run_id!r} is not in the sheet; "
                    f"add it first with `sheetsync add {path}`"
                )
            runs.append(run)
        return runs, []
    runs, missing = [], []
    for run_id in sorted(rows, key=rows.get):
        folder = project.run_dir(run_id)
        if not folder.exists():
            missing.append(run_id)
            continue
        runs.append(read_run(folder))
    return runs, missing


def sync_runs(
    project: Project,
    run_dirs: Sequence[Path] | None = None,
    dry_run: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Fill result cells of the runs in the sheet from their folders; never clobber people.

    `progress(done, total)` is called as runs are read (a CLI shows a bar with it).
    """
    from sheetsync.plugins import load_plugins

    load_plugins()
    layout = project.layout()
    backend = project.backend()
    table = layout.runs
    result = SyncResult(backend.describe(), Plan(), False)

    def make_plan(snapshot: Snapshot) -> Plan:
        grid = _grid(snapshot, table.tab, backend)
        header = read_header(grid, table)
        rows = index_rows(grid, header)
        runs, result.missing = _runs_to_sync(project, rows, run_dirs, table.tab)
        result.synced = [r.run_id for r in runs]
        sources: list[CellSource] = [progress_cells]
        for factory in SOURCE_FACTORIES:
            sources.extend(factory(project, layout, snapshot))
        desired = {}
        result.notices = []
        for done, run in enumerate(runs, 1):
            if progress is not None:
                progress(done, len(runs))
            row = _row_values(grid, header, rows[run.run_id])
            values: dict[str, Value] = {}
            for source in sources:
                values.update(source(run, row))
            desired[run.run_id] = values
        for source in sources:
            result.notices += getattr(source, "notices", [])
        state = State(layout.state_tab, snapshot.grid(layout.state_tab))
        changes, conflicts = plan_update(grid, header, desired, state, overwrite)
        return finish(Plan(changes, conflicts), state, [header])

    result.plan, result.applied = cycle(backend, all_tabs(layout), make_plan, dry_run)
    result.notices += list(getattr(backend, "notices", []))
    return result


def _row_values(grid, header: Header, row: int) -> dict[str, Value]:
    from sheetsync.plan import cell

    return {key: cell(grid, row, col) for key, col in header.positions.items()}
