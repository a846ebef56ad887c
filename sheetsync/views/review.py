"""What the review meeting reads, as data: runs grouped by research question, each method's
does-it-scale trend, and the runs that need attention. Pure: rendering is in `report`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sheetsync.sheet.read import SheetRows
from sheetsync.views.rows import select
from sheetsync.vocab import Value, finite, is_unfinished

SIZE_KEYS = ("model.d_model", "model.n_layers", "model.n_heads", "model.n_experts", "data.tokens")


def method_of(record: dict[str, Value]) -> str:
    """A run's method: its changes against its dated baseline, minus the size it ran at."""
    parts = [p for p in str(record.get("changes") or "").split("; ") if p]
    kept = [p for p in parts if p.split(":", 1)[0] not in SIZE_KEYS]
    return "; ".join(kept) or "(baseline)"


@dataclass(frozen=True)
class MethodTrend:
    baseline: str
    method: str
    points: list[tuple[str, float, float]]  # run, compute, gain
    slope: float | None
    low: float | None
    high: float | None
    verdict: str


def trends(records: Sequence[dict[str, Value]]) -> list[MethodTrend]:
    """Methods (same changes vs the same dated baseline) run at several compute budgets."""
    from sheetsync.science.trend import trend

    groups: dict[tuple[str, str], list[tuple[str, float, float]]] = {}
    for r in records:
        if r.get("role") in ("baseline", "ladder") or r.get("status") != "finished":
            continue
        compute, gain = finite(r.get("compute")), finite(r.get("gain"))
        if compute is None or gain is None or gain <= 0:
            continue
        key = (f"{r.get('baseline')}@{r.get('baseline_date')}", method_of(r))
        groups.setdefault(key, []).append((str(r.get("run")), compute, gain))
    out = []
    for (baseline, method), points in sorted(groups.items()):
        if len({c for _, c, _ in points}) < 2:
            continue
        points.sort(key=lambda p: p[1])
        t = trend([c for _, c, _ in points], [g for _, _, g in points])
        out.append(MethodTrend(baseline, method, points, t.slope, t.low, t.high, t.verdict))
    return out


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
    attention = []
    for r in period:
        status, checks = str(r.get("status") or ""), str(r.get("checks") or "")
        if is_unfinished(status):
            attention.append((str(r["run"]), "unfinished", status))
        if "drift" in checks:
            attention.append((str(r["run"]), "config drift", checks))
        if "stale" in checks and r.get("role") not in ("baseline", "ladder"):
            attention.append(
                (str(r["run"]), "stale baseline", f"{r.get('baseline')}@{r.get('baseline_date')}")
            )
    return Report(since, groups, trends(rows.records), attention)
