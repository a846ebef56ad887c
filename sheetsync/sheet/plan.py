"""The sync plan: pure data in (the sheet's cells, what sheetsync last wrote, what it would
write now), cell changes out. No I/O here; this is where the no-clobber rules live."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sheetsync.errors import SheetError
from sheetsync.layout import Table
from sheetsync.sheet.grid import (
    Blocked,
    CellWrite,
    Grid,
    cell,
    column_letter,
    is_empty,
    last_used_row,
    same,
)
from sheetsync.sheet.header import Header, index_rows, read_header
from sheetsync.sheet.state import State
from sheetsync.vocab import Value

_ABSENT = object()


@dataclass(frozen=True)
class CellChange:
    """One planned cell write, in a person's terms: which row, which column, old -> new."""

    tab: str
    key: str
    column: str
    header: str
    row: int
    col: int
    old: Value
    new: Value
    reason: str

    def describe(self, with_key: bool = True) -> str:
        where = f"{self.header} ({column_letter(self.col)}{self.row})"
        if with_key:
            where = f"{self.key} / {where}"
        return f"{where}: {_show(self.old)} -> {_show(self.new)}"


@dataclass(frozen=True)
class Conflict:
    """A cell a person changed that sheetsync would have written (or that it never rewrites)."""

    tab: str
    key: str
    header: str
    row: int
    col: int
    sheet: Value
    tool: Value
    kind: str
    resolved: str

    def describe(self) -> str:
        where = f"{self.key} / {self.header} ({column_letter(self.col)}{self.row})"
        return (
            f"{where}: {self.kind}: sheet has {_show(self.sheet)}, sheetsync has "
            f"{_show(self.tool)} ({self.resolved})"
        )


def _show(value: Value) -> str:
    if is_empty(value):
        return "(empty)"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


@dataclass
class Plan:
    """Everything one command would write, and everything it found but will not write."""

    changes: list[CellChange] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    state_writes: list[CellWrite] = field(default_factory=list)
    key_cols: dict[str, int] = field(default_factory=dict)
    landed: dict[str, int] = field(default_factory=dict)  # appended key -> its row, as written
    tab_writes: list[CellWrite] = field(default_factory=list)  # a tab sheetsync owns whole

    @property
    def empty(self) -> bool:
        return not self.changes and not self.state_writes and not self.tab_writes

    def writes(self) -> list[CellWrite]:
        cells = [
            CellWrite(
                c.tab,
                c.row,
                c.col,
                c.new,
                c.old,
                c.key if c.reason not in ("new row", "header") else None,
                self.key_cols.get(c.tab) if c.reason not in ("new row", "header") else None,
            )
            for c in self.changes
        ]
        return cells + self.tab_writes + self.state_writes

    def by_key(self) -> dict[str, list[CellChange]]:
        out: dict[str, list[CellChange]] = {}
        for change in self.changes:
            out.setdefault(change.key, []).append(change)
        return out


def plan_header(grid: Grid | None, table: Table) -> list[CellChange]:
    """Owned columns missing from a tab's header, added at its right end (never reordered)."""
    header = read_header(grid, table, require=False)
    width = header.width
    while width and is_empty(cell(grid or [], 1, width)):
        width -= 1
    changes = []
    fresh = not header.positions
    for col in table.columns:
        if col.key in header.positions or (not col.owned and not fresh):
            continue
        width += 1
        changes.append(
            CellChange(
                table.tab, "(header)", col.key, col.header, 1, width, None, col.header, "header"
            )
        )
    return changes


def plan_append(
    grid: Grid,
    header: Header,
    rows: Sequence[Mapping[str, Value]],
    state: State,
) -> list[CellChange]:
    """New rows below the last used row; refuses a key that is already in the tab."""
    table = header.table
    existing = index_rows(grid, header)
    row = last_used_row(grid) + 1
    row = max(row, 2)
    changes: list[CellChange] = []
    for values in rows:
        key = str(values[table.key.key])
        refuse_present(header, existing, key)
        existing[key] = row
        recorded: dict[str, Value] = {}
        for col in table.columns:
            pos = header.col(col.key)
            value = values.get(col.key)
            if pos is None or is_empty(value):
                continue
            changes.append(
                CellChange(table.tab, key, col.key, col.header, row, pos, None, value, "new row")
            )
            if col.owned:
                recorded[col.key] = value
        state.record(table.tab, key, recorded, fresh=True)
        row += 1
    return changes


def refuse_present(header: Header, existing: Mapping[str, int], key: str) -> None:
    """A key already in the tab is refused: rows are appended once, never redefined."""
    if key in existing:
        table = header.table
        raise SheetError(
            f"{table.tab} tab: {table.key.header} {key!r} is already in row {existing[key]}"
        )


