"""What the review meeting reads, as data, shared by the report (views) and the Review tab
that `sync` writes: each method's does-it-scale trend, the runs that need attention (each
run once), and each fit's quality line. Pure functions of the sheet's records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sheetsync.vocab import Value, finite, is_unfinished

SIZE_KEYS = ("model.d_model", "model.n_layers", "model.n_heads", "model.n_experts", "data.tokens")


def method_of(record: dict[str, Value]) -> str:
    """A run's method: its changes against its dated baseline, minus the size it ran at."""
    parts = [p for p in str(record.get("changes") or "").split("; ") if p]
    kept = [p for p in parts if p.split(":", 1)[0] not in SIZE_KEYS]
    return "; ".join(kept) or "(baseline)"


def baseline_of(record: dict[str, Value]) -> str:
    return f"{record.get('baseline')}@{record.get('baseline_date')}"


@dataclass(frozen=True)
class MethodTrend:
    baseline: str
    method: str
    points: list[tuple[str, float, float]]  # run, compute, gain
    slope: float | None
    low: float | None
    high: float | None
    verdict: str
    # each point's 90% gain interval (None where the sheet holds none), in `points` order
    intervals: list[tuple[float | None, float | None]] = field(default_factory=list)
    above_one: bool = False  # every gain's interval lies above 1
    projection: str = ""  # e.g. `projected at 1e23: 1.05x [0.98-1.12]`, when known


def _interval(record: dict[str, Value]) -> tuple[float | None, float | None]:
    from sheetsync.science.gain import interval_of

    bounds = interval_of(record.get("gain_interval"))
    return bounds if bounds is not None else (None, None)


def verdict_of(
    points: Sequence[tuple[str, float, float]],
    intervals: Sequence[tuple[float | None, float | None]],
) -> tuple[float | None, float | None, float | None, str, bool, str]:
    """The one adapter between the sheet and the science of verdicts: (slope, low, high,
    verdict, above 1 at every budget, projection text) for a method's points."""
    from sheetsync.science.trend import trend

    t = trend([c for _, c, _ in points], [g for _, _, g in points])
    above = bool(intervals) and all(lo is not None and lo > 1 for lo, _ in intervals)
    return t.slope, t.low, t.high, t.verdict, above, ""


def trends(records: Sequence[dict[str, Value]]) -> list[MethodTrend]:
    """Methods (same changes vs the same dated baseline) run at several compute budgets."""
    groups: dict[tuple[str, str], list[dict[str, Value]]] = {}
    for r in records:
        if r.get("role") in ("baseline", "ladder") or r.get("status") != "finished":
            continue
        compute, gain = finite(r.get("compute")), finite(r.get("gain"))
        if compute is None or gain is None or gain <= 0:
            continue
        groups.setdefault((baseline_of(r), method_of(r)), []).append(r)
    out = []
    for (baseline, method), found in sorted(groups.items()):
        if len({finite(r.get("compute")) for r in found}) < 2:
            continue
        found.sort(key=lambda r: finite(r.get("compute")) or 0.0)
        points = [(str(r.get("run")), finite(r["compute"]), finite(r["gain"])) for r in found]
        intervals = [_interval(r) for r in found]
        slope, low, high, verdict, above, projection = verdict_of(points, intervals)  # type: ignore[arg-type]
        out.append(
            MethodTrend(
                baseline,
                method,
                points,
                slope,
                low,
                high,
                verdict,
                intervals,
                above,
                projection,  # type: ignore[arg-type]
            )
        )
    return out


def attention(records: Sequence[dict[str, Value]]) -> list[tuple[str, str, str]]:
    """(run, what, detail) of the runs that need a person's eye, each run once: unfinished,
    config drift, a stale baseline (several reasons share one line)."""
    out = []
    for r in records:
        status, checks = str(r.get("status") or ""), str(r.get("checks") or "")
        found: list[tuple[str, str]] = []
        if is_unfinished(status):
            found.append(("unfinished", status))
        if "drift" in checks:
            found.append(("config drift", checks))
        if "stale" in checks and r.get("role") not in ("baseline", "ladder"):
            found.append(("stale baseline", baseline_of(r)))
        if found:
            details = list(dict.fromkeys(d for _, d in found))
            out.append((str(r["run"]), "; ".join(w for w, _ in found), "; ".join(details)))
    return out


def fit_lines(fits: Sequence[dict[str, Value]]) -> list[tuple[str, str, str, str]]:
    """Per baseline's newest fit: its name, rung count, how it predicts its largest rung when
    that rung is left out, and its flags (from the quality recorded with the fit)."""
    from sheetsync.sheet.gains import fits_in

    out = []
    for _, (name, fit) in sorted(fits_in(list(fits)).items()):
        rungs = (fit.quality or {}).get("rungs") or []
        largest = ""
        if rungs:
            top = rungs[(fit.quality or {}).get("largest", -1)]
            if top.get("held_out") is not None:
                largest = (
                    f"{top['run']}: predicts {top['held_out']:.4f}, observed {top['loss']:.4f} "
                    f"({top['held_out_error']:+.2%})"
                )
        out.append((name, str(len(rungs) or fit.n_runs), largest, "; ".join(fit.flags) or "none"))
    return out
