"""A sheet as plain data: grids of cell values, cells to write, a read's snapshot.

A grid is row-major and holds plain values only (`sheetsync.vocab.Value`): dates and times
are read back as ISO text (`2026-06-01`, `2026-06-01 14:05`). Rows and columns are 1-based,
as in A1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sheetsync.vocab import Value, finite, is_empty

Grid = list[list[Value]]


@dataclass(frozen=True)
class CellWrite:
    """One cell to write, with what the planner saw there, so a backend can refuse stale plans.

    `row_key` is the run id the planner expects in the row's key column (`key_col`);
    it is None for header cells and for tabs without a key column. `check` False: the planner
    did not read the cell (another cell of the row vouches for it), so `expect` is not checked.
    """

    tab: str
    row: int
    col: int
    value: Value
    expect: Value = None
    row_key: str | None = None
    key_col: int | None = None
    check: bool = True


Landed = dict[str, dict[tuple[str, ...], int]]
"""Where appended rows landed: tab -> a new row's key (its key columns' text) -> its row."""


def new_rows(
    writes: Sequence[CellWrite], keys: Mapping[str, Sequence[int]]
) -> dict[tuple[str, int], dict[int, Value]]:
    """A plan's new rows to append (below row 1 in the tabs of `keys`): (tab, planned row)
    -> column -> value."""
    rows: dict[tuple[str, int], dict[int, Value]] = {}
    for w in writes:
        if w.tab in keys and w.row > 1:
            rows.setdefault((w.tab, w.row), {})[w.col] = w.value
    return rows


Blocked = Callable[[str, int, int], str | None]
Skip = Mapping[str, "Sequence[int] | Callable[[list[Value], int], Sequence[int]]"]
"""Columns a read may leave out below a tab's header: tab -> columns, or a rule giving them
from the tab's header row and width (people's own columns, wherever they are)."""


@dataclass(frozen=True)
class Snapshot:
    """The grids of the tabs that were read, a backend-specific version token, which cells
    the backend cannot write (`blocked(tab, row, col)` says why, e.g. merged cells), and the
    columns of a tab it did not read below the header (`skipped`; they read as empty)."""

    grids: dict[str, Grid]
    token: object = None
    blocked: Blocked | None = None
    skipped: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def grid(self, tab: str) -> Grid | None:
        return self.grids.get(tab)


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def same(a: Value, b: Value) -> bool:
    """Whether two cell values say the same thing (numbers to 1e-9, text stripped)."""
    if a.__class__ is b.__class__ and a == b:
        return True  # the common case of a sync that changes nothing, without the arithmetic
    if is_empty(a) or is_empty(b):
        return is_empty(a) and is_empty(b)
    na, nb = finite(a), finite(b)
    if na is not None and nb is not None:
        return math.isclose(na, nb, rel_tol=1e-9, abs_tol=1e-12)
    return str(a).strip() == str(b).strip()


def cell(grid: Grid, row: int, col: int) -> Value:
    """The value at 1-based (row, col), None beyond the grid's ragged edges."""
    if row - 1 >= len(grid):
        return None
    values = grid[row - 1]
    return values[col - 1] if col - 1 < len(values) else None


def last_used_row(grid: Grid) -> int:
    for r in range(len(grid), 0, -1):
        if any(not is_empty(v) for v in grid[r - 1]):
            return r
    return 0
