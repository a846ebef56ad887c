"""`add`: the run's launch row, computed and shown before anything is written.

Everything that can fail is done before the sheet or the disk is touched: the run folder is
resolved inside the runs folder, its config read (plain data only) and fingerprinted, the
diff and the launch copy computed, and the sheet checked for the run id. Then the launch copy
is staged, the row appended, and the copy renamed into place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sheetsync.errors import UsageError
from sheetsync.project import Project
from sheetsync.records.baselines import Baseline
from sheetsync.records.configs import Change, diff
from sheetsync.records.files import discard, put_in_place, staged
from sheetsync.records.launches import LAUNCH_RECORD, launch_record_text, read_launch_record
from sheetsync.records.runs import LAUNCH_COPY, Run, launch_copy_text
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cells import launch_cells
from sheetsync.sheet.cycle import append_rows, grid_or_error
from sheetsync.sheet.header import index_rows, read_header
from sheetsync.sheet.plan import Plan, refuse_present
from sheetsync.vocab import ROLES, Value


@dataclass(frozen=True)
class PendingAdd:
    """What `add` will append, shown to the person before they confirm."""

    run: Run
    baseline: Baseline
    changes: list[Change]
    cells: Mapping[str, Value]
    launch_copy: bytes


def prepare_add(
    project: Project,
    run_dir: str | Path,
    question: str,
    baseline_ref: str | None,
    role: str = "feature",
) -> PendingAdd:
    """Read the run, resolve its dated baseline, compute the row, and check that the sheet
    can take it; writes nothing."""
    if not question or not question.strip():
        raise UsageError("--question is empty: say what this run is meant to find out")
    if role not in ROLES:
        raise UsageError(f"--role must be one of {', '.join(ROLES)}, not {role!r}")
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
    cells = launch_cells(run, baseline, question, role=role)
    pending = PendingAdd(run, baseline, changes, cells, launch_copy_text(run))
    _check_sheet(project, run.run_id)
    return pending


def _check_sheet(project: Project, run_id: str) -> None:
    """The Runs tab is readable and does not hold the run yet (checked again when writing)."""
    layout = project.layout()
    backend = open_backend(project)
    with backend.session():
        snapshot = backend.read([layout.runs.tab])
    grid = grid_or_error(snapshot, layout.runs.tab, backend)
    header = read_header(grid, layout.runs)
    refuse_present(header, index_rows(grid, header), run_id)


def commit_add(project: Project, pending: PendingAdd, force: bool = False) -> Plan:
    """Append the run's row (refusing a run id already in the sheet); keep the config and
    the row as launched in the run folder (for drift diffs, and to restore a lost row).

    Both files are staged (written under temp names) before the row is appended and renamed
    into place after it, so a failure leaves the sheet and the folder as they were.
    """
    layout = project.layout()
    backend = open_backend(project, force=force)
    folder = pending.run.path
    files = {
        folder / LAUNCH_COPY: pending.launch_copy,
        folder / LAUNCH_RECORD: launch_record_text(pending.cells),
    }
    temps: dict[Path, Path] = {}
    try:
        for target, data in files.items():
            temps[target] = staged(target, data)
        plan = append_rows(backend, layout, layout.runs, [pending.cells])
        for target, tmp in temps.items():
            put_in_place(tmp, target)
    finally:
        for tmp in temps.values():
            discard(tmp)
    return plan


@dataclass(frozen=True)
class Restored:
    run_id: str
    row: int | None
    sheet: str


def restore_row(project: Project, run_dir: str | Path, force: bool = False) -> Restored:
    """Append again the row `add` recorded for this run (after a save lost it); refuses a run
    whose row is still in the sheet."""
    folder = project.run_source().folder(run_dir)
    cells = read_launch_record(folder, project.folders)
    layout = project.layout()
    backend = open_backend(project, force=force)
    plan = append_rows(backend, layout, layout.runs, [cells])
    row = plan.landed.get(str(cells["run"])) or (plan.changes[0].row if plan.changes else None)
    return Restored(str(cells["run"]), row, backend.describe())