def owned_cells(grid: Grid, header: Header, keys: Iterable[str]) -> dict[str, dict[str, Value]]:
    """The owned cells (launch and result) of these keys' rows as the sheet holds them: what
    the state tab's digests are checked against before planning (`State.resolve`)."""
    table = header.table
    rows = index_rows(grid, header)
    owned = [(c.key, header.col(c.key)) for c in table.owned("launch") + table.owned("result")]
    places = [(k, pos - 1) for k, pos in owned if pos is not None]
    out: dict[str, dict[str, Value]] = {}
    for key in keys:
        if key in rows and rows[key] - 1 < len(grid):
            line = grid[rows[key] - 1]
            out[key] = {k: line[i] for k, i in places if i < len(line)}
    return out


def plan_update(
    grid: Grid,
    header: Header,
    desired: Mapping[str, Mapping[str, Value]],
    state: State,
    overwrite: bool = False,
    blocked: Blocked | None = None,
) -> tuple[list[CellChange], list[Conflict]]:
    """Bring result cells of existing rows to `desired`, without clobbering a person's edit.

    For each result cell: equal -> nothing; empty (never filled, or cleared by a person)
    -> fill; equal to what sheetsync last wrote -> update; otherwise a person wrote it ->
    a conflict, kept unless `overwrite`. Launch cells are never rewritten: a launch cell
    that differs from what `add` wrote is reported. A cell the backend cannot write
    (`blocked`: merged, locked) is a conflict too, and is not recorded as written, so the
    next sync tries again rather than taking the old value for a person's edit.

    `state` holds what was written for every row of `desired` already (`State.resolve` over
    `owned_cells`, before planning): planning reads nothing.
    """
    table = header.table
    rows = index_rows(grid, header)
    changes: list[CellChange] = []
    conflicts: list[Conflict] = []
    launch = [(c, header.col(c.key)) for c in table.owned("launch")]
    launch = [(c, pos) for c, pos in launch if pos is not None]
    results = [(c, header.col(c.key)) for c in table.owned("result")]
    results = [(c, pos) for c, pos in results if pos is not None]
    for key in sorted((k for k in desired if k in rows), key=rows.__getitem__):
        r = rows[key]
        line = grid[r - 1]
        width = len(line)
        values = desired[key]
        written = state.written(table.tab, key) or {}
        recorded: dict[str, Value] = {}
        for col, pos in launch:
            if col.key not in written:
                continue
            now = line[pos - 1] if pos <= width else None
            was = written[col.key]
            if not (now.__class__ is was.__class__ and now == was or same(now, was)):
                conflicts.append(
                    Conflict(
                        table.tab,
                        key,
                        col.header,
                        r,
                        pos,
                        now,
                        written[col.key],
                        "launch cell changed since `add`",
                        "never rewritten",
                    )
                )
        for col, pos in results:
            if col.key not in values:
                continue
            new = values[col.key]
            now = line[pos - 1] if pos <= width else None
            # `same`'s own first test, inline: most cells of a sync are unchanged
            if (now.__class__ is new.__class__ and now == new) or same(now, new):
                was = written.get(col.key, _ABSENT)
                if was is _ABSENT:
                    if not is_empty(new):  # an empty cell is recorded as nothing
                        recorded[col.key] = new
                elif not (was.__class__ is new.__class__ and was == new or same(was, new)):
                    recorded[col.key] = new
                continue
            ours = col.key in written and same(now, written[col.key])
            if is_empty(now) or ours:
                reason = "fill" if is_empty(now) else ("clear" if is_empty(new) else "update")
            else:
                resolved = "overwritten (--overwrite)" if overwrite else "kept"
                conflicts.append(
                    Conflict(
                        table.tab, key, col.header, r, pos, now, new, "edited by a person", resolved
                    )
                )
                if not overwrite:
                    continue
                reason = "overwrite"
            why = blocked(table.tab, r, pos) if blocked is not None else None
            if why:
                conflicts.append(
                    Conflict(table.tab, key, col.header, r, pos, now, new, why, "not written")
                )
                continue
            changes.append(
                CellChange(table.tab, key, col.key, col.header, r, pos, now, new, reason)
            )
            recorded[col.key] = new
        if recorded:
            state.record(table.tab, key, recorded)
    return changes, conflicts


def finish(plan: Plan, state: State, headers: Iterable[Header]) -> Plan:
    """Attach the state tab's writes and the key columns the backend verifies rows by.

    State is written with cell changes, and without them when a record was refreshed (a
    cell already showing the value sheetsync wants while the state tab holds an older one):
    dropping that refresh would take the next real update for a person's edit."""
    if plan.changes or state.refreshed():
        plan.state_writes = state.writes()
    for header in headers:
        pos = header.col(header.table.key.key)
        if pos is not None:
            plan.key_cols[header.table.tab] = pos
    return plan
