"""`add`: the run's launch row, computed and shown before anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sheetsync.errors import UsageError
from sheetsync.project import Project
from sheetsync.records.baselines import Baseline
from sheetsync.records.configs import Change, diff
from sheetsync.records.launches import read_launch_record, save_launch_record
from sheetsync.records.runs import Run, save_launch_copy
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cells import launch_cells
from sheetsync.sheet.cycle import append_rows
from sheetsync.sheet.plan import Plan
from sheetsync.vocab import ROLES, Value


@dataclass(frozen=True)
class PendingAdd:
    """What `add` will append, shown to the person before they confirm."""

    run: Run
    baseline: Baseline
    changes: list[Change]
    cells: Mapping[str, Value]


def prepare_add(
    project: Project,
    run_dir: Path,
    question: str,
    baseline_ref: str | None,
    role: str = "feature",
) -> PendingAdd:
    """Read the run, resolve its dated baseline, and compute the row; writes nothing."""
    if not question or not question.strip():
        raise UsageError("--question is empty: say what this run is meant to find out")
    run = project.run_source().read(run_dir)
    registry = project.registry()
    if baseline_ref is None:
        names = registry.names()
        if len(names) != 1:
            known = ", ".join(names) or "none yet"
            raise UsageError(f"name the baseline with --baseline NAME[@DATE] (known: {known})")
        baseline_ref = names[0]
    baseline = registry.resolve(baseline_ref)
    changes = diff(baseline.config(), run.config)
    if role not in ROLES:
        raise UsageError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
    cells = launch_cells(run, baseline, question.strip(), role=role)
    return PendingAdd(run, baseline, changes, cells)


def commit_add(project: Project, pending: PendingAdd, force: bool = False) -> Plan:
    """Append the run's row (refusing a run id already in the sheet); keep the config and
    the row as launched in the run folder (for drift diffs, and to restore a lost row)."""
    layout = project.layout()
    backend = open_backend(project, force=force)
    plan = append_rows(backend, layout, layout.runs, [pending.cells])
    save_launch_copy(pending.run)
    save_launch_record(pending.run.path, pending.cells)
    return plan


@dataclass(frozen=True)
class Restored:
    run_id: str
    row: int | None
    sheet: str


def restore_row(project: Project, run_dir: Path, force: bool = False) -> Restored:
    """Append again the row `add` recorded for this run (after a save lost it); refuses a run
    whose row is still in the sheet."""
    cells = read_launch_record(Path(run_dir))
    layout = project.layout()
    backend = open_backend(project, force=force)
    plan = append_rows(backend, layout, layout.runs, [cells])
    row = plan.changes[0].row if plan.changes else None
    return Restored(str(cells["run"]), row, backend.describe())
