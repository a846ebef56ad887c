"""Each method's does-it-scale verdict, from the sheet: its runs' gains at several budgets,
the joint bootstrap of its baseline's recorded fit, and the project's target compute.

A method is one set of changes against one dated baseline, minus the size it ran at. Where
the baseline's fit and its bootstrap are at hand, every gain is computed from the fit and
every bootstrap draw gives all the method's gains at once (`science.gain.gain_draws`).

The runs' scatter is counted once in a verdict: the slope's interval takes the law's draws
(without the scatter) and adds the scatter the method's own gains show about their line (the
trend's t term); each gain's interval and the `above 1` flag take the law's draws and one
run's scatter, as the Runs tab's `gain 90%` cell does. Where the fit is not at hand, the gains
and intervals are read from the sheet's cells, whose intervals already hold each run's scatter:
the slope's interval then counts the scatter twice (wider, never narrower than it should be).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sheetsync.project import Project
from sheetsync.records.names import BaselineRef
from sheetsync.science.trend import Projection, Trend
from sheetsync.sheet.bootstraps import bootstrap_for
from sheetsync.vocab import Value, finite

if TYPE_CHECKING:
    from sheetsync.science.scaling import Fit

SIZE_KEYS = ("model.d_model", "model.n_layers", "model.n_heads", "model.n_experts", "data.tokens")
BASELINE_ROLES = ("baseline", "ladder")


def method_of(record: Mapping[str, Value]) -> str:
    """A run's method: its changes against its dated baseline, minus the size it ran at."""
    parts = [p for p in str(record.get("changes") or "").split("; ") if p]
    kept = [p for p in parts if p.split(":", 1)[0] not in SIZE_KEYS]
    return "; ".join(kept) or "(baseline)"


def gain_text(
    record: Mapping[str, Value], key: str = "gain", interval_key: str = "gain_interval"
) -> str:
    """A gain as the meeting reads it, in the report and the Review tab alike:
    `1.10x [1.050-1.146x; vs ladder-150m]`; a cell without a number (`unfinished`, `beyond the
    fit's floor`) as it stands, and nothing for an empty one."""
    g = finite(record.get(key))
    if g is None:
        value = record.get(key)
        return "" if value is None else str(value)
    interval = str(record.get(interval_key) or "")
    return f"{g:.2f}x" + (f" [{interval}]" if interval else "")


@dataclass(frozen=True)
class MethodTrend:
    """One method's runs (run, compute, gain), each gain's 90% interval, and its Trend."""

    baseline: str  # NAME@DATE
    method: str
    points: list[tuple[str, float, float]]  # run, compute, gain; by compute
    intervals: list[tuple[float, float] | None]  # each gain's 90% interval, as points
    trend: Trend
    fit: str = ""  # the fit the gains are against ("" when read from the sheet's cells)

    @property
    def slope(self) -> float | None:
        return self.trend.slope

    @property
    def low(self) -> float | None:
        return self.trend.low

    @property
    def high(self) -> float | None:
        return self.trend.high

    @property
    def verdict(self) -> str:
        return self.trend.verdict

    @property
    def above_one(self) -> bool:
        return self.trend.above_one

    @property
    def projection(self) -> Projection | None:
        return self.trend.projection

    def to_dict(self) -> dict[str, object]:
        return {
            "baseline": self.baseline,
            "method": self.method,
            "fit": self.fit or None,
            "runs": [
                {
                    "run": r,
                    "compute": c,
                    "gain": g,
                    "low": iv[0] if iv else None,
                    "high": iv[1] if iv else None,
                }
                for (r, c, g), iv in zip(self.points, self.intervals, strict=True)
            ],
            **self.trend.to_dict(),
        }


def _cell_interval(record: Mapping[str, Value]) -> tuple[float, float] | None:
    from sheetsync.science.gain import interval_of

    return interval_of(record.get("gain_interval"))


def method_trends(
    records: Sequence[Mapping[str, Value]],
    fit_records: Sequence[Mapping[str, Value]] = (),
    project: Project | None = None,
    target: float | None = None,
) -> list[MethodTrend]:
    """Every method (same changes vs the same dated baseline) finished at two or more compute
    budgets, with its verdict. `fit_records`: the Scaling tab's rows (the newest fit of each
    baseline is used); `project`: where the fits' bootstraps are cached; `target`: the compute
    to project to (default: the project's `target_compute`)."""
    from sheetsync.sheet.gains import fits_in

    if target is None and project is not None:
        target = project.target_compute
    fits = fits_in(fit_records) if fit_records else {}
    groups: dict[tuple[str, str], list[Mapping[str, Value]]] = {}
    for r in records:
        if r.get("role") in BASELINE_ROLES or r.get("status") != "finished":
            continue
        compute = finite(r.get("compute"))
        if compute is None or compute <= 0:
            continue
        groups.setdefault((BaselineRef.of_row(r), method_of(r)), []).append(r)
    out = []
    for (baseline, method), rows in sorted(groups.items()):
        if len({finite(r.get("compute")) for r in rows}) < 2:
            continue
        found = method_trend(baseline, method, rows, fits.get(baseline), project, target)
        if found is not None:
            out.append(found)
    return out


def method_trend(
    baseline: str,
    method: str,
    rows: Sequence[Mapping[str, Value]],
    found: tuple[str, Fit] | None,
    project: Project | None,
    target: float | None,
) -> MethodTrend | None:
    """One method's trend: against the fit's bootstrap when every run has a loss the fit can
    read, else from the sheet's gain cells. None when fewer than two runs have a gain."""
    from sheetsync.science.gain import gain, gain_draws
    from sheetsync.science.trend import draws_from_intervals, trend

    rows = sorted(rows, key=lambda r: finite(r.get("compute")) or 0.0)
    boot = bootstrap_for(project, found[1]) if found is not None else None
    if found is not None and boot is not None:
        name, fit = found
        pts, losses, ok = [], [], True
        intervals: list[tuple[float, float] | None] = []
        for r in rows:
            c, lo = finite(r.get("compute")), finite(r.get("final_loss"))
            one = gain(fit, c, lo, boot) if c and lo else None
            if one is None or one.gain is None:
                ok = False
                break
            pts.append((str(r.get("run")), float(c), one.gain))
            losses.append(float(lo))
            # the gain cell's own interval (the law's draws and the run's scatter): the flag
            # and the chart say what the Runs tab says
            high = one.high if one.high is not None else math.inf
            intervals.append((one.low, high) if one.low is not None else None)
        if ok and len(pts) >= 2:
            # the law's draws only: the trend counts the runs' scatter from their residuals
            draws = gain_draws(boot, [c for _, c, _ in pts], losses)
            t = trend([c for _, c, _ in pts], [g for _, _, g in pts], draws, intervals, target)
            return MethodTrend(baseline, method, pts, intervals, t, name)
    pts, intervals = [], []
    for r in rows:
        c, g = finite(r.get("compute")), finite(r.get("gain"))
        if c is None or g is None or g <= 0:
            continue
        pts.append((str(r.get("run")), c, g))
        intervals.append(_cell_interval(r))
    if len({c for _, c, _ in pts}) < 2:
        return None
    gains = [g for _, _, g in pts]
    draws = draws_from_intervals(gains, intervals)
    t = trend([c for _, c, _ in pts], gains, draws, intervals, target)
    return MethodTrend(baseline, method, pts, intervals, t)
