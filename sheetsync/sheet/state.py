"""What sheetsync last wrote into each owned cell, kept in a hidden tab, read only as far as
a plan needs it.

The state tab has one row per keyed row of the sheet: its tab, its key, what sheetsync wrote
there (JSON, the `written` column) and a digest of that (the `digest` column). A row whose
owned cells still hash to its digest holds exactly what sheetsync wrote, so its JSON need not
be read: a backend may skip the `written` column (the Google backend does), and only the rows a
person changed are then fetched, in one request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence

from sheetsync.sheet.grid import CellWrite, Grid, cell, is_empty, last_used_row
from sheetsync.sheet.header import key_text
from sheetsync.vocab import Value

STATE_HEADER = ("tab", "key", "written", "digest")
STATE_KEYS = (1, 2)  # the state tab's row identity: its tab and key columns
WRITTEN, DIGEST = 3, 4  # the state tab's columns of JSON and of its digest
MAX_NUMBER = 1e300  # a number beyond this in the JSON is a mangled cell (it cannot be a cell's)

Written = dict[str, Value]
Fetch = Callable[[Sequence[int]], Mapping[int, Value]]  # state rows -> their `written` cells


def normal(values: Mapping[str, Value]) -> Written:
    """What was written, without empty cells: sheetsync writing an empty cell and never
    writing it plan the same way (an empty cell is filled; text there is a person's)."""
    return {k: v for k, v in values.items() if not is_empty(v)}


def digest(values: Mapping[str, Value]) -> str:
    """A short digest of written values that a sheet's cells reproduce when nobody changed
    them: numbers compare as floats (a sheet reads 2e9 back as 2000000000.0), empty cells are
    left out. 64 bits: an accidental match is negligible, and a mismatch only costs a read."""
    return _digested(values)[0]


def _digested(values: Mapping[str, Value]) -> tuple[str, Written]:
    """The digest of `values` and `values` without empty cells, in one pass."""
    parts = []
    kept: Written = {}
    for key in sorted(values):
        value = values[key]
        kind = value.__class__
        if kind is str:
            if not value.strip():  # type: ignore[union-attr]
                continue
            parts.append(f"{key}\x1f${value}")
        elif kind is float or kind is int:
            parts.append(f"{key}\x1f#{float(value)!r}")  # type: ignore[arg-type]
        elif kind is bool:
            parts.append(f"{key}\x1f?{int(value)}")  # type: ignore[arg-type]
        elif value is None:
            continue
        else:
            parts.append(f"{key}\x1f${value}")
        kept[key] = value
    text = "\x1e".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=8).hexdigest(), kept


def parse_written(text: Value) -> Written:
    """A `written` cell as values; a mangled cell (a person's edit, a paste) counts as nothing
    recorded, never as an error. Flat JSON objects of text, numbers, booleans and nulls only."""
    if not isinstance(text, str) or not text.startswith("{"):
        return {}
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    for value in data.values():
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not abs(value) < MAX_NUMBER:  # also NaN
                return {}
        elif value is not None and not isinstance(value, str | bool):
            return {}
    return normal(data)


