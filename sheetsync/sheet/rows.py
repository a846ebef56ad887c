"""A run's row as the sheet has it: its run id, where it is, and its cells by column key."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sheetsync.records.names import BaselineRef
from sheetsync.sheet.grid import Grid
from sheetsync.sheet.header import Header, index_rows
from sheetsync.vocab import Value


@dataclass(frozen=True)
class Row(Mapping[str, Value]):
    """One keyed row: what result-cell sources and checks read of the sheet (a mapping of
    column key to value, with its run id and row number)."""

    run_id: str
    number: int
    values: Mapping[str, Value] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Value:
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    def get(self, key: str, default: Value = None) -> Value:  # type: ignore[override]
        return self.values.get(key, default)  # Mapping's own get goes through __getitem__

    def __contains__(self, key: object) -> bool:
        return key in self.values

    @property
    def baseline_ref(self) -> str:
        """The dated baseline the row names, as `NAME@DATE`."""
        return BaselineRef.of_row(self)

    @property
    def role(self) -> str:
        return str(self.get("role") or "feature")


def parse_rows(grid: Grid, header: Header, notes: list[str] | None = None) -> dict[str, Row]:
    """Every keyed row of a tab, in sheet order. Blank-key rows are people's and skipped; in
    the Runs tab a key that is not a run id is skipped with a note in `notes`."""
    keys = list(header.positions)
    cols = [c - 1 for c in header.positions.values()]
    width = max(cols, default=-1) + 1
    pick = operator.itemgetter(*cols) if len(cols) > 1 else None
    rows = {}
    for key, r in sorted(index_rows(grid, header, notes).items(), key=lambda kv: kv[1]):
        line = grid[r - 1]  # index_rows found r in the grid
        if len(line) < width:
            line = line + [None] * (width - len(line))
        picked = pick(line) if pick is not None else [line[c] for c in cols]
        rows[key] = Row(key, r, dict(zip(keys, picked, strict=True)))
    return rows
