"""`sync`: fill the result cells of the runs in the sheet from their folders, never
clobbering a person's edit."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sheetsync.errors import RunError, SheetError
from sheetsync.project import Project
from sheetsync.records.endings import Judge
from sheetsync.records.launches import has_launch_record
from sheetsync.records.names import run_id_problem
from sheetsync.records.runcache import RunCache, gc_paused
from sheetsync.records.runs import Run, error_status
from sheetsync.records.sources import RunsRead
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cycle import all_tabs, cycle, grid_or_error, load_state, sync_skip
from sheetsync.sheet.grid import Snapshot
from sheetsync.sheet.header import read_header
from sheetsync.sheet.init import check_state
from sheetsync.sheet.plan import Plan, finish, owned_cells, plan_update
from sheetsync.sheet.review_sync import ReviewPlan, after, keep_chart, make_review_tab, plan_review
from sheetsync.sheet.rows import Row, parse_rows
from sheetsync.sheet.sources import result_sources
from sheetsync.vocab import Value


@dataclass
class SyncPlan(Plan):
    """A sync's plan with what its reading found: the runs read, the rows without a folder,
    the folders without a row, the runs whose files are malformed, what the sources had to
    say."""

    synced: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rowless: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    review: ReviewPlan | None = None  # the Review tab as planned (its writes: `tab_writes`)
    errors: list[str] = field(default_factory=list)  # one line per run whose files are bad


@dataclass
class SyncResult:
    sheet: str
    plan: Plan
    applied: bool
    synced: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rowless: list[Path] = field(default_factory=list)  # added (launch record) but no row
    notices: list[str] = field(default_factory=list)
    review: ReviewPlan | None = None  # the Review tab as planned, or as made on first use
    errors: list[str] = field(default_factory=list)  # runs whose files are malformed: exit 1
    review_tab: str = ""  # the Review tab's name when this sync wrote it (dry run: would)


def _runs_to_sync(
    project: Project,
    rows: Mapping[str, Row],
    run_dirs: Sequence[str | Path] | None,
    table_tab: str,
    cache: RunCache,
) -> RunsRead:
    """The runs to sync, the rows whose runs are not here, and the runs whose files are
    malformed (their rows show the error; the others are read)."""
    source = project.run_source(cache.run)  # every run read through the stamp cache
    if not run_dirs:
        return source.read_runs(list(rows), keep_broken=True)  # in sheet order
    runs: list[Run] = []
    broken: dict[str, RunError] = {}
    for path in run_dirs:
        try:
            run = source.read(path)
        except RunError as exc:
            run_id = source.run_id(path)
            if run_id not in rows:
                raise
            broken[run_id] = exc
            continue
        if run.run_id not in rows:
            raise SheetError(
                f"{table_tab} tab: run {run.run_id!r} is not in the sheet; "
                f"add it first with `sheetsync add {path}`"
            )
        runs.append(run)
    return RunsRead(tuple(runs), (), broken)


def rowless_runs(project: Project, rows: Mapping[str, Row]) -> list[Path]:
    """Run folders `add` recorded whose row is not in the sheet (a save lost it, or a person
    deleted it): `sheetsync add --restore` puts each back."""
    root = project.runs_dir
    if not root.is_dir():
        return []
    with os.scandir(root) as entries:
        names = [e.name for e in entries if e.name not in rows and e.is_dir()]
    return sorted(
        root / n for n in names if run_id_problem(n) is None and has_launch_record(root / n)
    )


def sync_runs(
    project: Project,
    run_dirs: Sequence[str | Path] | None = None,
    dry_run: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    force: bool = False,
) -> SyncResult:
    """Fill result cells of the runs in the sheet from their folders; never clobber people.

    `progress(done, total)` is called as runs are read (a CLI shows a bar with it).
    """
    layout = project.layout()
    backend = open_backend(project, force=force)
    table = layout.runs
    judge = Judge(project.stalled_after)  # sacct asked once, however often the plan is made

    def make_plan(cache: RunCache, snapshot: Snapshot) -> SyncPlan:
        # reading: the sheet as read, the run folders, the state rows of these runs
        grid = grid_or_error(snapshot, table.tab, backend)
        header = read_header(grid, table)
        notices: list[str] = []
        rows = parse_rows(grid, header, notices)
        check_state(snapshot, layout, rows, backend.describe())
        read = _runs_to_sync(project, rows, run_dirs, table.tab, cache)
        runs, said = judge(read.runs)  # stalled, and the scheduler's word
        notices += said
        rowless = [] if run_dirs else rowless_runs(project, rows)
        scaling = snapshot.grid(layout.scaling.tab)
        sources = result_sources(project, layout, rows, scaling, cache)
        desired: dict[str, dict[str, Value]] = {}
        for done, run in enumerate(runs, 1):
            if progress is not None:
                progress(done, len(runs))
            values: dict[str, Value] = {}
            for source in sources.cells:
                values.update(source(run, rows[run.run_id]))
            desired[run.run_id] = values
        for run_id, error in read.broken.items():  # only its status: its other cells stay
            desired[run_id] = {"status": error_status(error, project.run_dir(run_id))}
        notices += sources.notices()
        cells = {table.tab: owned_cells(grid, header, desired)}
        state = load_state(backend, snapshot, layout.state_tab, cells)
        # planning: values in, the plan out
        changes, conflicts = plan_update(grid, header, desired, state, overwrite, snapshot.blocked)
        synced = [r.run_id for r in runs]
        found = SyncPlan(changes, conflicts, synced=synced, missing=list(read.missing))
        found.rowless, found.notices = rowless, notices
        found.errors = [str(e) for e in read.broken.values()]
        found.review = plan_review(project, layout, snapshot, after(grid, changes))
        found.tab_writes = found.review.writes
        return finish(found, state, [header])

    def synced() -> tuple[SyncPlan, bool]:
        cache = RunCache.for_project(project.root, project.folders)
        plan = functools.partial(make_plan, cache)
        tabs = [*all_tabs(layout), layout.review_tab]
        done = cycle(backend, tabs, plan, dry_run, skip=sync_skip(layout))
        cache.save()
        return done  # the cache is freed here, before the collector resumes (else it walks it)

    with gc_paused():
        plan, applied = synced()
    review = plan.review
    wrote_review = review is not None and bool(review.writes or review.missing)
    if not dry_run and review is not None:
        if review.missing:
            review = make_review_tab(project, backend, layout) or review
            keep_chart(backend, layout, review.tab)
        elif review.writes or backend.charts_every_sync:
            keep_chart(backend, layout, review.tab)
    notices = plan.notices + list(backend.notices)
    return SyncResult(
        backend.describe(),
        plan,
        applied,
        plan.synced,
        plan.missing,
        plan.rowless,
        notices,
        review,
        plan.errors,
        layout.review_tab if wrote_review else "",
    )
