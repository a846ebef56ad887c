"""Where things are in a tab: columns found by header text, rows found by key (run id)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sheetsync.errors import SheetError
from sheetsync.layout import Table
from sheetsync.records.names import RUN_ID_RULE, run_id_problem, shown
from sheetsync.sheet.grid import Grid, cell, column_letter, is_empty
from sheetsync.vocab import Value


@dataclass(frozen=True)
class Header:
    """Where each known column is in a tab: layout key -> 1-based column index."""

    table: Table
    positions: Mapping[str, int]
    width: int

    def col(self, key: str) -> int | None:
        return self.positions.get(key)


def read_header(grid: Grid | None, table: Table, require: bool = True) -> Header:
    """Find the layout's columns by header text (row 1). Owned headers must each appear once."""
    row = list(grid[0]) if grid else []
    if require and not any(not is_empty(v) for v in row):
        raise SheetError(
            f"{table.tab} tab: the header row (row 1) is empty; run `sheetsync init` or restore it",
            row=1,
            rule="header",
        )
    seen: dict[str, list[int]] = {}
    for i, value in enumerate(row, 1):
        if not is_empty(value):
            seen.setdefault(str(value).strip().casefold(), []).append(i)
    positions: dict[str, int] = {}
    for col in table.columns:
        where = seen.get(col.header.casefold(), [])
        if len(where) > 1 and col.owned:
            cols = " and ".join(column_letter(c) for c in where)
            raise SheetError(
                f"{table.tab} tab: column {col.header!r} appears twice in the header "
                f"(columns {cols}); rename or delete one",
                row=1,
                column=col.header,
                rule="header",
            )
        if where:
            positions[col.key] = where[0]
        elif require and col.owned:
            raise SheetError(
                f"{table.tab} tab: column {col.header!r} is missing from the header row; "
                "run `sheetsync init` to add it back, or restore its header text",
                row=1,
                column=col.header,
                rule="header",
            )
    return Header(table, positions, len(row))


def people_columns(table: Table) -> Callable[[list[Value], int], list[int]]:
    """A read's rule for leaving out people's own columns of a tab: every column whose header
    names none of the table's columns, and every column past the header."""
    names = {c.header.casefold() for c in table.columns}

    def rule(row: list[Value], width: int) -> list[int]:
        return [
            c
            for c in range(1, width + 1)
            if c > len(row)
            or is_empty(row[c - 1])
            or str(row[c - 1]).strip().casefold() not in names
        ]

    return rule


def index_rows(grid: Grid, header: Header, notes: list[str] | None = None) -> dict[str, int]:
    """Row number of each key (run id); blank keys are people's rows and are skipped.

    In the Runs tab a key that is not a run id (a path, spaces, `..`) is never used to find
    a folder: its row is ignored, with a note in `notes` when given.
    """
    table = header.table
    key_col = header.col(table.key.key)
    rows: dict[str, int] = {}
    if key_col is None:
        return rows
    for r in range(2, len(grid) + 1):
        value = cell(grid, r, key_col)
        if is_empty(value):
            continue
        key = key_text(value)
        if table.kind == "runs" and (problem := run_id_problem(key)) is not None:
            if notes is not None:
                notes.append(
                    f"{table.tab} tab row {r}, column {table.key.header!r}: {shown(key)} is "
                    f"not a run id (it {problem}; a run id is {RUN_ID_RULE}); row ignored"
                )
            continue
        if key != key.strip():
            raise SheetError(
                f"{table.tab} tab row {r}, column {table.key.header!r}: {shown(key)} has "
                "leading or trailing spaces; remove them",
                row=r,
                column=table.key.header,
                rule="key",
            )
        if key in rows:
            raise SheetError(
                f"{table.tab} tab: {table.key.header} {shown(key)} appears in rows {rows[key]} "
                f"and {r}; each must be unique (delete or rename one)",
                row=r,
                column=table.key.header,
                rule="unique key",
            )
        rows[key] = r
    return rows


def key_text(value: Value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def records_of(
    grid: Grid | None, table: Table, notes: list[str] | None = None
) -> tuple[list[dict[str, Value]], list[str]]:
    """A tab's keyed rows as records by column key, and people's extra column headers."""
    if not grid:
        return [], []
    header = read_header(grid, table)
    known = set(header.positions.values())
    extras = {
        c: str(v).strip() for c, v in enumerate(grid[0], 1) if c not in known and not is_empty(v)
    }
    out = []
    for _, r in sorted(index_rows(grid, header, notes).items(), key=lambda kv: kv[1]):
        record = {key: cell(grid, r, c) for key, c in header.positions.items()}
        record.update({name: cell(grid, r, c) for c, name in extras.items()})
        out.append(record)
    return out, list(extras.values())
