"""Appending rows to a Google Sheet so that no concurrent writer can claim them: appendCells
(the server places the row), then a re-read proving each row landed exactly once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sheetsync.errors import BackendError
from sheetsync.sheet.backends.google_api import (
    ReadToken,
    SheetInfo,
    blank,
    cell_data,
    ordered_tabs,
    quote_tab,
    row_key,
)
from sheetsync.sheet.grid import CellWrite, Landed, Snapshot, column_letter, new_rows
from sheetsync.vocab import Value

if TYPE_CHECKING:
    from sheetsync.sheet.backends.google_http import SheetsClient
    from sheetsync.sheet.backends.google_read import SheetReader
    from sheetsync.sheet.backends.google_write import CellWriter


@dataclass(eq=False)
class RowAppender:
    """Appends rows through `client`, checking the header and any cells written in place with
    `writer`, and proving where each row landed with `reader`'s reads."""

    client: SheetsClient
    reader: SheetReader
    writer: CellWriter

    def append_rows(
        self, snapshot: Snapshot, writes: Sequence[CellWrite], keys: Mapping[str, Sequence[int]]
    ) -> Landed:
        """Append new rows that no concurrent writer can claim, and prove each landed once.

        `writes` are a plan's cells; those in a tab of `keys` below row 1 are new rows
        (grouped by their planned row, which only orders them: appendCells puts them after
        the sheet's last row with data, wherever that is now). Others (a header) are written
        in place, verified like `write`. `keys[tab]` are the 1-based columns whose values
        identify a row (Runs: the run column; the state tab: its tab and key columns).
        Returns, per tab, each new row's key -> the row it landed in.
        Raises StaleSheet if a header moved since `snapshot`, and BackendError if a key is
        now in the tab more than once (two adds of one run at the same moment).
        """
        if not writes:
            return {}
        tabs = ordered_tabs({w.tab for w in writes}, writes)
        token = self.reader.token(snapshot, tabs)
        new = [w for w in writes if w.tab in keys and w.row > 1]
        fixed = [w for w in writes if not (w.tab in keys and w.row > 1)]
        self.writer.guard(token, fixed)
        self.writer.check(snapshot, token, fixed, headers=ordered_tabs({w.tab for w in new}, new))
        rows = new_rows(new, keys)
        wanted = {(tab, row_key(cells, keys[tab])) for (tab, _r), cells in rows.items()}
        body = {"requests": self._appends(token, fixed, rows)}

        def rebuild() -> Any:
            landed = self._landed(token, keys, {t for t, _ in wanted}, self.reader.info())
            if any(key in landed.get(tab, {}) for tab, key in wanted):
                return None  # the batch is all or nothing: it was applied
            return body

        self.client.request("post", ":batchUpdate", {}, body, rebuild, "the new row")
        grown = {
            tab: max(c for (t, _r), cells in rows.items() if t == tab for c in cells)
            for tab, _key in wanted
        }
        landed = self._landed(token, keys, {t for t, _ in wanted}, grown=grown)
        out: Landed = {}
        for tab, key in sorted(wanted):
            where = landed.get(tab, {}).get(key, [])
            shown = "/".join(key)
            if len(where) != 1:
                raise BackendError(
                    f"{self.client.describe()}: {tab!r} holds {shown!r} in "
                    + (
                        f"rows {' and '.join(map(str, where))}: it was added twice at the same "
                        "moment; delete one of the rows"
                        if where
                        else "no row after appending it; run the command again"
                    )
                )
            out.setdefault(tab, {})[key] = where[0]
        return out

    def _appends(
        self,
        token: ReadToken,
        fixed: Sequence[CellWrite],
        rows: Mapping[tuple[str, int], Mapping[int, Value]],
    ) -> list[dict[str, Any]]:
        reqs = self.writer.growth(token, fixed) if fixed else []
        for tab in ordered_tabs({w.tab for w in fixed}, fixed):
            sid = token.info.find(token.titles[tab]).sheet_id  # type: ignore[union-attr]
            for w in (w for w in fixed if w.tab == tab):
                reqs += self.writer.split_cells(
                    sid, w.row, w.col, [{"values": [cell_data(w.value)]}]
                )
        for tab in ordered_tabs({t for t, _ in rows}, [CellWrite(t, r, 1, None) for t, r in rows]):
            sheet = token.info.find(token.titles[tab])
            assert sheet is not None
            mine = [rows[k] for k in sorted(k for k in rows if k[0] == tab)]
            width = max(max(cells) for cells in mine)
            if width > sheet.cols:
                reqs.append(
                    {
                        "appendDimension": {
                            "sheetId": sheet.sheet_id,
                            "dimension": "COLUMNS",
                            "length": width - sheet.cols,
                        }
                    }
                )
            reqs.append(
                {
                    "appendCells": {
                        "sheetId": sheet.sheet_id,
                        "rows": [
                            {"values": [cell_data(cells.get(c)) for c in range(1, width + 1)]}
                            for cells in mine
                        ],
                        "fields": "userEnteredValue",
                    }
                }
            )
        return reqs

    def _landed(
        self,
        token: ReadToken,
        keys: Mapping[str, Sequence[int]],
        tabs: set[str],
        now: SheetInfo | None = None,
        grown: Mapping[str, int] | None = None,
    ) -> dict[str, dict[tuple[str, ...], list[int]]]:
        """Where each key is now, per tab: one read of the key columns only, within the
        grid (`now`'s, else the read's widened to the `grown` columns the append made)."""
        order, ranges = [], []
        for tab in sorted(tabs):
            lo, hi = min(keys[tab]), max(keys[tab])
            title = token.titles[tab]
            sheet = (now or token.info).find(title)
            hi = min(hi, max(sheet.cols if sheet else 0, (grown or {}).get(tab, 0)))
            if hi >= lo:  # key columns past the grid hold no key: not asked for
                order.append(tab)
                ranges.append(f"{quote_tab(title)}!{column_letter(lo)}:{column_letter(hi)}")
        out: dict[str, dict[tuple[str, ...], list[int]]] = {}
        for tab, rows in zip(order, self.reader.values(ranges) if ranges else [], strict=True):
            lo = min(keys[tab])
            found = out.setdefault(tab, {})
            for r, row in enumerate(rows, 1):
                cells = {lo + j: blank(v) for j, v in enumerate(row)}
                key = row_key(cells, keys[tab])
                if any(key):
                    found.setdefault(key, []).append(r)
        return out
