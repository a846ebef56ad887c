"""The Review tab on a Google Sheet: the tab protected with a warning (people may still edit,
after a prompt: sheetsync rewrites it), its column widths, and its chart.

The chart is an `EmbeddedChart` with a SCATTER `BasicChartSpec` (Sheets API v4 reference:
AddChartRequest, UpdateChartSpecRequest, ChartSpec, BasicChartSpec, BasicChartSeries,
ChartSourceRange, OverlayPosition): one domain (log10 of compute: BasicChartAxis has no log
scale) and per method three series read from the tab (its gain with a line, the ends of its
90% interval as small marks). `addChart` makes it once; after that `updateChartSpec` changes
it in place, only when the spec sheetsync wants differs from the chart's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sheetsync.sheet.backends.google_api import column_width
from sheetsync.sheet.chart_plan import WIDTHS, ChartPlan

if TYPE_CHECKING:
    from sheetsync.sheet.backends.google_api import SheetInfo
    from sheetsync.sheet.backends.google_http import SheetsClient
    from sheetsync.sheet.backends.google_read import SheetReader

COLOURS = (
    (0.12, 0.47, 0.71),
    (0.84, 0.15, 0.16),
    (0.17, 0.63, 0.17),
    (0.58, 0.40, 0.74),
    (1.0, 0.50, 0.05),
    (0.55, 0.34, 0.29),
    (0.89, 0.47, 0.76),
    (0.09, 0.75, 0.81),
)
CHART_FIELDS = "sheets(properties(sheetId,title),charts(chartId,spec))"
PIXELS_PER_CHAR = 7
ROW_PIXELS = 21  # a row's default height on Google Sheets


def _source(sid: int, r0: int, r1: int, col: int) -> dict[str, Any]:
    grid = {
        "sheetId": sid,
        "startRowIndex": r0 - 1,
        "endRowIndex": r1,
        "startColumnIndex": col - 1,
        "endColumnIndex": col,
    }
    return {"sourceRange": {"sources": [grid]}}


def chart_spec(sid: int, plan: ChartPlan) -> dict[str, Any]:
    """The ChartSpec of the Review chart (header row included: headerCount 1 names series)."""
    series = []
    for s in plan.series:
        r, g, b = COLOURS[s.method % len(COLOURS)]
        item: dict[str, Any] = {
            "series": _source(sid, plan.header_row, plan.last_row, s.col),
            "targetAxis": "LEFT_AXIS",
            "colorStyle": {"rgbColor": {"red": r, "green": g, "blue": b}},
        }
        if s.kind == "gain":
            item["pointStyle"] = {"shape": "CIRCLE", "size": 6}
        else:
            item["pointStyle"] = {"shape": "X_MARK", "size": 4}
        series.append(item)

    def window(bounds: tuple[float, float]) -> dict[str, Any]:
        return {
            "viewWindowMode": "EXPLICIT",
            "viewWindowMin": bounds[0],
            "viewWindowMax": bounds[1],
        }

    return {
        "title": plan.title,
        "basicChart": {
            "chartType": "SCATTER",
            "legendPosition": "BOTTOM_LEGEND",
            "headerCount": 1,
            "axis": [
                {
                    "position": "BOTTOM_AXIS",
                    "title": "log10 compute (FLOPs)",
                    "viewWindowOptions": window(plan.x_range),
                },
                {
                    "position": "LEFT_AXIS",
                    "title": "gain (x)",
                    "viewWindowOptions": window(plan.y_range),
                },
            ],
            "domains": [{"domain": _source(sid, plan.header_row, plan.last_row, plan.x_col)}],
            "series": series,
        },
    }


def _position(sid: int, plan: ChartPlan, widths: Sequence[float]) -> dict[str, Any]:
    r0, c0, r1, c1 = plan.anchor
    width = sum(widths[c0 - 1 : c1]) * PIXELS_PER_CHAR if widths else 720
    return {
        "overlayPosition": {
            "anchorCell": {"sheetId": sid, "rowIndex": r0 - 1, "columnIndex": c0 - 1},
            "widthPixels": int(width),
            "heightPixels": (r1 - r0 + 1) * ROW_PIXELS,
        }
    }


def _canonical(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


@dataclass(eq=False)
class ReviewCharts:
    """The Review tab's protection, widths and chart, sent through `client` (tabs found with
    `reader`)."""

    client: SheetsClient
    reader: SheetReader

    def prepare_tab(self, tab: str, widths: Sequence[float], note: str) -> None:
        """Protect a tab sheetsync writes whole with a warning (`note` as its description)
        and set its columns' widths: one batchUpdate, once, when the tab is made."""

        def build() -> Any:
            info: SheetInfo = self.reader.info()
            found = info.find(tab)
            if found is None:
                return None
            if any(p.get("description") == note for p in found.protected):
                return None  # a retry after the first attempt landed
            sid = found.sheet_id
            reqs: list[dict[str, Any]] = [
                {
                    "addProtectedRange": {
                        "protectedRange": {
                            "range": {"sheetId": sid},
                            "description": note,
                            "warningOnly": True,
                        }
                    }
                }
            ]
            reqs += [column_width(sid, i, int(w * PIXELS_PER_CHAR)) for i, w in enumerate(widths)]
            return {"requests": reqs}

        body = build()
        if body is not None:
            self.client.request("post", ":batchUpdate", {}, body, build, "preparing the tab")

    def keep_chart(self, tab: str, plan: ChartPlan) -> None:
        """Add the tab's chart, or update its spec in place when it differs: one read of the
        tab's charts, and one batchUpdate only when something is to change."""

        def build() -> Any:
            meta = self.client.request("get", "", {"fields": CHART_FIELDS})
            for sheet in meta.get("sheets", []):
                props = sheet.get("properties", {})
                if props.get("title", "").casefold() != tab.casefold():
                    continue
                sid = props.get("sheetId", 0)
                spec = chart_spec(sid, plan)
                charts = sheet.get("charts", [])
                if not charts:
                    chart = {"spec": spec, "position": _position(sid, plan, WIDTHS)}
                    return {"requests": [{"addChart": {"chart": chart}}]}
                if _canonical(_comparable(charts[0].get("spec", {}))) == _canonical(
                    _comparable(spec)
                ):
                    return None
                update = {"chartId": charts[0]["chartId"], "spec": spec}
                return {"requests": [{"updateChartSpec": update}]}
            return None

        body = build()
        if body is not None:
            self.client.request("post", ":batchUpdate", {}, body, build, "the Review chart")


def _comparable(spec: dict[str, Any]) -> dict[str, Any]:
    """What of a spec sheetsync sets: Google fills in defaults (fonts, colours as both
    colorStyle and color), so only the title, chart type, axes' windows and the ranges read
    are compared."""
    basic = spec.get("basicChart", {})
    return {
        "title": spec.get("title"),
        "type": basic.get("chartType"),
        "axis": [
            (a.get("position"), a.get("title"), a.get("viewWindowOptions"))
            for a in basic.get("axis", [])
        ],
        "domains": [d.get("domain") for d in basic.get("domains", [])],
        "series": [s.get("series") for s in basic.get("series", [])],
    }
