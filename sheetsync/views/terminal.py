"""What the terminal shows: a table of runs (the columns that matter in a meeting, fitted to
the width), a method's does-it-scale lines, a run's evals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sheetsync.records.evalformats.identity import limit_text
from sheetsync.sheet.verdicts import MethodTrend
from sheetsync.vocab import Value, is_diverged, is_error, is_unfinished

# (record key, title, min width, weight for spare width)
COLUMNS = (
    ("run", "run", 8, 2),
    ("launched", "launched", 10, 0),
    ("baseline", "baseline", 8, 1),
    ("status", "status", 6, 1),
    ("final_loss", "loss", 6, 0),
    ("eval_avg", "eval avg", 5, 0),
    ("gain", "gain", 5, 0),
    ("checks", "checks", 5, 2),
    ("question", "question", 5, 4),
)


@dataclass(frozen=True)
class Cell:
    text: str
    tone: str = ""  # good | bad | muted | ""


def _text(key: str, record: dict[str, Value]) -> Cell:
    value = record.get(key)
    if key == "baseline" and value:
        return Cell(f"{value}@{record.get('baseline_date') or '?'}")
    if key == "launched" and value:
        return Cell(str(value)[:10])
    if value is None:
        return Cell("")
    if key == "status":
        text = str(value)
        bad = is_unfinished(text) or is_diverged(text) or is_error(text)
        tone = "good" if text == "finished" else ("bad" if bad else "muted")
        return Cell(text, tone)
    if key == "gain" and isinstance(value, int | float):
        return Cell(f"{value:.2f}x", "good" if value > 1 else "bad")
    if key == "checks":
        text = str(value)
        return Cell(text, "" if text == "ok" else ("bad" if text.startswith("fail") else "muted"))
    if isinstance(value, float):
        return Cell(f"{value:.4f}")
    return Cell(str(value))


# Columns dropped, in this order, when even at their minimum widths they do not leave the run
# id whole: the run id is how a person names a run in the room, so it is never shortened.
DROP_ORDER = ("launched", "question", "eval_avg", "baseline", "checks", "final_loss", "status")


def table(records: Sequence[dict[str, Value]], width: int) -> list[list[Cell]]:
    """Header + one row per record in `width` characters: the run id always whole; the other
    columns shortened first, then left out (DROP_ORDER) while the line is still too wide."""
    cells = [[_text(key, r) for key, *_ in COLUMNS] for r in records]
    natural = [
        max([len(title)] + [len(row[i].text) for row in cells])
        for i, (_, title, _, _) in enumerate(COLUMNS)
    ]
    shown = list(range(len(COLUMNS)))
    widths = _widths(shown, natural, width)
    for key in DROP_ORDER:
        if widths is not None:
            break
        shown.remove(next(i for i in shown if COLUMNS[i][0] == key))
        widths = _widths(shown, natural, width)
    if widths is None:  # the run id alone is wider than the terminal: it is still shown whole
        shown = [i for i in shown if COLUMNS[i][0] in ("run", "gain")]
        widths = {i: natural[i] for i in shown}
    out = [[Cell(COLUMNS[i][1].ljust(widths[i])[: widths[i]], "muted") for i in shown]]
    for row in cells:
        out.append([Cell(_fit(row[i].text, widths[i]), row[i].tone) for i in shown])
    return out


def _widths(shown: list[int], natural: list[int], width: int) -> dict[int, int] | None:
    """Each shown column's width within `width` (the run column at its natural width), taking
    a character at a time from the column with the most room above its minimum, weighted;
    None when the columns at their minimums still do not fit."""
    widths = {i: natural[i] for i in shown}
    least = {
        i: natural[i] if COLUMNS[i][0] == "run" else min(COLUMNS[i][2], natural[i]) for i in shown
    }
    budget = width - 2 * (len(shown) - 1)
    if sum(least.values()) > budget:
        return None
    while sum(widths.values()) > budget:
        i = max(shown, key=lambda k: (widths[k] - least[k]) * (1 + COLUMNS[k][3]))
        widths[i] -= 1
    return widths


def _fit(text: str, width: int) -> str:
    if len(text) <= width:
        return text.ljust(width)
    return text[: max(width - 1, 0)] + "…"


def trend_lines(t: MethodTrend) -> list[str]:
    """A method's does-it-scale answer as `scaling` prints it: its runs' gains (90%), the
    slope with its interval and the verdict, then the above-1 flag and the projection."""
    out = [f"{t.method}  vs {t.baseline}"]
    for (run_id, c, g), iv in zip(t.points, t.intervals, strict=True):
        interval = f" [{iv[0]:.3f}-{iv[1]:.3f}]" if iv else ""
        out.append(f"  {run_id:<24} {c:10.3g} FLOPs  gain {g:.3f}x{interval}")
    if t.low is not None and t.high is not None:
        out.append(  # the slope as the report and the Review tab write it
            f"  slope of log gain vs log compute (90%) {t.trend.slope_text()}: {t.verdict}"
        )
    else:
        out.append(f"  {t.trend.budgets} budgets: {t.verdict} (a verdict needs 3)")
    if t.trend.flag:
        out.append(f"  {t.trend.flag}")
    if t.projection is not None:
        out.append(f"  {t.projection.text()}")
    return out


def eval_lines(records: Sequence[dict[str, Any]]) -> list[str]:
    """A run's evals as `sheetsync evals` prints them: per column the value, then the file,
    task, metric, filter, shots, samples and model it came from; what was not used, and why."""
    out: list[str] = []
    for r in records:
        out += _eval_lines(r) if r["column"] is not None else _unused_lines(r)
    return out


def _unused_lines(r: dict[str, Any]) -> list[str]:
    out = []
    for u in r["not_used"]:
        tasks = f" ({len(u['tasks'])} tasks)" if u["tasks"] else ""
        out.append(f"not used: {u['file']}: {u['reason']}{tasks}")
    if r["not_in_layout"]:
        names = r["not_in_layout"]
        more = f" (+{len(names) - 12} more)" if len(names) > 12 else ""
        out.append(f"in the files, no column: {', '.join(names[:12])}{more}")
    return out


def _eval_lines(r: dict[str, Any]) -> list[str]:
    pad = f"{'':<16}"
    if "error" in r:
        out = [f"{r['task']:<16} error: {r['error']}"]
    elif "mark" in r:
        out = [f"{r['task']:<16} {r['mark']}"]
    elif r.get("value") is None:
        out = [f"{r['task']:<16} (not evaluated)"]
    else:
        extra = f" ± {r['stderr']:.4f}" if r.get("stderr") else ""
        if len(r["samples"]) > 1:
            extra += f" (mean of {len(r['samples'])} samples, spread {r['spread']:.4f})"
        if r["limit"] is not None:
            extra += " (limited: not averaged)" if r["limit_pinned"] is None else " (limited)"
        how = [
            r["format"],
            f"task {r['task_in_file']}",
            f"filter {r['filter']}",
            "shots unknown" if r["shots"] is None else f"{r['shots']}-shot",
        ]
        if r["n_samples"] is not None:
            how.append(f"{r['n_samples']:,} samples")
        if r["limit"] is not None:
            how.append(limit_text(r["limit"]))
        out = [
            f"{r['task']:<16} {r['metric']:<28} {r['value']:.4f}{extra}",
            f"{pad} {', '.join(how)}",
            f"{pad} file {r['file']}",
            f"{pad} model {r['model'] or '(not named in the file)'}",
        ]
        if r["note"]:
            out.append(f"{pad} {r['note']}")
    return out + [f"{pad} not used: {u['file']}: {u['reason']}" for u in r["not_used"]]
