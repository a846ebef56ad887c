"""Reading a Google Sheet: the tabs' properties, then their values in one values.batchGet,
leaving out what the plan does not need (people's own columns, the state tab's JSON).

A tab whose columns to skip depend on its header (people's columns, wherever they are) is read
by the header it had last time, kept in a small file beside the project
(`.sheetsync/google-headers.json`); row 1 comes back in the same request, and when it differs
(a person moved or added a column) the columns are read again by the new header: one more
request, once.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import BackendError, RunError, StaleSheet
from sheetsync.records.atomic import write_atomic
from sheetsync.records.files import read_text
from sheetsync.sheet.backends.google_api import (
    MARKER,
    META_FIELDS,
    VALUES,
    ReadToken,
    SheetInfo,
    Tab,
    a1_box,
    clip,
    from_cells,
    kept_spans,
    normal,
    quote_tab,
)
from sheetsync.sheet.grid import Grid, Skip, Snapshot, column_letter
from sheetsync.vocab import Value

if TYPE_CHECKING:
    from sheetsync.sheet.backends.google_http import SheetsClient

HEADER_CACHE_BYTES = 1_000_000


class SheetReader:
    """Reads a Google Sheet through `client`: the tabs' properties, their values, parts of
    them. Notes worth a person's attention (a tab found under another case) go to `notices`."""

    def __init__(
        self,
        client: SheetsClient,
        notices: list[str],
        header_cache: Path | None = None,
        state_tab: str | None = None,
    ):
        self.client = client
        self.notices = notices
        self.header_cache = header_cache  # where headers seen last time are kept, if anywhere
        self.state_tab = state_tab  # the hidden tab of what sheetsync wrote, named when deleted
        self._headers: dict[str, list[Value]] | None = None

    def info(self) -> SheetInfo:
        """The spreadsheet's tabs and sheetsync's tab markers (one small masked request)."""
        meta = self.client.request("get", "", {"fields": META_FIELDS})
        tabs = []
        for sheet in meta.get("sheets", []):
            props = sheet.get("properties", {})
            grid = props.get("gridProperties", {})
            tabs.append(
                Tab(
                    props.get("title", ""),
                    props.get("sheetId", 0),
                    grid.get("rowCount", 0),
                    grid.get("columnCount", 0),
                    props.get("hidden", False),
                    tuple(sheet.get("protectedRanges", [])),
                )
            )
        markers = {}
        for item in meta.get("developerMetadata", []):
            if item.get("metadataKey") == MARKER:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    mark = json.loads(item["metadataValue"])
                    markers[str(mark["title"])] = int(mark["sheetId"])
        return SheetInfo(tuple(tabs), markers)

    def resolve(self, info: SheetInfo, tabs: Sequence[str]) -> dict[str, Tab]:
        """The tabs of `tabs` the sheet has (a title in another case counts, with a notice); a
        tab sheetsync made that a person renamed is refused with what to do."""
        found = {}
        for name in tabs:
            tab = info.find(name)
            if tab is None:
                moved = info.renamed(name)
                if moved is not None:
                    raise BackendError(
                        f"{self.client.describe()}: the {name!r} tab sheetsync made is now called "
                        f"{moved!r}; rename it back to {name!r} (sheetsync finds tabs by name)"
                    )
                continue
            if tab.title != name:
                note = f"tab {tab.title!r} is used as {name!r} (same name, other case)"
                if note not in self.notices:
                    self.notices.append(note)
            found[name] = tab
        return found

    def read(self, tabs: Sequence[str], skip: Skip | None = None) -> Snapshot:
        """The tabs' values in one values.batchGet. A tab with columns to skip is read as its
        header row and the spans of the other columns from row 2; when the rule for them
        needs a header not seen before, or the header changed, they are read again by it."""
        info = self.info()
        found = self.resolve(info, tabs)
        rules = skip or {}
        plan: dict[str, tuple[int, ...]] = {}  # tab -> columns skipped below the header
        for name, tab in found.items():
            rule = rules.get(name)
            if callable(rule):
                seen = self._header(tab.title)
                everything = range(1, tab.cols + 1)  # unseen header: row 1 first
                plan[name] = _columns(everything if seen is None else rule(seen, tab.cols), tab)
            elif rule:
                plan[name] = _columns(rule, tab)
        grids, header_rows = self._read_planned(found, plan)
        for name, rule in rules.items():
            if not callable(rule) or name not in found:
                continue
            tab, row = found[name], header_rows.get(name, [])
            fresh = _columns(rule(row, tab.cols), tab)
            if fresh != plan[name]:  # first read, or a person moved or added a column
                plan[name] = fresh
                again, _ = self._read_planned({name: tab}, {name: fresh})
                grids[name] = again[name]
        self._remember({found[n].title: row for n, row in header_rows.items()})
        skipped = {n: c for n, c in plan.items() if c}
        token = ReadToken(info, {n: t.title for n, t in found.items()})
        return Snapshot(grids, token, skipped=skipped)

    def _read_planned(
        self, found: Mapping[str, Tab], plan: Mapping[str, tuple[int, ...] | None]
    ) -> tuple[dict[str, Grid], dict[str, list[Value]]]:
        ranges: list[str] = []
        places: list[tuple[str, int, int]] = []  # (tab, first row, first column)
        for name, tab in found.items():
            title = quote_tab(tab.title)
            cols = plan.get(name)
            if not cols:
                ranges.append(title)
                places.append((name, 1, 1))
                continue
            ranges.append(f"{title}!1:1")
            places.append((name, 1, 1))
            for c0, c1 in kept_spans(cols, tab.cols) if tab.rows > 1 else ():
                ranges.append(f"{title}!{column_letter(c0)}2:{column_letter(c1)}")
                places.append((name, 2, c0))
        cells: dict[str, dict[int, dict[int, Value]]] = {name: {} for name in found}
        grids: dict[str, Grid] = {}
        headers: dict[str, list[Value]] = {}
        data = self.values(ranges) if ranges else []
        for (name, r0, c0), rows in zip(places, data, strict=True):
            part = normal(rows)
            if not plan.get(name):
                grids[name] = part
                headers[name] = list(part[0]) if part else []
                continue
            if r0 == 1:
                headers[name] = list(part[0]) if part else []
            for i, row in enumerate(part):
                line = cells[name].setdefault(r0 + i, {})
                line.update({c0 + j: v for j, v in enumerate(row) if v is not None})
        for name, cols in plan.items():
            if cols and name in found:
                grids[name] = from_cells(cells[name])
        return grids, headers

    def values(self, ranges: Sequence[str]) -> list[list[list[Any]]]:
        """The values of A1 ranges, as the read renders them (one values.batchGet)."""
        params = {**VALUES, "ranges": list(ranges), "fields": "valueRanges.values"}
        data = self.client.request("get", "/values:batchGet", params)
        out = [vr.get("values", []) for vr in data.get("valueRanges", [])]
        if len(out) != len(ranges):
            raise BackendError(
                f"{self.client.describe()}: asked for {len(ranges)} ranges, got {len(out)}"
            )
        return out

    def filtered(self, ranges: Sequence[str]) -> list[list[list[Any]]]:
        """The values of many A1 ranges in one values.batchGetByDataFilter: a POST, so the
        number of ranges is not limited by the URL's length; rendered as `values`."""
        body = {**VALUES, "dataFilters": [{"a1Range": r} for r in ranges]}
        fields = "valueRanges(valueRange.values,dataFilters.a1Range)"
        data = self.client.request("post", "/values:batchGetByDataFilter", {"fields": fields}, body)
        by_range: dict[str, list[list[Any]]] = {}
        for matched in data.get("valueRanges", []):
            for data_filter in matched.get("dataFilters", []):
                by_range[data_filter.get("a1Range", "")] = matched.get("valueRange", {}).get(
                    "values", []
                )
        missing = [r for r in ranges if r not in by_range]
        if missing:
            raise BackendError(f"{self.client.describe()}: no values came back for {missing[0]}")
        return [by_range[r] for r in ranges]

    def read_boxes(
        self, snapshot: Snapshot, tab: str, boxes: Sequence[tuple[int, int, int | None, int | None]]
    ) -> list[Grid]:
        """Parts of a tab read with `snapshot` (r0, c0, r1, c1; 1-based, None = to the end),
        rendered as `read` renders them: for a plan that needs only some rows or columns (the
        state rows of the runs that change, a key column)."""
        token = self.token(snapshot, [tab])
        title = token.titles[tab]
        sheet = token.info.find(title)
        inside = [clip(sheet, *box) if sheet is not None else None for box in boxes]
        ranges = [a1_box(title, *box) for box in inside if box is not None]
        answers = iter(self.values(ranges) if ranges else [])
        # a box past the grid holds only empty cells: it is not asked for (the API refuses it)
        return [[] if box is None else normal(next(answers)) for box in inside]

    def token(self, snapshot: Snapshot, tabs: Sequence[str]) -> ReadToken:
        """What the read behind `snapshot` saw of `tabs`, else what the sheet has now; a tab
        sheetsync made and a person deleted is named, one that vanished since is StaleSheet."""
        token = snapshot.token
        if isinstance(token, ReadToken) and all(t in token.titles for t in tabs):
            return token
        info = self.info()
        found = self.resolve(info, tabs)
        missing = [t for t in tabs if t not in found]
        for name in missing:
            if name in info.markers:  # absent at the read too: deleted, not a race
                raise BackendError(self._deleted(name))
        if missing:
            raise StaleSheet(f"tab {missing[0]!r} disappeared")
        return ReadToken(info, {n: t.title for n, t in found.items()})

    def _deleted(self, name: str) -> str:
        """A tab sheetsync made that a person deleted, and what brings it back."""
        if name == self.state_tab:
            return (
                f"{self.client.describe()}: the hidden {name!r} tab, where sheetsync keeps what it "
                "wrote, was deleted from the sheet; run `sheetsync init --repair` to rebuild it"
            )
        return (
            f"{self.client.describe()}: the {name!r} tab sheetsync made was deleted from the "
            "sheet; run `sheetsync init` to make it again"
        )

    def tab_status(self, snapshot: Snapshot, tab: str) -> str:
        """'present', 'empty', 'deleted' (sheetsync made it; a person deleted it) or
        'missing' (never made, or made before sheetsync marked its tabs)."""
        grid = snapshot.grid(tab)
        if grid is not None:
            return "present" if any(any(v is not None for v in row) for row in grid) else "empty"
        token = snapshot.token
        if isinstance(token, ReadToken) and tab in token.info.markers:
            return "deleted"
        return "missing"

    # --- the headers seen last time --------------------------------------------------------

    def _cached(self) -> dict[str, list[Value]]:
        if self._headers is None:
            self._headers = {}
            if self.header_cache is not None and self.header_cache.is_file():
                with contextlib.suppress(RunError, ValueError, RecursionError):
                    data = json.loads(read_text(self.header_cache, limit=HEADER_CACHE_BYTES))
                    if isinstance(data, dict):
                        self._headers = {str(k): v for k, v in data.items() if _plain_row(v)}
        return self._headers

    def _header(self, title: str) -> list[Value] | None:
        return self._cached().get(f"{self.client.key}/{title}")

    def _remember(self, rows: Mapping[str, list[Value]]) -> None:
        """Keep the header rows (tab title -> row) for the next read to skip columns by."""
        headers = self._cached()
        fresh = {f"{self.client.key}/{title}": row for title, row in rows.items()}
        if all(headers.get(name) == row for name, row in fresh.items()):
            return
        headers.update(fresh)
        if self.header_cache is None:
            return
        with contextlib.suppress(OSError):  # a cache: failing to keep it costs one request
            self.header_cache.parent.mkdir(exist_ok=True)
            write_atomic(self.header_cache, json.dumps(headers, sort_keys=True))


def _columns(cols: Iterable[int], tab: Tab) -> tuple[int, ...]:
    return tuple(sorted({c for c in cols if 0 < c <= tab.cols}))


def _plain_row(value: Any) -> bool:
    return isinstance(value, list) and all(
        v is None or isinstance(v, str | int | float | bool) for v in value
    )
