"""Proving where a write landed on a Google Sheet, and putting right what a person's sort,
inserted or deleted row sent into another run's row.

The API has no conditional write: between the read that proves each row still holds its run
and the batchUpdate that writes it, a person may sort the tab, insert or delete rows. So after
each write one read of the key columns (the run ids) says which run every written row holds
now. A value that landed in another run's row is replaced by what that cell held before (the
check-read or the snapshot read it), and written again to its run's new row, and that repair
is proved the same way: a sort during a write costs one more read and one more write.

The decisions are pure functions over values; `GoogleBackend.write` does the reading and
writing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sheetsync.sheet.grid import CellWrite, column_letter, same
from sheetsync.vocab import Value

ROUNDS = 4  # proofs (and repairs) per write before giving up: the rows kept moving
UNKNOWN = object()  # what a cell held before is known neither from the check nor the snapshot
Cell = tuple[str, int, int]  # (tab, row, column)
Prior = Callable[[str, str, int], object]  # (tab, run key, column) -> value before, or UNKNOWN


@dataclass(frozen=True)
class Placed:
    """A value sheetsync put in a row for the run `key` (its own, or the one restored to a run
    whose cell a misplaced write had hit); `row` is where it was last written."""

    tab: str
    row: int
    col: int
    value: Value
    key: str  # "" for a row that held no run (a row a person inserted)
    key_col: int


@dataclass(frozen=True)
class Repair:
    """The cells to write to put a misplaced write right, where each value is then, and what
    could not be done (a run deleted meanwhile, a cell whose old value is unknown)."""

    cells: dict[Cell, Value]
    placed: list[Placed]
    notes: list[str]


def keyed(writes: Sequence[CellWrite]) -> list[Placed]:
    """The writes that name their row's run, as placed by the plan."""
    return [
        Placed(w.tab, w.row, w.col, w.value, w.row_key, w.key_col)
        for w in writes
        if w.row_key is not None and w.key_col is not None
    ]


def key_columns(placed: Sequence[Placed]) -> dict[str, int]:
    """Tab -> its key column, for the proof read (one range per tab)."""
    return {p.tab: p.key_col for p in placed}


def misplaced(placed: Sequence[Placed], where: Mapping[str, Mapping[int, str]]) -> list[Placed]:
    """The values whose row no longer holds their run (`where`: tab -> row -> run key)."""
    return [p for p in placed if where.get(p.tab, {}).get(p.row, "") != p.key]


def repair(
    placed: Sequence[Placed],
    where: Mapping[str, Mapping[int, str]],
    written: Mapping[Cell, Value],
    prior: Prior,
) -> Repair:
    """What to write so that every run's row holds its own values again.

    `where` is the proof read (tab -> row -> run key); `written` is what sheetsync last put
    in each cell it wrote; `prior(tab, key, col)` is what a run's cell held before the write.
    A cell that holds a value meant for another run gets back the value of the run now in its
    row (or that run's own new value, if this write has one for it); each misplaced value is
    written again to its run's row. Empty when every value is in its run's row.
    """
    wrong = misplaced(placed, where)
    if not wrong:
        return Repair({}, list(placed), [])
    rows_of: dict[tuple[str, str], list[int]] = {}
    for tab, rows in where.items():
        for row, key in rows.items():
            rows_of.setdefault((tab, key), []).append(row)
    meant: dict[tuple[str, str, int], list[Value]] = {}
    for p in placed:
        meant.setdefault((p.tab, p.key, p.col), []).append(p.value)
    cells: dict[Cell, Value] = {}
    kept = [p for p in placed if p not in wrong]
    notes: list[str] = []
    for p in wrong:  # the cell it hit goes back to what the run now in that row should hold
        now = where.get(p.tab, {}).get(p.row, "")
        values = meant.get((p.tab, now, p.col), []) if now else []
        if len(values) == 1 and len(rows_of.get((p.tab, now), [])) == 1:
            value: object = values[0]
        else:
            value = prior(p.tab, now, p.col) if now else None
        if value is UNKNOWN:
            value = None
            notes.append(
                f"{p.tab!r} {column_letter(p.col)}{p.row} (run {now}) was cleared: a person "
                "moved rows while sheetsync wrote, and what the cell held before was not read"
            )
        cells[(p.tab, p.row, p.col)] = value  # type: ignore[assignment]
        kept.append(Placed(p.tab, p.row, p.col, value, now, p.key_col))  # type: ignore[arg-type]
    for p in wrong:  # and the value goes to its run's row, wherever it is now
        if not p.key:
            continue  # a value for a row without a run (one a person inserted): nothing to keep
        rows = rows_of.get((p.tab, p.key), [])
        if len(rows) == 1:
            cells[(p.tab, rows[0], p.col)] = p.value
            kept = [k for k in kept if (k.tab, k.row, k.col) != (p.tab, rows[0], p.col)]
            kept.append(Placed(p.tab, rows[0], p.col, p.value, p.key, p.key_col))
        elif not rows:
            notes.append(
                f"run {p.key} left the {p.tab!r} tab while sheetsync wrote it (a person deleted "
                "its row); its value was not written"
            )
        else:
            notes.append(
                f"run {p.key} is in {p.tab!r} rows {', '.join(map(str, rows))}; its value "
                "was not written (delete one of the rows)"
            )
    fix = {
        cell: value
        for cell, value in cells.items()
        if cell not in written or not same(written[cell], value)
    }
    return Repair(fix, kept, list(dict.fromkeys(notes)))
