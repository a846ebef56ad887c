"""The Google Sheets backend, through gspread's HTTP client.

A read costs two requests, whatever the number of runs: spreadsheets.get of the tabs'
properties (masked with `fields`: ids, sizes, protected ranges, sheetsync's tab markers) and
values.batchGet of the tabs. A write costs one more read and one batchUpdate per 2 MB: a
values.batchGetByDataFilter (a POST, so any number of ranges) of exactly what must still
hold (the header row, the cells about to be written and their rows' run ids), with the
read's render options so that dates, errors and empty cells compare equal; then
updateCells blocks of contiguous cells, each batch all or nothing, the state tab's cells
last. New rows go in with appendCells (the server places them, so two writers cannot claim
one row) and are re-read to prove each landed once.

Every request has connect and read timeouts ($SHEETSYNC_GOOGLE_TIMEOUT, "connect,read" in
seconds). 429, 5xx, timeouts and dropped connections are retried with exponential backoff
and jitter within a time budget; a request that may have been applied is rebuilt from a
fresh read before it is sent again, so a retry never adds a second tab, protected range,
rule or row.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sheetsync.backends.base import CellWrite, Grid, Snapshot, Value
from sheetsync.errors import BackendError, StaleSheet

if TYPE_CHECKING:
    import requests

    from sheetsync.layout import Layout

ENDPOINT_ENV = "SHEETSYNC_SHEETS_API"  # another endpoint (a proxy, or the test emulator)
TIMEOUT_ENV = "SHEETSYNC_GOOGLE_TIMEOUT"  # "connect,read" or "read" seconds
DEFAULT_TIMEOUT = (10.0, 120.0)
RETRY_STATUS = (429, 500, 502, 503, 504)
MAX_REQUEST_BYTES = 2_000_000  # Google's usage-limits page: keep payloads under 2 MB
MAX_RANGES = 2_000  # boxes per tab in a check-read (a POST body of about 80 kB)
API = "https://sheets.googleapis.com/v4/spreadsheets/"
VALUES = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "FORMATTED_STRING",
    "majorDimension": "ROWS",
}
META_FIELDS = (
    "sheets(properties(sheetId,title,hidden,gridProperties(rowCount,columnCount)),"
    "protectedRanges(range,description,warningOnly,requestingUserCanEdit)),"
    "developerMetadata(metadataKey,metadataValue)"
)
FORMAT_FIELDS = (
    "sheets(properties(sheetId,title,gridProperties(frozenRowCount,frozenColumnCount)),"
    "data.rowData.values(effectiveValue,note,userEnteredFormat.textFormat.bold),"
    "protectedRanges.description,conditionalFormats.booleanRule.condition)"
)
MARKER = "sheetsync.tab"  # developer metadata: a tab sheetsync created, by sheet id
_KEY = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


def sheet_key(target: str) -> str:
    """The spreadsheet key from a URL or a bare key."""
    m = _KEY.search(target)
    return m[1] if m else target.strip()


def quote_tab(tab: str) -> str:
    """A tab title as an A1 range that cannot be read as a cell (`'Q3'`, not `Q3`)."""
    return "'" + tab.replace("'", "''") + "'"


def column_letters(col: int) -> str:
    out = ""
    while col:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


def timeout_from_env() -> tuple[float, float]:
    """$SHEETSYNC_GOOGLE_TIMEOUT as (connect, read) seconds; the default when unset."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        parts = [float(p) for p in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (1, 2) or min(parts) <= 0:
        raise BackendError(f"${TIMEOUT_ENV}={text!r}: give seconds as READ or CONNECT,READ")
    return (parts[0], parts[-1]) if len(parts) == 2 else (DEFAULT_TIMEOUT[0], parts[0])


