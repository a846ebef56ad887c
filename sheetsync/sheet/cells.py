"""What sheetsync writes into a run's row: launch cells at `add`, result cells at `sync`.

Result cells come from several sources (progress and results here; evals, gains and checks
in their own modules), each a function of the run folder and the row as the sheet has it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from sheetsync.records.baselines import Baseline
from sheetsync.records.configs import diff, format_changes
from sheetsync.records.git import git_commit, who
from sheetsync.records.names import one_line
from sheetsync.records.runs import Run
from sheetsync.sheet.rows import Row
from sheetsync.vocab import Value, marker

CellSource = Callable[[Run, Row], Mapping[str, Value]]
MAX_CHANGES_TEXT = 2000


def changes_text(run: Run, baseline: Baseline) -> str:
    """The run's dotted-key changes against its dated baseline, as one cell's text."""
    text = format_changes(diff(baseline.config(), run.config))
    if len(text) > MAX_CHANGES_TEXT:
        count = text.count("; ") + 1
        text = text[: MAX_CHANGES_TEXT - 40].rsplit("; ", 1)[0] + f"; ... ({count} changes in all)"
    return text or "(none)"


def launch_cells(
    run: Run,
    baseline: Baseline,
    question: str,
    now: dt.datetime | None = None,
    person: str | None = None,
    role: str = "feature",
) -> dict[str, Value]:
    """Everything `add` records once: the question, the dated baseline, the fingerprint."""
    now = now or dt.datetime.now(dt.UTC)
    launched = one_line(run.launch.launched_at or "") or now.strftime("%Y-%m-%d %H:%M")
    commit = one_line(run.launch.git_commit or "")
    if commit and run.launch.git_dirty:
        commit += "-dirty"
    return {
        "run": run.run_id,
        "launched": launched,
        "launched_by": one_line(run.launch.launched_by or person or who()),
        "question": one_line(question),
        "role": role,
        "baseline": baseline.name,
        "baseline_date": baseline.date.isoformat(),
        "fingerprint": run.fingerprint,
        "changes": changes_text(run, baseline),
        "git_commit": commit or git_commit(run.path) or "",
    }


def compute_of(run: Run) -> tuple[float | None, str]:
    """Training FLOPs: as the run reports them, else 6*N*D (active parameters for MoE)."""
    if run.results.flops is not None:
        return run.results.flops, "reported"
    n = run.results.active_params or run.results.params
    d = run.progress.tokens
    if n and d:
        return 6.0 * n * d, "6ND"
    return None, "unknown"


def progress_cells(run: Run, row: Row) -> dict[str, Value]:
    """Status, progress, tokens, compute and final loss; an unfinished or diverged run's loss
    says so."""
    p = run.progress
    compute, _ = compute_of(run)
    status = run.status
    cells: dict[str, Value] = {
        "status": status,
        "progress": round(p.fraction, 6) if p.fraction is not None else None,
        "tokens": p.tokens,
        "compute": compute,
    }
    word = marker(status)
    if run.finished:
        cells["final_loss"] = run.results.final_loss
    elif word is not None:
        cells["final_loss"] = word
    else:
        cells["final_loss"] = status if status != "launched" else None
    return cells
