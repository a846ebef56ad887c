"""What the review meeting reads, as data: runs grouped by research question, each method's
does-it-scale trend (`sheet.verdicts`), and the runs that need attention, each once
(`sheet.meeting`, which the Review tab shares). Pure: rendering is in `report`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sheetsync.project import Project
from sheetsync.sheet.meeting import attention
from sheetsync.sheet.read import SheetRows
from sheetsync.sheet.verdicts import SIZE_KEYS, MethodTrend, method_of, method_trends
from sheetsync.views.rows import select
from sheetsync.vocab import Value

__all__ = ["SIZE_KEYS", "MethodTrend", "Report", "build", "method_of", "trends"]


def trends(
    records: Sequence[dict[str, Value]],
    fits: Sequence[dict[str, Value]] = (),
    project: Project | None = None,
) -> list[MethodTrend]:
    """Methods (same changes vs the same dated baseline) run at several compute budgets, each
    with its verdict (see `sheetsync.sheet.verdicts`)."""
    return method_trends(records, fits, project)


@dataclass
class Report:
    since: dt.date | None
    groups: dict[str, list[dict[str, Value]]]
    trends: list[MethodTrend]
    attention: list[tuple[str, str, str]]  # run (each once), what (joined), detail (joined)
    plots: dict[str, str] = field(default_factory=dict)  # baseline -> its ladder picture (SVG)
    gain_plots: dict[str, str] = field(default_factory=dict)  # baseline -> gain picture (SVG)


def build(rows: SheetRows, since: dt.date | None = None, project: Project | None = None) -> Report:
    """The report's content from the sheet's rows (and the fits' bootstraps in `project`)."""
    period = select(rows.records, since=since)
    finished = [r for r in period if r.get("status") == "finished" and r.get("role") != "ladder"]
    groups: dict[str, list[dict[str, Value]]] = {}
    for r in finished:
        groups.setdefault(str(r.get("question") or "(no question)"), []).append(r)
    return Report(since, groups, trends(rows.records, rows.fits, project), attention(period))