@dataclass(frozen=True)
class Tab:
    """A tab as the sheet has it: its title may differ in case from the layout's name."""

    title: str
    sheet_id: int
    rows: int
    cols: int
    hidden: bool = False
    protected: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class SheetInfo:
    """The tabs of the spreadsheet, and sheetsync's markers (title -> the sheet id it made)."""

    tabs: tuple[Tab, ...]
    markers: Mapping[str, int] = field(default_factory=dict)

    def find(self, name: str) -> Tab | None:
        """The tab named `name`, else the one whose title differs only in case (Google keeps
        titles unique without regard to case, so there is at most one)."""
        for tab in self.tabs:
            if tab.title == name:
                return tab
        return next((t for t in self.tabs if t.title.casefold() == name.casefold()), None)

    def renamed(self, name: str) -> str | None:
        """The current title of the tab sheetsync created as `name`, if a person renamed it."""
        sid = self.markers.get(name)
        tab = next((t for t in self.tabs if t.sheet_id == sid), None)
        if tab is not None and tab.title.casefold() != name.casefold():
            return tab.title
        return None


@dataclass(frozen=True)
class ReadToken:
    """What a read saw, for the write that follows it."""

    info: SheetInfo
    titles: Mapping[str, str]  # the engine's tab name -> the tab's title on the sheet


