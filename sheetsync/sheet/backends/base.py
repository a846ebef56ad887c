"""The small protocol every sheet backend satisfies: read grids, write planned cells.

Backends only read and write; every decision lives in `sheetsync.sheet.plan`. Grids, cells
to write and snapshots are the plain data of `sheetsync.sheet.grid`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from sheetsync.sheet.grid import CellWrite, Grid, Landed, Skip, Snapshot

if TYPE_CHECKING:
    from sheetsync.layout import Layout
    from sheetsync.sheet.chart_plan import ChartPlan


@runtime_checkable
class Backend(Protocol):
    """What the engine needs from a sheet. `describe()` names it in messages; `notices` are
    what its reads and writes found worth telling a person (a tab found under another case, a
    value a person's sort kept from its row), said once by the command that caused them."""

    notices: list[str]

    def describe(self) -> str: ...

    def session(self) -> AbstractContextManager[None]:
        """Hold the sheet for one read-plan-write cycle (a file lock locally)."""
        ...

    def read(self, tabs: Sequence[str], skip: Skip | None = None) -> Snapshot:
        """Read the named tabs (missing tabs are absent from `grids`). The columns in `skip`
        (tab -> columns) need not be read below the header; those skipped are named in
        `Snapshot.skipped` and read as empty."""
        ...

    def read_boxes(
        self, snapshot: Snapshot, tab: str, boxes: Sequence[tuple[int, int, int | None, int | None]]
    ) -> list[Grid]:
        """Parts of a tab as `snapshot` read it (r0, c0, r1, c1; 1-based, None = to the end),
        each as a grid starting at its (r0, c0)."""
        ...

    def write(self, snapshot: Snapshot, writes: Sequence[CellWrite]) -> None:
        """Write exactly these cells, all or nothing.

        Raises `StaleSheet` when the sheet no longer matches `snapshot` where it matters
        (a row moved, a header moved, an expected value changed); the engine then re-reads
        and re-plans. Writes nothing when `writes` is empty.
        """
        ...

    def append_rows(
        self, snapshot: Snapshot, writes: Sequence[CellWrite], keys: Mapping[str, Sequence[int]]
    ) -> Landed:
        """Write a plan whose new rows (below row 1 in the tabs of `keys`) go where the backend
        places them, so two writers never claim one row; returns, per tab, each new row's
        key (the values of its `keys[tab]` columns) -> the row it landed in."""
        ...

    def create_tabs(self, tabs: Sequence[str], hidden: Sequence[str] = ()) -> None:
        """Create the tabs that do not exist yet; never touches existing ones."""
        ...

    def format(self, layout: Layout) -> None:
        """Make the sheet readable in a meeting (frozen header, widths, number formats,
        conditional colours). Idempotent."""
        ...

    def prepare_tab(self, tab: str, widths: Sequence[float], note: str) -> None:
        """A tab sheetsync writes whole (the Review tab), just made: its column widths, and
        where the backend can, a warning-only protection described by `note`."""
        ...

    charts_every_sync: bool  # keep_chart at every sync (it costs nothing when right), or
    # only when the tab changed

    def keep_chart(self, tab: str, plan: ChartPlan) -> None:
        """The tab's chart as `plan` draws it: added once, changed only when it differs."""
        ...
