"""What sheetsync writes into a run's row: launch cells at `add`, result cells at `sync`.

Result cells come from several sources (progress and results here; evals, gains and checks
in their own modules), each a function of the run folder and the row as the sheet has it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from sheetsync.backends.base import Value
from sheetsync.baselines import Baseline
from sheetsync.configs import diff, format_changes
from sheetsync.runs import Run

CellSource = Callable[[Run, Mapping[str, Value]], Mapping[str, Value]]
MAX_CHANGES_TEXT = 2000
UNFINISHED_MARK = "unfinished"
ROLES = ("feature", "baseline", "ladder")


def _git(*args: str) -> str | None:
    """A git command's output, or None when git is missing, fails or hangs."""
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def who() -> str:
    """The person adding a run: git's user.name, else the login name."""
    name = _git("config", "user.name")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def git_commit(folder: Path) -> str | None:
    """HEAD of the git repository containing `folder` (marked -dirty if the tree is not clean)."""
    head = _git("-C", str(folder), "rev-parse", "--short=12", "HEAD")
    if not head:
        return None
    status = _git("-C", str(folder), "status", "--porcelain", "--untracked-files=no")
    return head + ("-dirty" if status else "")


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
    launched = run.launch.launched_at or now.strftime("%Y-%m-%d %H:%M")
    commit = run.launch.git_commit
    if commit and run.launch.git_dirty:
        commit += "-dirty"
    return {
        "run": run.run_id,
        "launched": launched,
        "launched_by": run.launch.launched_by or person or who(),
        "question": question,
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


def progress_cells(run: Run, row: Mapping[str, Value]) -> dict[str, Value]:
    """Status, progress, tokens, compute and final loss; an unfinished run's loss says so."""
    p = run.progress
    compute, _ = compute_of(run)
    status = run.status
    cells: dict[str, Value] = {
        "status": status,
        "progress": round(p.fraction, 6) if p.fraction is not None else None,
        "tokens": p.tokens,
        "compute": compute,
    }
    if run.finished:
        cells["final_loss"] = run.results.final_loss
    elif status.startswith("unfinished"):
        cells["final_loss"] = UNFINISHED_MARK
    else:
        cells["final_loss"] = status if status != "launched" else None
    return cells