class GoogleBackend:
    """A Google Sheet, by URL or key."""

    def __init__(
        self,
        target: str,
        credentials: str | None = None,
        session: requests.Session | None = None,
        retry_budget: float = 60.0,
        sleep: Callable[[float], None] | None = None,
        timeout: tuple[float, float] | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ):
        self.key = sheet_key(target)
        self.target = target
        self._credentials = credentials
        self._session = session
        self.retry_budget = retry_budget
        self.sleep = sleep if sleep is not None else time.sleep
        self.timeout = timeout if timeout is not None else timeout_from_env()
        self.max_request_bytes = max_request_bytes
        self._http: Any = None
        self.notices: list[str] = []
        self.retries = 0

    def describe(self) -> str:
        return f"Google Sheet {self.key}"

    # --- HTTP, through gspread's client --------------------------------------------------

    def http(self) -> Any:
        """gspread's HTTP client, authorised (or pointed at $SHEETSYNC_SHEETS_API), with
        timeouts, asking for gzip (Google gzips only for a User-Agent saying "gzip")."""
        if self._http is None:
            import gspread

            from sheetsync.backends.google_auth import authorized_session, redirected_session

            endpoint = os.environ.get(ENDPOINT_ENV)
            if self._session is None:
                self._session = (
                    redirected_session(endpoint)
                    if endpoint
                    else authorized_session(self._credentials)
                )
            self._session.headers["User-Agent"] = "sheetsync (gzip)"
            self._session.headers["Accept-Encoding"] = "gzip"
            self._http = gspread.Client(None, session=self._session).http_client
            self._http.set_timeout(self.timeout)
        return self._http

    def _call(self, method: str, path: str, params: dict[str, Any], body: Any = None) -> Any:
        params = {**params, "prettyPrint": "false"}
        data, headers = None, None
        if body is not None:  # compact JSON: requests' own encoding adds a space per item
            data = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
            headers = {"Content-Type": "application/json"}
        url = API + self.key + path
        response = self.http().request(method, url, params=params, data=data, headers=headers)
        return response.json()

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        rebuild: Callable[[], Any] | None = None,
        what: str = "",
    ) -> Any:
        """One API call, retried on quota and server faults and on timeouts and dropped
        connections, with backoff and jitter (Retry-After honoured), within the time budget.

        After a failure that may have been applied (5xx, timeout, dropped connection) the
        body is rebuilt by `rebuild()` from a fresh read; None from it means done already.
        """
        import requests
        from gspread.exceptions import APIError

        deadline = time.monotonic() + self.retry_budget
        delay = 1.0
        while True:
            wait = None
            maybe_applied = True
            try:
                return self._call(method, path, params or {}, body)
            except requests.Timeout:
                problem = f"no answer within {self.timeout[1]:.0f}s"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                problem = f"connection failed ({type(exc).__name__})"
            except APIError as exc:
                status = exc.response.status_code
                if status not in RETRY_STATUS:
                    raise self._refusal(exc.response, what) from None
                problem = f"HTTP {status}"
                maybe_applied = status != 429
                wait = _retry_after(exc.response)
            pause = wait if wait is not None else delay * (0.5 + random.random())
            if time.monotonic() + pause > deadline:
                raise BackendError(
                    f"{self.describe()}: {problem}, still failing after retrying for "
                    f"{self.retry_budget:.0f}s; run the command again"
                )
            self.retries += 1
            self.sleep(pause)
            delay = min(delay * 2, 32.0)
            if maybe_applied and rebuild is not None and method != "get":
                body = rebuild()
                if body is None:
                    return None

    def _refusal(self, response: Any, what: str) -> BackendError:
        """The API's refusal as an error a person can act on."""
        status = response.status_code
        message = _api_message(response)
        if status in (400, 403) and "protected cell" in message:  # reported with either code
            return BackendError(
                f"{self.describe()}: {what or 'the write'} is inside a protected range that "
                f"{self._who()} may not edit; ask the sheet's owner to add it to the range's "
                "editors or make the range warning-only; nothing was written"
            )
        if status == 403:
            return BackendError(
                f"{self.describe()}: {self._who()} has no edit access (HTTP 403); share the "
                f"sheet with it as an Editor (`sheetsync auth status` names it)"
            )
        if status == 404:
            return BackendError(
                f"{self.describe()}: no such spreadsheet (HTTP 404); check sheet.google in "
                "sheetsync.yaml (the key is the part of the URL after /d/)"
            )
        return BackendError(f"{self.describe()}: {message}")

    def _who(self) -> str:
        from sheetsync.backends.google_auth import find_identity

        try:
            identity = find_identity(self._credentials)
        except Exception:  # noqa: BLE001 - naming the identity must not hide the refusal
            return "the identity sheetsync uses"
        if identity.kind == "none":
            return "the identity sheetsync uses (none found; see `sheetsync auth status`)"
        return identity.email or f"the {identity.kind} from {identity.source}"

    # --- reading -------------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        yield

    def info(self) -> SheetInfo:
        """The spreadsheet's tabs and sheetsync's tab markers (one small masked request)."""
        meta = self.request("get", "", {"fields": META_FIELDS})
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

    def _resolve(self, info: SheetInfo, tabs: Sequence[str]) -> dict[str, Tab]:
        found = {}
        for name in tabs:
            tab = info.find(name)
            if tab is None:
                moved = info.renamed(name)
                if moved is not None:
                    raise BackendError(
                        f"{self.describe()}: the {name!r} tab sheetsync made is now called "
                        f"{moved!r}; rename it back to {name!r} (sheetsync finds tabs by name)"
                    )
                continue
            if tab.title != name:
                note = f"tab {tab.title!r} is used as {name!r} (same name, other case)"
                if note not in self.notices:
                    self.notices.append(note)
            found[name] = tab
        return found

    def read(self, tabs: Sequence[str]) -> Snapshot:
        info = self.info()
        found = self._resolve(info, tabs)
        grids: dict[str, Grid] = {}
        if found:
            data = self._values([quote_tab(t.title) for t in found.values()])
            for name, rows in zip(found, data, strict=True):
                grids[name] = _normal(rows)
        return Snapshot(grids, ReadToken(info, {n: t.title for n, t in found.items()}))

    def _values(self, ranges: Sequence[str]) -> list[list[list[Any]]]:
        """The values of A1 ranges, as the read renders them (one values.batchGet)."""
        params = {**VALUES, "ranges": list(ranges), "fields": "valueRanges.values"}
        data = self.request("get", "/values:batchGet", params)
        out = [vr.get("values", []) for vr in data.get("valueRanges", [])]
        if len(out) != len(ranges):
            raise BackendError(f"{self.describe()}: asked for {len(ranges)} ranges, got {len(out)}")
        return out

    def _filtered(self, ranges: Sequence[str]) -> list[list[list[Any]]]:
        """The values of many A1 ranges in one values.batchGetByDataFilter: a POST, so the
        number of ranges is not limited by the URL's length; rendered as `_values`."""
        body = {**VALUES, "dataFilters": [{"a1Range": r} for r in ranges]}
        fields = "valueRanges(valueRange.values,dataFilters.a1Range)"
        data = self.request("post", "/values:batchGetByDataFilter", {"fields": fields}, body)
        by_range: dict[str, list[list[Any]]] = {}
        for matched in data.get("valueRanges", []):
            for data_filter in matched.get("dataFilters", []):
                by_range[data_filter.get("a1Range", "")] = matched.get("valueRange", {}).get(
                    "values", []
                )
        missing = [r for r in ranges if r not in by_range]
        if missing:
            raise BackendError(f"{self.describe()}: no values came back for {missing[0]}")
        return [by_range[r] for r in ranges]

    def read_boxes(
        self, snapshot: Snapshot, tab: str, boxes: Sequence[tuple[int, int, int | None, int | None]]
    ) -> list[Grid]:
        """Parts of a tab read with `snapshot` (r0, c0, r1, c1; 1-based, None = to the end),
        rendered as `read` renders them: for a plan that needs only some rows or columns (the
        state rows of the runs that change, a key column)."""
        title = quote_tab(self._token(snapshot, [tab]).titles[tab])
        ranges = [
            f"{title}!{column_letters(c0)}{r0}:{column_letters(c1) if c1 else ''}{r1 or ''}"
            for r0, c0, r1, c1 in boxes
        ]
        return [_normal(rows) for rows in self._values(ranges)] if ranges else []

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

    # --- writing -------------------------------------------------------------------------

    def _token(self, snapshot: Snapshot, tabs: Sequence[str]) -> ReadToken:
        token = snapshot.token
        if isinstance(token, ReadToken) and all(t in token.titles for t in tabs):
            return token
        info = self.info()
        found = self._resolve(info, tabs)
        missing = [t for t in tabs if t not in found]
        if missing:
            raise StaleSheet(f"tab {missing[0]!r} disappeared")
        return ReadToken(info, {n: t.title for n, t in found.items()})

    def _check(
        self,
        snapshot: Snapshot,
        token: ReadToken,
        writes: Sequence[CellWrite],
        headers: Sequence[str] = (),
    ) -> None:
        """Prove, with one read sized to the job, that the sheet still holds what the plan
        saw where it matters (the header row of every tab written below it or in `headers`,
        each written cell, each written row's key); StaleSheet otherwise."""
        ranges: list[str] = []
        places: list[tuple[str, int, int]] = []  # (tab, first row, first col)
        for tab in _ordered({w.tab for w in writes} | set(headers), writes, headers):
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
            for r0, c0, r1, c1 in _spans(cells, MAX_RANGES):
                ranges.append(f"{title}!{column_letters(c0)}{r0}:{column_letters(c1)}{r1}")
                places.append((tab, r0, c0))
        if not ranges:
            return
        now: dict[tuple[str, int, int], Value] = {}
        for (tab, r0, c0), rows in zip(places, self._filtered(ranges), strict=True):
            if c0 == 0:  # the header row
                grid = snapshot.grid(tab) or []
                if _trim([_blank(v) for v in (rows[0] if rows else [])]) != (
                    _trim(grid[0]) if grid else []
                ):
                    raise StaleSheet(f"the header of {tab!r} changed")
                c0 = 1
            for i, row in enumerate(rows):
                for j, v in enumerate(row):
                    now[(tab, r0 + i, c0 + j)] = _blank(v)
        for w in writes:
            keyed = w.row_key is not None and w.key_col is not None
            if keyed and _key_text(now.get((w.tab, w.row, w.key_col))) != w.row_key:
                raise StaleSheet(f"row {w.row} of {w.tab!r} no longer holds {w.row_key}")
            if not _same(now.get((w.tab, w.row, w.col)), w.expect):
                raise StaleSheet(f"{w.tab!r} row {w.row} col {w.col} changed")

    def _guard(self, token: ReadToken, writes: Sequence[CellWrite]) -> None:
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
                        f"{self.describe()}: {w.tab!r} {column_letters(w.col)}{w.row} is in "
                        f"the protected range {what!r}, which {self._who()} may not edit; ask "
                        "the sheet's owner to add it to the range's editors or make the range "
                        "warning-only; nothing was written"
                    )

    def write(self, snapshot: Snapshot, writes: Sequence[CellWrite]) -> None:
        if not writes:
            return
        tabs = _ordered({w.tab for w in writes}, writes)
        token = self._token(snapshot, tabs)
        self._guard(token, writes)
        self._check(snapshot, token, writes)
        batches = self._batches(token, writes)
        for i, batch in enumerate(batches):
            growth = i == 0 and _has_growth(batch)

            def rebuild(batch: list[dict[str, Any]] = batch, growth: bool = growth) -> Any:
                if not growth:
                    return {"requests": batch}  # updateCells only: safe to send again
                fresh = ReadToken(self.info(), token.titles)
                cells = [r for r in batch if "appendDimension" not in r]
                return {"requests": self._growth(fresh, writes) + cells}

            try:
                self.request("post", ":batchUpdate", {}, {"requests": batch}, rebuild, "the write")
            except BackendError as exc:
                if i == 0:
                    raise
                raise BackendError(
                    f"{exc} (wrote {i} of {len(batches)} parts, the state tab last, so running "
                    "it again completes the rest)"
                ) from None

    def _growth(self, token: ReadToken, writes: Sequence[CellWrite]) -> list[dict[str, Any]]:
        out = []
        for tab in _ordered({w.tab for w in writes}, writes):
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

    def _batches(self, token: ReadToken, writes: Sequence[CellWrite]) -> list[list[dict]]:
        """The writes as updateCells blocks in the order given (the state tab last), packed
        into batches under the request size limit."""
        reqs = self._growth(token, writes)
        for tab in _ordered({w.tab for w in writes}, writes):
            sid = token.info.find(token.titles[tab]).sheet_id  # type: ignore[union-attr]
            values = {(w.row, w.col): w.value for w in writes if w.tab == tab}
            for r0, c0, r1, c1 in _boxes(_rows(values)):
                rows = [
                    {"values": [_cell(values[(r, c)]) for c in range(c0, c1 + 1)]}
                    for r in range(r0, r1 + 1)
                ]
                reqs += self._split_cells(sid, r0, c0, rows)
        return _pack(reqs, self.max_request_bytes)

    def _split_cells(
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

    # --- appending -----------------------------------------------------------------------

    def append_rows(
        self,
        snapshot: Snapshot,
        writes: Sequence[CellWrite],
        keys: Mapping[str, Sequence[int]],
    ) -> dict[str, dict[tuple[str, ...], int]]:
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
        tabs = _ordered({w.tab for w in writes}, writes)
        token = self._token(snapshot, tabs)
        new = [w for w in writes if w.tab in keys and w.row > 1]
        fixed = [w for w in writes if not (w.tab in keys and w.row > 1)]
        self._guard(token, fixed)
        self._check(snapshot, token, fixed, headers=_ordered({w.tab for w in new}, new))
        rows: dict[tuple[str, int], dict[int, Value]] = {}
        for w in new:
            rows.setdefault((w.tab, w.row), {})[w.col] = w.value
        wanted = {(tab, _row_key(cells, keys[tab])) for (tab, _r), cells in rows.items()}
        body = {"requests": self._appends(token, fixed, rows)}

        def rebuild() -> Any:
            landed = self._landed(token, keys, {t for t, _ in wanted})
            if any(key in landed.get(tab, {}) for tab, key in wanted):
                return None  # the batch is all or nothing: it was applied
            return body

        self.request("post", ":batchUpdate", {}, body, rebuild, "the new row")
        landed = self._landed(token, keys, {t for t, _ in wanted})
        out: dict[str, dict[tuple[str, ...], int]] = {}
        for tab, key in sorted(wanted):
            where = landed.get(tab, {}).get(key, [])
            shown = "/".join(key)
            if len(where) != 1:
                raise BackendError(
                    f"{self.describe()}: {tab!r} holds {shown!r} in "
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
        reqs = self._growth(token, fixed) if fixed else []
        for tab in _ordered({w.tab for w in fixed}, fixed):
            sid = token.info.find(token.titles[tab]).sheet_id  # type: ignore[union-attr]
            for w in (w for w in fixed if w.tab == tab):
                reqs += self._split_cells(sid, w.row, w.col, [{"values": [_cell(w.value)]}])
        for tab in _ordered({t for t, _ in rows}, [CellWrite(t, r, 1, None) for t, r in rows]):
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
                            {"values": [_cell(cells.get(c)) for c in range(1, width + 1)]}
                            for cells in mine
                        ],
                        "fields": "userEnteredValue",
                    }
                }
            )
        return reqs

    def _landed(
        self, token: ReadToken, keys: Mapping[str, Sequence[int]], tabs: set[str]
    ) -> dict[str, dict[tuple[str, ...], list[int]]]:
        """Where each key is now, per tab: one read of the key columns only."""
        order = sorted(tabs)
        ranges = []
        for tab in order:
            lo, hi = min(keys[tab]), max(keys[tab])
            title = quote_tab(token.titles[tab])
            ranges.append(f"{title}!{column_letters(lo)}:{column_letters(hi)}")
        out: dict[str, dict[tuple[str, ...], list[int]]] = {}
        for tab, rows in zip(order, self._values(ranges), strict=True):
            lo = min(keys[tab])
            found = out.setdefault(tab, {})
            for r, row in enumerate(rows, 1):
                cells = {lo + j: _blank(v) for j, v in enumerate(row)}
                key = _row_key(cells, keys[tab])
                if any(key):
                    found.setdefault(key, []).append(r)
        return out

    # --- tabs and formats ----------------------------------------------------------------

    def create_tabs(self, tabs: Sequence[str], hidden: Sequence[str] = ()) -> None:
        """Create missing tabs (a tab whose title differs only in case counts as present),
        each with a marker (spreadsheet developer metadata) naming its sheet id, so that a
        deleted or renamed tab is told from one never made. Marks existing unmarked tabs."""

        def build() -> Any:
            info = self.info()
            self._resolve(info, tabs)  # refuses a renamed tab instead of making a second
            used = {t.sheet_id for t in info.tabs}
            reqs = []
            for name in tabs:
                tab = info.find(name)
                if tab is not None and info.markers.get(name) == tab.sheet_id:
                    continue
                if tab is None:
                    sid = _new_sheet_id(used)
                    props = {"sheetId": sid, "title": name, "hidden": name in hidden}
                    reqs.append({"addSheet": {"properties": props}})
                else:
                    sid = tab.sheet_id
                reqs.append(_marker(name, sid))
            return {"requests": reqs} if reqs else None

        body = build()
        if body is not None:
            self.request("post", ":batchUpdate", {}, body, build, "creating tabs")

    def format(self, layout: Layout) -> None:
        from sheetsync.backends.google_format import format_requests

        names = [t.tab for t in layout.tables()]

        def build() -> Any:
            found = self._resolve(self.info(), names)
            if not found:
                return None
            ranges = [f"{quote_tab(t.title)}!1:2" for t in found.values()]
            meta = self.request("get", "", {"ranges": ranges, "fields": FORMAT_FIELDS})
            by_title = {t.title: name for name, t in found.items()}
            for sheet in meta.get("sheets", []):
                props = sheet.setdefault("properties", {})
                props["title"] = by_title.get(props.get("title"), props.get("title"))
            reqs = format_requests(meta, layout)
            return {"requests": reqs} if reqs else None

        body = build()
        if body is not None:
            self.request("post", ":batchUpdate", {}, body, build, "formatting")


