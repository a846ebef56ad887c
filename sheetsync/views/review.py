"""What the review meeting reads, as data: runs grouped by research question, each method's
does-it-scale trend, and the runs that need attention (the last two from `sheet.meeting`,
which the Review tab shares). Pure: rendering is in `report`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sheetsync.sheet.meeting import MethodTrend, attention, method_of, trends
from sheetsync.sheet.read import SheetRows
from sheetsync.views.rows import select
from sheetsync.vocab import Value

__all__ = ["MethodTrend", "Report", "build", "method_of", "trends"]


@dataclass
class Report:
    since: dt.date | None
    groups: dict[str, list[dict[str, Value]]]
    trends: list[MethodTrend]
    attention: list[tuple[str, str, str]]  # run, what, detail
    plots: dict[str, str | None] = field(default_factory=dict)  # baseline -> PNG base64
    gain_plots: dict[str, str] = field(default_factory=dict)  # baseline -> PNG base64
    plot_note: str = ""


def build(rows: SheetRows, since: dt.date | None = None) -> Report:
    """Pure: the report's content from the sheet's rows."""
    period = select(rows.records, since=since)
    finished = [r for r in period if r.get("status") == "finished" and r.get("role") != "ladder"]
    groups: dict[str, list[dict[str, Value]]] = {}
    for r in finished:
        groups.setdefault(str(r.get("question") or "(no question)"), []).append(r)
    return Report(since, groups, trends(rows.records), attention(period))
