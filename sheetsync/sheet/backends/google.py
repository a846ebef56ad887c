"""The Google Sheets backend: a spreadsheet by URL or key, through one HTTP client.

The backend holds its collaborators rather than inheriting them: the HTTP client
(`SheetsClient`, google_http.py: timeouts, retries, refusals; injectable, as gspread's
`Client(http_client=...)`), the reader (`SheetReader`, google_read.py), the cell writer
(`CellWriter`, google_write.py: check, write, prove), the row appender (`RowAppender`,
google_append.py) and the Review tab's charts (`ReviewCharts`, google_chart.py). Each is
given the client and what else it uses, and all of them add to one `notices` list.

A read costs two requests, whatever the number of runs: spreadsheets.get of the tabs'
properties (masked with `fields`: ids, sizes, protected ranges, sheetsync's tab markers) and
values.batchGet of the tabs, without the columns the plan does not need. A write costs one
more read, one batchUpdate per 2 MB and one read proving where each value landed. New rows go
in with appendCells (the server places them, so two writers cannot claim one row) and are
re-read to prove each landed once. No read names a cell past a tab's grid (the API refuses it
with 400); a write past it grows the tab first.

Every request has connect and read timeouts ($SHEETSYNC_GOOGLE_TIMEOUT, "connect,read" in
seconds). 429, 5xx, timeouts and dropped connections are retried with exponential backoff
and jitter within a time budget; a request that may have been applied is rebuilt from a
fresh read before it is sent again, so a retry never adds a second tab, protected range,
rule or row.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.sheet.backends.google_api import (
    FORMAT_FIELDS,
    MAX_REQUEST_BYTES,
    marker_request,
    new_sheet_id,
    quote_tab,
)
from sheetsync.sheet.backends.google_append import RowAppender
from sheetsync.sheet.backends.google_chart import ReviewCharts
from sheetsync.sheet.backends.google_http import SheetsClient
from sheetsync.sheet.backends.google_read import SheetReader
from sheetsync.sheet.backends.google_write import CellWriter
from sheetsync.sheet.grid import CellWrite, Grid, Landed, Skip, Snapshot

if TYPE_CHECKING:
    import requests

    from sheetsync.layout import Layout
    from sheetsync.sheet.chart_plan import ChartPlan


class GoogleBackend:
    """A Google Sheet, by URL or key. `http_client` sends every request (default: a
    `SheetsClient` built from `credentials`, `session`, `retry_budget`, `sleep` and
    `timeout`); `header_cache` keeps the headers seen last time, so people's columns are not
    read; `state_tab` is named when a person deletes it."""

    charts_every_sync = False  # the chart is kept when the Review tab changes, not each sync

    def __init__(
        self,
        target: str,
        credentials: str | None = None,
        *,
        http_client: SheetsClient | None = None,
        session: requests.Session | None = None,
        retry_budget: float = 60.0,
        sleep: Callable[[float], None] | None = None,
        timeout: tuple[float, float] | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        header_cache: Path | None = None,
        state_tab: str | None = None,
    ):
        self.http_client = http_client or SheetsClient(
            target, credentials, session, retry_budget, sleep, timeout
        )
        self.notices: list[str] = []
        self.reader = SheetReader(self.http_client, self.notices, header_cache, state_tab)
        self.writer = CellWriter(self.http_client, self.reader, self.notices, max_request_bytes)
        self.appender = RowAppender(self.http_client, self.reader, self.writer)
        self.charts = ReviewCharts(self.http_client, self.reader)

    def describe(self) -> str:
        return self.http_client.describe()

    @property
    def retries(self) -> int:
        """Requests the HTTP client sent again after a fault."""
        return self.http_client.retries

    @property
    def timeout(self) -> tuple[float, float]:
        """The HTTP client's (connect, read) timeouts, in seconds."""
        return self.http_client.timeout

    @property
    def state_tab(self) -> str | None:
        return self.reader.state_tab

    @state_tab.setter
    def state_tab(self, name: str | None) -> None:
        self.reader.state_tab = name

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        yield  # the API has no lock to hold: every write checks, then proves, what it wrote

    # --- the Backend protocol, by the collaborators ------------------------------------------

    def read(self, tabs: Sequence[str], skip: Skip | None = None) -> Snapshot:
        return self.reader.read(tabs, skip)

    def read_boxes(
        self, snapshot: Snapshot, tab: str, boxes: Sequence[tuple[int, int, int | None, int | None]]
    ) -> list[Grid]:
        return self.reader.read_boxes(snapshot, tab, boxes)

    def tab_status(self, snapshot: Snapshot, tab: str) -> str:
        return self.reader.tab_status(snapshot, tab)

    def write(self, snapshot: Snapshot, writes: Sequence[CellWrite]) -> None:
        self.writer.write(snapshot, writes)

    def append_rows(
        self, snapshot: Snapshot, writes: Sequence[CellWrite], keys: Mapping[str, Sequence[int]]
    ) -> Landed:
        return self.appender.append_rows(snapshot, writes, keys)

    def prepare_tab(self, tab: str, widths: Sequence[float], note: str) -> None:
        self.charts.prepare_tab(tab, widths, note)

    def keep_chart(self, tab: str, plan: ChartPlan) -> None:
        self.charts.keep_chart(tab, plan)

    # --- tabs and formats ----------------------------------------------------------------

    def create_tabs(self, tabs: Sequence[str], hidden: Sequence[str] = ()) -> None:
        """Create missing tabs (a tab whose title differs only in case counts as present),
        each with a marker (spreadsheet developer metadata) naming its sheet id, so that a
        deleted or renamed tab is told from one never made. Marks existing unmarked tabs."""

        def build() -> Any:
            info = self.reader.info()
            self.reader.resolve(info, tabs)  # refuses a renamed tab instead of making a second
            used = {t.sheet_id for t in info.tabs}
            reqs = []
            for name in tabs:
                tab = info.find(name)
                if tab is not None and info.markers.get(name) == tab.sheet_id:
                    continue
                if tab is None:
                    sid = new_sheet_id(used)
                    props = {"sheetId": sid, "title": name, "hidden": name in hidden}
                    reqs.append({"addSheet": {"properties": props}})
                else:
                    sid = tab.sheet_id
                reqs.append(marker_request(name, sid))
            return {"requests": reqs} if reqs else None

        body = build()
        if body is not None:
            self.http_client.request("post", ":batchUpdate", {}, body, build, "creating tabs")

    def format(self, layout: Layout) -> None:
        from sheetsync.sheet.backends.google_format import format_requests

        names = [t.tab for t in layout.tables()]

        def build() -> Any:
            found = self.reader.resolve(self.reader.info(), names)
            if not found:
                return None
            ranges = [f"{quote_tab(t.title)}!1:{min(2, t.rows)}" for t in found.values()]
            meta = self.http_client.request("get", "", {"ranges": ranges, "fields": FORMAT_FIELDS})
            by_title = {t.title: name for name, t in found.items()}
            for sheet in meta.get("sheets", []):
                props = sheet.setdefault("properties", {})
                props["title"] = by_title.get(props.get("title"), props.get("title"))
            reqs = format_requests(meta, layout)
            return {"requests": reqs} if reqs else None

        body = build()
        if body is not None:
            self.http_client.request("post", ":batchUpdate", {}, body, build, "formatting")
