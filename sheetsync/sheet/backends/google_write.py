"""Writing cells to a Google Sheet: check, write, prove.

A write costs one read, one batchUpdate per 2 MB and one more read: a
values.batchGetByDataFilter (a POST, so any number of ranges) of exactly what must still hold
(the header row, the cells about to be written and their rows' run ids), with the read's
render options so that dates, errors and empty cells compare equal; then updateCells blocks of
contiguous cells, each batch all or nothing, the state tab's cells last; then one
values.batchGet of the written tabs' key columns proves each value is in its run's row, and
puts right what a person's sort, inserted or deleted row misplaced meanwhile
(google_proof.py). A write past a tab's grid grows the tab first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sheetsync.errors import BackendError, StaleSheet
from sheetsync.sheet.backends import google_proof as proof
from sheetsync.sheet.backends.google_api import (
    MAX_RANGES,
    MAX_REQUEST_BYTES,
    ReadToken,
    a1_box,
    blank,
    cell_data,
    cells_by_row,
    clip,
    cover_boxes,
    exact_boxes,
    has_growth,
    key_text,
    ordered_tabs,
    pack,
    quote_tab,
    trim,
)
from sheetsync.sheet.grid import CellWrite, Snapshot, column_letter, same
from sheetsync.vocab import Value

if TYPE_CHECKING:
    from sheetsync.sheet.backends.google_http import SheetsClient
    from sheetsync.sheet.backends.google_read import SheetReader


@dataclass(eq=False)
class CellWriter:
    """Writes planned cells through `client`, checked and proved with `reader`'s reads;
    repairs it could not make whole go to `notices`. Requests stay under
    `max_request_bytes`."""

    client: SheetsClient
    reader: SheetReader
    notices: list[str]
    max_request_bytes: int = MAX_REQUEST_BYTES

    def check(
        self,
        snapshot: Snapshot,
        token: ReadToken,
        writes: Sequence[CellWrite],
        headers: Sequence[str] = (),
    ) -> dict[tuple[str, int, int], Value]:
        """Prove, with one read sized to the job, that the sheet still holds what the plan
        saw where it matters (the header row of every tab written below it or in `headers`,
        each written cell, each written row's key); StaleSheet otherwise. Returns what each
        written cell and written row's key cell held (cells past the grid are empty)."""
        ranges: list[str] = []
        places: list[tuple[str, int, int]] = []  # (tab, first row, first col)
        for tab in ordered_tabs({w.tab for w in writes} | set(headers), writes, headers):
            title = quote_tab(token.titles[tab])
            cells: dict[int, set[int]] = {}
            for w in (w for w in writes if w.tab == tab):
                cells.setdefault(w.row, set()).add(w.col)
                if w.row_key is not None and w.key_col is not None:
                    cells[w.row].add(w.key_col)
            if tab in headers or any(r > 1 for r in cells):
                ranges.append(f"{title}!1:1")
                places.append((tab, 1, 0))
                cells.pop(1, None)
            sheet = token.info.find(token.titles[tab])
            for box in cover_boxes(cells, MAX_RANGES):
                inside = clip(sheet, *box) if sheet is not None else None
                if inside is None:
                    continue  # all past the grid: empty cells, which the write grows into
                r0, c0, r1, c1 = inside
                ranges.append(a1_box(token.titles[tab], r0, c0, r1, c1))
                places.append((tab, r0, c0))
        if not ranges:
            return {}
        now: dict[tuple[str, int, int], Value] = {}
        for (tab, r0, c0), rows in zip(places, self.reader.filtered(ranges), strict=True):
            if c0 == 0:  # the header row
                grid = snapshot.grid(tab) or []
                if trim([blank(v) for v in (rows[0] if rows else [])]) != (
                    trim(grid[0]) if grid else []
                ):
                    raise StaleSheet(f"the header of {tab!r} changed")
                c0 = 1
            for i, row in enumerate(rows):
                for j, v in enumerate(row):
                    now[(tab, r0 + i, c0 + j)] = blank(v)
        for w in writes:
            keyed = w.row_key is not None and w.key_col is not None
            if keyed and key_text(now.get((w.tab, w.row, w.key_col))) != w.row_key:
                raise StaleSheet(f"row {w.row} of {w.tab!r} no longer holds {w.row_key}")
            if w.check and not same(now.get((w.tab, w.row, w.col)), w.expect):
                raise StaleSheet(f"{w.tab!r} row {w.row} col {w.col} changed")
        before = {(w.tab, w.row, w.col): now.get((w.tab, w.row, w.col)) for w in writes}
        for w in writes:
            if w.key_col is not None:
                before[(w.tab, w.row, w.key_col)] = now.get((w.tab, w.row, w.key_col))
        return before

    def guard(self, token: ReadToken, writes: Sequence[CellWrite]) -> None:
        """Refuse, before sending anything, cells inside a protected range the caller may not
        edit (Google would refuse the whole batch with 403)."""
        for w in writes:
            tab = token.info.find(token.titles[w.tab])
            for prot in tab.protected if tab else ():
                if prot.get("warningOnly") or prot.get("requestingUserCanEdit"):
                    continue
                g = prot.get("range", {})
                inside = g.get("startRowIndex", 0) < w.row <= g.get("endRowIndex", w.row) and g.get(
                    "startColumnIndex", 0
                ) < w.col <= g.get("endColumnIndex", w.col)
                if inside:
                    what = prot.get("description") or "(no description)"
                    raise BackendError(
                        f"{self.client.describe()}: {w.tab!r} {column_letter(w.col)}{w.row} is "
                        f"in the protected range {what!r}, which {self.client.who()} may not "
                        "edit; ask the sheet's owner to add it to the range's editors or make "
                        "the range warning-only; nothing was written"
                    )

    def write(self, snapshot: Snapshot, writes: Sequence[CellWrite]) -> None:
        """Check, write, then prove: one read of the run ids of the rows written says each
        value is in its run's row; when a person sorted, inserted or deleted rows between the
        check and the write, the cells hit go back to what they held and the values go to
        their runs' new rows (google_proof.py), proved again."""
        if not writes:
            return
        tabs = ordered_tabs({w.tab for w in writes}, writes)
        token = self.reader.token(snapshot, tabs)
        self.guard(token, writes)
        before = self.check(snapshot, token, writes)
        self.send(token, writes, self.batches(token, writes))
        placed = proof.keyed(writes)
        written = {(w.tab, w.row, w.col): w.value for w in writes}
        prior = PriorValues(snapshot, before, placed)
        for _ in range(proof.ROUNDS):
            if not placed:
                return
            fix = proof.repair(placed, self.keys_now(token, placed), written, prior)
            for note in fix.notes:
                if note not in self.notices:
                    self.notices.append(note)
            if not fix.cells:
                return
            cells = [CellWrite(t, r, c, v) for (t, r, c), v in fix.cells.items()]
            self.send(token, cells, self.batches(token, cells, grow=False))
            written.update(fix.cells)
            placed = fix.placed
        raise BackendError(
            f"{self.client.describe()}: a person kept moving rows while sheetsync wrote; some "
            "values may be in another run's row: run the command again (it puts them right)"
        )

    def keys_now(self, token: ReadToken, placed: Sequence[proof.Placed]) -> dict[str, dict]:
        """Tab -> row -> run key, for the tabs of `placed`: one read of their key columns."""
        cols = proof.key_columns(placed)
        order = sorted(cols)
        ranges = []
        for tab in order:
            letter = column_letter(cols[tab])
            ranges.append(f"{quote_tab(token.titles[tab])}!{letter}:{letter}")
        out: dict[str, dict[int, str]] = {}
        for tab, rows in zip(order, self.reader.values(ranges), strict=True):
            keys = {r: key_text(blank(row[0])) for r, row in enumerate(rows, 1) if row}
            out[tab] = {r: k for r, k in keys.items() if k}
        return out

    def send(self, token: ReadToken, writes: Sequence[CellWrite], batches: list[list]) -> None:
        """The batches, in order, each all or nothing; the first may grow the grid."""
        for i, batch in enumerate(batches):
            growth = i == 0 and has_growth(batch)

            def rebuild(batch: list[dict[str, Any]] = batch, growth: bool = growth) -> Any:
                if not growth:
                    return {"requests": batch}  # updateCells only: safe to send again
                fresh = ReadToken(self.reader.info(), token.titles)
                cells = [r for r in batch if "appendDimension" not in r]
                return {"requests": self.growth(fresh, writes) + cells}

            try:
                self.client.request(
                    "post", ":batchUpdate", {}, {"requests": batch}, rebuild, "the write"
                )
            except BackendError as exc:
                if i == 0:
                    raise
                raise BackendError(
                    f"{exc} (wrote {i} of {len(batches)} parts, the state tab last, so running "
                    "it again completes the rest)"
                ) from None

    def growth(self, token: ReadToken, writes: Sequence[CellWrite]) -> list[dict[str, Any]]:
        """appendDimension requests growing each tab to hold the writes (100 spare rows):
        updateCells never grows a grid ("Attempting to write row: ..., beyond the last
        requested row")."""
        out = []
        for tab in ordered_tabs({w.tab for w in writes}, writes):
            sheet = token.info.find(token.titles[tab])
            if sheet is None:
                raise StaleSheet(f"tab {tab!r} disappeared")
            need_rows = max(w.row for w in writes if w.tab == tab) - sheet.rows
            need_cols = max(w.col for w in writes if w.tab == tab) - sheet.cols
            for dimension, need, spare in (("ROWS", need_rows, 100), ("COLUMNS", need_cols, 0)):
                if need > 0:
                    out.append(
                        {
                            "appendDimension": {
                                "sheetId": sheet.sheet_id,
                                "dimension": dimension,
                                "length": need + spare,
                            }
                        }
                    )
        return out

    def batches(
        self, token: ReadToken, writes: Sequence[CellWrite], grow: bool = True
    ) -> list[list[dict]]:
        """The writes as updateCells blocks in the order given (the state tab last), packed
        into batches under the request size limit; the grid grown first where they reach
        past it (`grow`)."""
        reqs = self.growth(token, writes) if grow else []
        for tab in ordered_tabs({w.tab for w in writes}, writes):
            sid = token.info.find(token.titles[tab]).sheet_id  # type: ignore[union-attr]
            values = {(w.row, w.col): w.value for w in writes if w.tab == tab}
            for r0, c0, r1, c1 in exact_boxes(cells_by_row(values)):
                rows = [
                    {"values": [cell_data(values[(r, c)]) for c in range(c0, c1 + 1)]}
                    for r in range(r0, r1 + 1)
                ]
                reqs += self.split_cells(sid, r0, c0, rows)
        return pack(reqs, self.max_request_bytes)

    def split_cells(
        self, sid: int, r0: int, c0: int, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """updateCells of a block, cut into pieces that each fit in one request."""
        size = len(json.dumps(rows, separators=(",", ":")))
        pieces = max(1, -(-size // (self.max_request_bytes // 2)))
        step = max(1, -(-len(rows) // pieces))
        return [
            {
                "updateCells": {
                    "start": {"sheetId": sid, "rowIndex": r0 - 1 + i, "columnIndex": c0 - 1},
                    "rows": rows[i : i + step],
                    "fields": "userEnteredValue",
                }
            }
            for i in range(0, len(rows), step)
        ]


class PriorValues:
    """What a run's cell held before the write: from the check-read (the written cells and
    their rows' keys) or else from the snapshot (every cell but the columns it skipped)."""

    def __init__(
        self,
        snapshot: Snapshot,
        before: dict[tuple[str, int, int], Value],
        placed: Sequence[proof.Placed],
    ):
        self.snapshot, self.before = snapshot, before
        self.cols = proof.key_columns(placed)
        self.checked: dict[tuple[str, str], int] = {}
        for p in placed:
            key = key_text(before.get((p.tab, p.row, p.key_col)))
            if key:
                self.checked[(p.tab, key)] = p.row
        self.indexed: dict[str, dict[str, list[int]]] = {}

    def __call__(self, tab: str, key: str, col: int) -> object:
        row = self.checked.get((tab, key))
        if row is not None and (tab, row, col) in self.before:
            return self.before[(tab, row, col)]
        if col in self.snapshot.skipped.get(tab, ()):
            return proof.UNKNOWN
        grid = self.snapshot.grid(tab) or []
        if tab not in self.indexed:
            kc = self.cols[tab] - 1
            index: dict[str, list[int]] = {}
            for r, line in enumerate(grid, 1):
                if kc < len(line):
                    index.setdefault(key_text(line[kc]), []).append(r)
            self.indexed[tab] = index
        rows = self.indexed[tab].get(key, [])
        if len(rows) != 1:
            return proof.UNKNOWN
        line = grid[rows[0] - 1]
        return line[col - 1] if col - 1 < len(line) else None
