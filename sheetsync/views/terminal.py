"""A terminal table of runs: the columns that matter in a meeting, fitted to the width."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sheetsync.sheet.verdicts import MethodTrend
from sheetsync.vocab import Value, is_unfinished

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
        tone = "good" if text == "finished" else ("bad" if is_unfinished(text) else "muted")
        return Cell(text, tone)
    if key == "gain" and isinstance(value, int | float):
        return Cell(f"{value:.2f}x", "good" if value > 1 else "bad")
    if key == "checks":
        text = str(value)
        return Cell(text, "" if text == "ok" else ("bad" if text.startswith("fail") else "muted"))
    if isinstance(value, float):
        return Cell(f"{value:.4f}")
    return Cell(str(value))


def table(records: Sequence[dict[str, Value]], width: int) -> list[list[Cell]]:
    """Header + one row per record, each cell cut to fit `width` characters in all."""
    rows = [[_text(key, r) for key, *_ in COLUMNS] for r in records]
    natural = [
        max([len(title)] + [len(row[i].text) for row in rows])
        for i, (_, title, _, _) in enumerate(COLUMNS)
    ]
    widths = list(natural)
    budget = width - 2 * (len(COLUMNS) - 1)
    while sum(widths) > budget:
        # shrink the column with the most room above its minimum, weighted
        candidates = [
            (widths[i] - COLUMNS[i][2]) * (1 + COLUMNS[i][3]) for i in range(len(COLUMNS))
        ]
        i = max(range(len(COLUMNS)), key=lambda k: candidates[k])
        if widths[i] <= COLUMNS[i][2]:
            break
        widths[i] -= 1
    header = [
        Cell(title.ljust(widths[i])[: widths[i]], "muted")
        for i, (_, title, *_) in enumerate(COLUMNS)
    ]
    out = [header]
    for row in rows:
        out.append([Cell(_fit(c.text, widths[i]), c.tone) for i, c in enumerate(row)])
    return out


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
        out.append(
            f"  slope of log gain vs log compute {t.slope:+.3f} "
            f"(90%: {t.low:+.3f} to {t.high:+.3f}): {t.verdict}"
        )
    else:
        out.append(f"  {t.trend.budgets} budgets: {t.verdict} (a verdict needs 3)")
    if t.trend.flag:
        out.append(f"  {t.trend.flag}")
    if t.projection is not None:
        out.append(f"  {t.projection.text()}")
    return out