# --- helpers ----------------------------------------------------------------------------


def _ordered(tabs: set[str], writes: Sequence[CellWrite], more: Sequence[str] = ()) -> list[str]:
    """Tabs in the order the writes first name them (the plan puts the state tab last)."""
    seen: dict[str, None] = {}
    for tab in [w.tab for w in writes] + list(more):
        if tab in tabs:
            seen.setdefault(tab)
    return list(seen)


def _rows(values: Mapping[tuple[int, int], Value]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for r, c in values:
        out.setdefault(r, set()).add(c)
    return out


def _boxes(cells: Mapping[int, set[int]]) -> list[tuple[int, int, int, int]]:
    """Rectangles (r0, c0, r1, c1) covering exactly the given cells: runs of adjacent columns
    in a row, stacked while the rows below have the same run."""
    open_: dict[tuple[int, int], list[int]] = {}  # (c0, c1) -> [r0, r1]
    done: list[tuple[int, int, int, int]] = []
    for r in sorted(cells):
        runs = []
        for c in sorted(cells[r]):
            if runs and c == runs[-1][1] + 1:
                runs[-1][1] = c
            else:
                runs.append([c, c])
        current = {(a, b) for a, b in runs}
        for span in list(open_):
            if span not in current or open_[span][1] != r - 1:
                r0, r1 = open_.pop(span)
                done.append((r0, span[0], r1, span[1]))
        for span in current:
            if span in open_:
                open_[span][1] = r
            else:
                open_[span] = [r, r]
    done += [(r0, span[0], r1, span[1]) for span, (r0, r1) in open_.items()]
    return sorted(done)


def _spans(cells: Mapping[int, set[int]], limit: int) -> list[tuple[int, int, int, int]]:
    """At most `limit` boxes (r0, c0, r1, c1) covering the cells: adjacent rows share a box
    spanning their columns; when there are too many, the closest boxes are merged."""
    boxes: list[list[int]] = []
    for r in sorted(cells):
        lo, hi = min(cells[r]), max(cells[r])
        if boxes and boxes[-1][2] == r - 1:
            box = boxes[-1]
            box[1], box[2], box[3] = min(box[1], lo), r, max(box[3], hi)
        else:
            boxes.append([r, lo, r, hi])
    if len(boxes) > limit:  # merge exactly the len - limit smallest gaps
        order = sorted(range(len(boxes) - 1), key=lambda i: boxes[i + 1][0] - boxes[i][2])
        joins = set(order[: len(boxes) - limit])
        merged = [boxes[0]]
        for i, box in enumerate(boxes[1:]):
            last = merged[-1]
            if i in joins:
                last[1], last[2], last[3] = min(last[1], box[1]), box[2], max(last[3], box[3])
            else:
                merged.append(box)
        boxes = merged
    return [(a, b, c, d) for a, b, c, d in boxes]


def _pack(reqs: list[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = [[]]
    size = 20
    for req in reqs:
        n = len(json.dumps(req, separators=(",", ":"))) + 1
        if batches[-1] and size + n > limit:
            batches.append([])
            size = 20
        batches[-1].append(req)
        size += n
    return [b for b in batches if b]


def _has_growth(batch: list[dict[str, Any]]) -> bool:
    return any("appendDimension" in r for r in batch)


def _new_sheet_id(used: set[int]) -> int:
    while True:
        sid = random.randrange(10**8, 2**31 - 1)
        if sid not in used:
            used.add(sid)
            return sid


def _marker(title: str, sheet_id: int) -> dict[str, Any]:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": MARKER,
                "metadataValue": json.dumps({"title": title, "sheetId": sheet_id}),
                "location": {"spreadsheet": True},
                "visibility": "DOCUMENT",
            }
        }
    }


def _cell(value: Value) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def _blank(value: Any) -> Value:
    """A value from the values API: "" is an empty cell."""
    return None if value == "" else value


def _trim(row: Sequence[Value]) -> list[Value]:
    out = list(row)
    while out and out[-1] is None:
        out.pop()
    return out


def _normal(rows: list[list[Any]]) -> Grid:
    """Rows as the values API gives them, with empty cells as None and no trailing empties
    (so a formatted empty column or row reads the same as an untouched one)."""
    grid = [_trim([_blank(v) for v in row]) for row in rows]
    while grid and not grid[-1]:
        grid.pop()
    return grid


def _key_text(value: Value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _row_key(cells: Mapping[int, Value], cols: Sequence[int]) -> tuple[str, ...]:
    return tuple(_key_text(cells.get(c)) for c in cols)


def _same(a: Value, b: Value) -> bool:
    from sheetsync.plan import same

    return same(a, b)


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _api_message(response: Any) -> str:
    try:
        error = response.json()["error"]
        return f"HTTP {error.get('code')}: {error.get('message')}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
