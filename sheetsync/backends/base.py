"""The small protocol every sheet backend satisfies: read grids, write planned cells.

Backends only read and write; every decision lives in `sheetsync.plan`.
A grid is row-major and holds plain values only: str, int, float, bool or None
(empty). Dates and times are read back as ISO text (`2026-06-01`,
`2026-06-01 14:05`). Rows and columns in `CellWrite` are 1-based, as in A1.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sheetsync.layout import Layout

Value = str | int | float | bool | None
Grid = list[list[Value]]


@dataclass(frozen=True)
class CellWrite:
    """One cell to write, with what the planner saw there, so a backend can refuse stale plans.

    `row_key` is the run id the planner expects in the row's key column (`key_col`);
    it is None for header cells and for tabs without a key column.
    """

    tab: str
    row: int
    col: int
    value: Value
    expect: Value = None
    row_key: str | None = None
    key_col: int | None = None


@dataclass(frozen=True)
class Snapshot:
    """The grids of the tabs that were read, and a backend-specific version token."""

    grids: dict[str, Grid]
    token: object = None

    def grid(self, tab: str) -> Grid | None:
        return self.grids.get(tab)


@runtime_checkable
class Backend(Protocol):
    """What the engine needs from a sheet. `describe()` names it in messages."""

    def describe(self) -> str: ...

    def session(self) -> AbstractContextManager[None]:
        """Hold the sheet for one read-plan-write cycle (a file lock locally)."""
        ...

    def read(self, tabs: Sequence[str]) -> Snapshot:
        """Read the named tabs (missing tabs are absent from `grids`)."""
        ...

    def write(self, snapshot: Snapshot, writes: Sequence[CellWrite]) -> None:
        """Write exactly these cells, all or nothing.

        Raises `StaleSheet` when the sheet no longer matches `snapshot` where it matters
        (a row moved, a header moved, an expected value changed); the engine then re-reads
        and re-plans. Writes nothing when `writes` is empty.
        """
        ...

    def create_tabs(self, tabs: Sequence[str], hidden: Sequence[str] = ()) -> None:
        """Create the tabs that do not exist yet; never touches existing ones."""
        ...

    def format(self, layout: Layout) -> None:
        """Make the sheet readable in a meeting (frozen header, widths, number formats,
        conditional colours). Idempotent."""
        ...


def rows_of(grid: Grid | None) -> Iterator[list[Value]]:
    """Rows of a grid (empty when the tab is absent)."""
    yield from grid or []
