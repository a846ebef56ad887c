"""Keeping the Review tab: its cells planned inside `sync`'s own cycle (the same read, the
same write: cells that differ from what the tab holds, nothing when none differ), the tab
made on first use, and its chart kept by the backend (`keep_chart`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sheetsync.layout import Layout
from sheetsync.project import Project
from sheetsync.sheet.backends.base import Backend
from sheetsync.sheet.chart_plan import WIDTHS
from sheetsync.sheet.cycle import cycle
from sheetsync.sheet.grid import CellWrite, Grid, Snapshot, cell, same
from sheetsync.sheet.header import records_of
from sheetsync.sheet.plan import CellChange, Plan
from sheetsync.sheet.review_tab import ReviewTab, review_grid


@dataclass
class ReviewPlan:
    tab: ReviewTab
    writes: list[CellWrite]
    missing: bool  # the sheet has no Review tab yet


def after(grid: Grid, changes: Sequence[CellChange]) -> Grid:
    """The grid as it will be once `changes` are written (rows copied only where changed)."""
    out = list(grid)
    copied: set[int] = set()
    for c in changes:
        while len(out) < c.row:
            out.append([])
        if c.row not in copied:
            out[c.row - 1] = list(out[c.row - 1])
            copied.add(c.row)
        line = out[c.row - 1]
        while len(line) < c.col:
            line.append(None)
        line[c.col - 1] = c.new
    return out


def diff(tab: str, now: Grid | None, wanted: Grid) -> list[CellWrite]:
    """The cells of `tab` to write so that it holds `wanted` and nothing else."""
    now = now or []
    height = max(len(now), len(wanted))
    writes = []
    for r in range(1, height + 1):
        width = max(
            len(now[r - 1]) if r <= len(now) else 0, len(wanted[r - 1]) if r <= len(wanted) else 0
        )
        for c in range(1, width + 1):
            old, new = cell(now, r, c), cell(wanted, r, c)
            if not same(old, new):
                writes.append(CellWrite(tab, r, c, new, old))
    return writes


def plan_review(
    project: Project,
    layout: Layout,
    snapshot: Snapshot,
    runs: Grid,
    today: dt.date | None = None,
) -> ReviewPlan:
    """The Review tab's writes for the Runs tab as `runs` (after this cycle's changes)."""
    records, _ = records_of(runs, layout.runs)
    fits, _ = records_of(snapshot.grid(layout.scaling.tab), layout.scaling)
    tab = review_grid(records, fits, project.review_days, today, project)
    now = snapshot.grid(layout.review_tab)
    if now is None:
        return ReviewPlan(tab, [], True)
    return ReviewPlan(tab, diff(layout.review_tab, now, tab.grid), False)


def keep_chart(backend: Backend, layout: Layout, review: ReviewTab) -> list[str]:
    """Ask the backend to keep the tab's chart."""
    if review.chart is None:
        return []
    with backend.session():
        backend.keep_chart(layout.review_tab, review.chart)
    return []


def create_review_tab(backend: Backend, layout: Layout) -> None:
    """Create the Review tab if it is missing, with its column widths; the backend protects
    it, where it can, with a warning (people may edit after a prompt; sync rewrites it)."""
    with backend.session():
        backend.create_tabs([layout.review_tab])
        note = "Written by sheetsync sync from the Runs tab: edits here are overwritten"
        backend.prepare_tab(layout.review_tab, WIDTHS, note)


def make_review_tab(
    project: Project, backend: Backend, layout: Layout, today: dt.date | None = None
) -> ReviewPlan | None:
    """A sheet made before the Review tab existed: create it, then fill it in a cycle of its
    own (`init` creates it with the other tabs)."""
    create_review_tab(backend, layout)
    found: list[ReviewPlan] = []

    def make_plan(snapshot: Snapshot) -> Plan:
        runs = snapshot.grid(layout.runs.tab) or []
        review = plan_review(project, layout, snapshot, runs, today)
        found[:] = [review]
        return Plan(tab_writes=review.writes)

    tabs = [layout.runs.tab, layout.scaling.tab, layout.review_tab]
    cycle(backend, tabs, make_plan)
    return found[0] if found else None
