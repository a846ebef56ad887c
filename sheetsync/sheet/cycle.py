"""The read -> plan -> write cycle every writing command runs, and one way to append rows.

A cycle holds the backend's session (a lock), reads the tabs once, plans with pure functions,
and writes the plan in one go. When the sheet changed between read and write (a person saved
meanwhile), it re-reads and re-plans instead of overwriting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from sheetsync.errors import BackendError, SheetError, StaleSheet
from sheetsync.layout import Layout, Table
from sheetsync.sheet.grid import Grid, Skip, Snapshot
from sheetsync.sheet.header import index_rows, people_columns, read_header
from sheetsync.sheet.plan import Plan, finish, plan_append
from sheetsync.sheet.state import STATE_KEYS, WRITTEN, State
from sheetsync.vocab import Value

if TYPE_CHECKING:
    from sheetsync.sheet.backends.base import Backend

P = TypeVar("P", bound=Plan)
Appending = Callable[[Plan], Mapping[str, Sequence[int]]]

ATTEMPTS = 4
MAX_BOXES = 200  # ranges in one fetch of state rows; more read the whole column


def all_tabs(layout: Layout) -> list[str]:
    return [t.tab for t in layout.tables()] + [layout.state_tab]


def cycle(
    backend: Backend,
    tabs: Sequence[str],
    make_plan: Callable[[Snapshot], P],
    dry_run: bool = False,
    append: Appending | None = None,
    skip: Skip | None = None,
) -> tuple[P, bool]:
    """Read, plan, write; re-read and re-plan when the sheet changed underneath.

    `make_plan` returns everything it found with the plan (a `Plan` of its own kind); it
    reads what it needs of the snapshot's skipped columns (`load_state`) before planning.
    With `append` (the plan -> tab -> its key columns), new rows of those tabs are appended
    where the backend places them (no concurrent writer can claim the same row), and
    `plan.landed` says where each key landed. `skip` (tab -> columns) need not be read below
    the header."""
    with backend.session():
        for _ in range(ATTEMPTS):
            snapshot = backend.read(tabs, skip)
            plan = make_plan(snapshot)
            if dry_run or plan.empty:
                return plan, False
            try:
                if append is None:
                    backend.write(snapshot, plan.writes())
                else:
                    landed = backend.append_rows(snapshot, plan.writes(), append(plan))
                    plan.landed = {k[0]: r for rows in landed.values() for k, r in rows.items()}
            except StaleSheet:
                continue
            return plan, True
    raise BackendError(
        f"{backend.describe()}: the sheet kept changing while sheetsync was writing "
        f"({ATTEMPTS} attempts); nothing was written, run the command again"
    )


def lazy_state(layout: Layout) -> Skip:
    """What a cycle need not read of the state tab: the JSON of rows nobody changed."""
    return {layout.state_tab: (WRITTEN,)}


def sync_skip(layout: Layout) -> Skip:
    """What a sync need not read: the state tab's JSON, and people's own columns of Runs."""
    return {**lazy_state(layout), layout.runs.tab: people_columns(layout.runs)}


def load_state(
    backend: Backend,
    snapshot: Snapshot,
    tab: str,
    cells: Mapping[str, Mapping[str, Mapping[str, Value]]] | None = None,
) -> State:
    """The state tab as read, with what was written settled for the rows a plan needs
    (`cells`: tab -> key -> the row's owned cells as the sheet holds them, `owned_cells`),
    then sealed: planning reads nothing. When the read skipped the `written` column, the rows
    whose cells no longer match their digest are fetched: contiguous rows as one range, the
    whole column when they are many."""
    grid = snapshot.grid(tab)
    if WRITTEN not in snapshot.skipped.get(tab, ()):
        return _resolved(State(tab, grid), cells)

    def fetch(rows: Sequence[int]) -> dict[int, Value]:
        boxes: list[tuple[int, int, int | None, int | None]] = []
        for r in sorted(rows):
            if boxes and boxes[-1][2] == r - 1:
                boxes[-1] = (boxes[-1][0], WRITTEN, r, WRITTEN)
            else:
                boxes.append((r, WRITTEN, r, WRITTEN))
        if len(boxes) > MAX_BOXES:
            boxes = [(2, WRITTEN, None, WRITTEN)]
        found: dict[int, Value] = {}
        for (r0, *_), part in zip(boxes, backend.read_boxes(snapshot, tab, boxes), strict=True):
            for i, line in enumerate(part):
                found[r0 + i] = line[0] if line else None
        return {r: found.get(r) for r in rows}

    return _resolved(State(tab, grid, fetch), cells)


def _resolved(state: State, cells: Mapping[str, Mapping[str, Mapping[str, Value]]] | None) -> State:
    for table_tab, rows in (cells or {}).items():
        state.resolve(table_tab, rows)
    return state.seal()


def grid_or_error(snapshot: Snapshot, tab: str, backend: Backend) -> Grid:
    """The tab's grid, or a one-line error telling the person to run `init`."""
    grid = snapshot.grid(tab)
    if grid is None:
        raise SheetError(f"{backend.describe()}: no {tab!r} tab; run `sheetsync init` first")
    return grid


def append_rows(
    backend: Backend,
    layout: Layout,
    table: Table,
    rows: Sequence[Mapping[str, Value]],
    skip_existing: bool = False,
) -> Plan:
    """Append keyed rows to a tab (runs, baselines, fits) in one cycle.

    A key already in the tab is refused, or, with `skip_existing`, left as it is.
    """

    def make_plan(snapshot: Snapshot) -> Plan:
        grid = grid_or_error(snapshot, table.tab, backend)
        header = read_header(grid, table)
        todo = list(rows)
        if skip_existing:
            present = index_rows(grid, header)
            todo = [r for r in todo if str(r[table.key.key]) not in present]
            if not todo:
                return Plan()
        state = load_state(backend, snapshot, layout.state_tab)
        return finish(Plan(plan_append(grid, header, todo, state)), state, [header])

    def keys(plan: Plan) -> dict[str, Sequence[int]]:
        """The key columns new rows are told by: the tab's key column as read, the state
        tab's tab and key columns."""
        return {layout.state_tab: STATE_KEYS, table.tab: (plan.key_cols[table.tab],)}

    tabs = [table.tab, layout.state_tab]
    plan, _ = cycle(backend, tabs, make_plan, append=keys, skip=lazy_state(layout))
    return plan