class State:
    """What sheetsync last wrote into each owned cell.

    It is what tells a person's edit (cell differs from what we wrote) from our own stale
    value (cell equals what we wrote), so a person's edit is never silently overwritten.

    `grid` is the state tab as read; when its `written` column was not read (`lazy`), the
    rows a plan needs are read with `fetch`, after `resolve` has settled every row whose
    cells still match their digest.
    """

    def __init__(self, tab: str, grid: Grid | None, fetch: Fetch | None = None):
        self.tab = tab
        self.grid = grid or []
        self.fetch = fetch
        self.rows: dict[tuple[str, str], int] = {}
        self.digests: dict[tuple[str, str], str] = {}
        self.values: dict[tuple[str, str], Written] = {}
        self.texts: dict[tuple[str, str], Value] = {}  # `written` cells as read, where read
        self.vouched: set[tuple[str, str]] = set()  # rows whose digest matched their cells
        for r in range(2, len(self.grid) + 1):
            line = self.grid[r - 1]
            t, k = (line[0] if line else None), (line[1] if len(line) > 1 else None)
            if is_empty(t) or is_empty(k):
                continue
            ident = (str(t), key_text(k))
            self.rows[ident] = r
            mark = line[DIGEST - 1] if len(line) >= DIGEST else None
            if isinstance(mark, str) and mark:
                self.digests[ident] = mark
            if fetch is None:
                self.texts[ident] = line[WRITTEN - 1] if len(line) >= WRITTEN else None
        self.lazy = fetch is not None  # the `written` column was not read with the tab
        self._next = max(last_used_row(self.grid) + 1, 2)
        self._updates: dict[tuple[str, str], Written] = {}

    def resolve(self, tab: str, cells: Mapping[str, Mapping[str, Value]]) -> None:
        """Settle what was written for these rows of `tab` (key -> the row's owned cells as
        the sheet holds them): a row whose cells match its digest was written as it stands;
        the others are read from the `written` column, in one fetch when it was not read."""
        need: dict[int, tuple[str, str]] = {}
        for key, values in cells.items():
            ident = (tab, key)
            if ident in self.values or ident not in self.rows:
                continue
            mark = self.digests.get(ident)
            if mark is not None:
                found, kept = _digested(values)
                if found == mark:
                    self.values[ident] = kept
                    self.vouched.add(ident)
                    continue
            if ident not in self.texts:
                need[self.rows[ident]] = ident
        if need and self.fetch is not None:
            fetched = self.fetch(sorted(need))
            for row, ident in need.items():
                self.texts[ident] = fetched.get(row)

    def seal(self) -> State:
        """No more reads: what a plan needs was resolved before planning (planning does no
        I/O); a row asked for after this that was never read is a defect, said as such."""
        self.fetch = None
        return self

    def written(self, tab: str, key: str) -> Mapping[str, Value] | None:
        ident = (tab, key)
        if ident in self.values:
            return self.values[ident]
        if ident not in self.rows:
            return None
        if ident not in self.texts and self.lazy:
            if self.fetch is None:
                raise LookupError(f"state row of {key!r} in {tab!r} was not read before planning")
            row = self.rows[ident]
            self.texts[ident] = self.fetch([row]).get(row)
        data = self.values[ident] = parse_written(self.texts.get(ident))
        return data

    def record(self, tab: str, key: str, values: Mapping[str, Value], fresh: bool = False) -> None:
        """Note cells written now; `fresh` starts the row's record anew (a new row)."""
        ident = (tab, key)
        if fresh:
            merged: Written = {}
        elif ident in self._updates:
            merged = dict(self._updates[ident])
        else:
            merged = dict(self.written(tab, key) or {})
        merged.update(values)
        self._updates[ident] = normal(merged)

    def refreshed(self) -> bool:
        """Whether a record noted now differs from what the state tab holds (a new row, or a
        cell that already shows a value newer than its record). Compared by digest, which
        tells TRUE from 1 as `same` does (Python's `==` does not)."""
        for ident, data in self._updates.items():
            held = self.values.get(ident) if ident in self.rows else None
            if held is None or digest(data) != digest(held):
                return True
        return False

    def writes(self) -> list[CellWrite]:
        """The state tab's cells to write: the header if it differs, each changed record with
        its digest, and the digest of each record read whose digest is missing or wrong."""
        out: list[CellWrite] = []
        header = [cell(self.grid, 1, c) for c in range(1, len(STATE_HEADER) + 1)]
        if header != list(STATE_HEADER):
            out += [
                CellWrite(self.tab, 1, c, h, header[c - 1])
                for c, h in enumerate(STATE_HEADER, 1)
                if header[c - 1] != h
            ]
        for ident in sorted(self._updates):
            data = self._updates[ident]
            row = self.rows.get(ident)
            unchanged = row is not None and data == self.values.get(ident)
            if unchanged and (ident in self.vouched or self.digests.get(ident) == digest(data)):
                continue
            mark = digest(data)
            if row is None:
                row = self._next
                self._next += 1
                self.rows[ident] = row
                text = json.dumps(data, sort_keys=True, separators=(",", ":"))
                out += [
                    CellWrite(self.tab, row, 1, ident[0]),
                    CellWrite(self.tab, row, 2, ident[1]),
                    CellWrite(self.tab, row, WRITTEN, text),
                    CellWrite(self.tab, row, DIGEST, mark),
                ]
                continue
            out += self._rewrite(ident, row, data, mark)
        for ident, data in sorted(self.values.items()):
            if ident in self._updates or ident in self.vouched or ident not in self.rows:
                continue
            mark = digest(data)
            if self.digests.get(ident) != mark:  # written by a version that kept no digest
                out.append(
                    CellWrite(
                        self.tab,
                        self.rows[ident],
                        DIGEST,
                        mark,
                        self.digests.get(ident),
                        ident[1],
                        STATE_KEYS[1],
                    )  # fmt: skip
                )
        return out

    def _rewrite(
        self, ident: tuple[str, str], row: int, data: Written, mark: str
    ) -> list[CellWrite]:
        """A state row's two cells: the digest checked against the one read, the JSON
        checked too when it was read (it is not when its digest vouched for it)."""
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        known = ident in self.texts
        return [
            CellWrite(
                self.tab,
                row,
                WRITTEN,
                text,
                self.texts.get(ident),
                ident[1],
                STATE_KEYS[1],
                check=known,
            ),  # fmt: skip
            CellWrite(
                self.tab, row, DIGEST, mark, self.digests.get(ident), ident[1], STATE_KEYS[1]
            ),  # fmt: skip
        ]
