"""Syncs without a person (cron's `sync --quiet`, `watch`): one sync at a time per project,
and only what needs a person said: a cell a person edited that sheetsync would change (a
conflict), a run whose checks just started failing, a run whose row is gone, an error.

Exit codes, for cron and systemd (see README, "Working as a team"):
0 synced, nothing needs a person; 1 an error (one line, `Error: ...`); 2 a usage or
configuration error; 3 synced, and something needs a person (printed); 4 another sync of
the project was running and this one stopped (try again at the next tick).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sheetsync.project import Project
from sheetsync.sheet.lock import WAIT_SECONDS, sync_lock
from sheetsync.sheet.sync import SyncResult, sync_runs

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_ATTENTION = 3
EXIT_BUSY = 4


@dataclass
class Unattended:
    """A sync run without a person, and the lines worth their attention."""

    result: SyncResult
    attention: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.result.errors:  # a run's files are malformed: its row says so, the rest synced
            return EXIT_ERROR
        return EXIT_ATTENTION if self.attention else EXIT_OK


def attention(result: SyncResult) -> list[str]:
    """What in a sync needs a person, one line each; nothing when all is routine."""
    lines = [f"Error: {e}" for e in result.errors]
    lines += [f"conflict: {c.describe()}" for c in result.plan.conflicts]
    for change in result.plan.changes:
        if change.column == "checks" and str(change.new or "").startswith("fail"):
            lines.append(f"{change.key}: checks now {change.new} (`sheetsync check {change.key}`)")
    lines += [
        f"run {folder.name} was added but has no row in the sheet: "
        f"`sheetsync add --restore {folder}` puts it back"
        for folder in result.rowless
    ]
    return lines


def unattended_sync(
    project: Project, wait: float = WAIT_SECONDS, force: bool = False
) -> Unattended:
    """Sync every run of this machine under the project's sync lock (waiting up to `wait`
    seconds for another sync, then raising `lock.Busy`)."""
    with sync_lock(project, wait):
        result = sync_runs(project, force=force)
    return Unattended(result, attention(result))
