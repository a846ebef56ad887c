"""The library a notebook drives: `sheetsync.open()` gives the project's `Experiments`, and on
it every command of the CLI, with keyword-only options, each returning a small frozen value.

Each call reads the project's config and layout afresh, once (a notebook sees edits to them).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.api import tools
from sheetsync.api.results import (
    Added,
    AddPreview,
    BaselineDiff,
    Checked,
    Evals,
    Fitted,
    Formatted,
    Initialized,
    Listed,
    Reported,
    Scaling,
    Synced,
    Verified,
)
from sheetsync.errors import SheetsyncError, UsageError

if TYPE_CHECKING:
    import threading

    import pandas as pd

    from sheetsync.project import Project
    from sheetsync.records.baselines import Baseline
    from sheetsync.sheet.backends.google_auth import Identity
    from sheetsync.sheet.init import Repaired
    from sheetsync.sheet.sync import SyncResult

PathLike = str | os.PathLike[str]
Progress = Callable[[int, int], None]


def _date(value: dt.date | str | None, option: str) -> dt.date | None:
    from sheetsync.records.baselines import parse_date

    if value is None or isinstance(value, dt.date):
        return value
    return parse_date(value, option)


class Experiments:
    """A sheetsync project opened for work: its sheet, run folders and dated baselines.

    `Experiments(path)`: `path` is a sheetsync.yaml or its folder; None finds one as the CLI
    does ($SHEETSYNC_CONFIG, then this folder and its parents)."""

    def __init__(self, path: PathLike | None = None):
        from sheetsync.project import find_project_file

        self.path = find_project_file(explicit=path) if path is not None else find_project_file()

    def __repr__(self) -> str:
        return f"<Experiments {self.path.parent}>"

    def project(self) -> Project:
        """The project config as it is on disk now (its layout read once, on first use)."""
        from sheetsync.project import load_project

        return load_project(self.path)

    # --- the week's loop: add, sync, check ---------------------------------------------

    def add(
        self,
        run: PathLike,
        *,
        question: str,
        baseline: str | None = None,
        role: str = "feature",
        confirm: Callable[[AddPreview], bool] | None = None,
        force: bool = False,
    ) -> Added:
        """Append a launched run's row. `confirm(preview)` is asked with the run's diff against
        its dated baseline before anything is written; False leaves the sheet as it was."""
        from sheetsync.sheet.add import commit_add, prepare_add

        project = self.project()
        pending = prepare_add(project, run, question, baseline, role)
        preview = AddPreview(
            pending.run.run_id,
            pending.run.fingerprint,
            pending.baseline.ref,
            tuple(pending.changes),
        )
        sheet = _sheet_name(project)
        if confirm is not None and not confirm(preview):
            return Added(pending.run.run_id, None, sheet, preview)
        plan = commit_add(project, pending, force)
        row = plan.landed.get(pending.run.run_id) or (plan.changes[0].row if plan.changes else None)
        return Added(pending.run.run_id, row, sheet, preview)

    def restore(self, run: PathLike, *, force: bool = False) -> Added:
        """Append again the row `add` recorded in the run's folder (after a save lost it)."""
        from sheetsync.sheet.add import restore_row

        restored = restore_row(self.project(), run, force)
        return Added(restored.run_id, restored.row, restored.sheet, restored=True)

    def sync(
        self,
        *runs: PathLike,
        dry_run: bool = False,
        overwrite: bool = False,
        progress: Progress | None = None,
        force: bool = False,
        wait: float = 10.0,
    ) -> Synced:
        """Fill in the result cells of the runs in the sheet (default: every run with a
        folder); a person's edit is kept and reported unless `overwrite`. `progress(done,
        total)` is called as runs are read. One sync of a project runs at a time on a
        machine: this one waits up to `wait` seconds for another, then raises."""
        from sheetsync.sheet.lock import sync_lock
        from sheetsync.sheet.sync import sync_runs

        project = self.project()
        with sync_lock(project, wait):
            result = sync_runs(project, list(runs) or None, dry_run, overwrite, progress, force)
        return _synced(result, dry_run)

    def watch(
        self,
        *,
        interval: float,
        stop: threading.Event,
        report: Callable[[Synced | SheetsyncError], None],
    ) -> int:
        """Sync whenever this machine's runs change until `stop` is set; `report` gets each
        sync that wrote or needs a person, and each error. Returns how many syncs ran."""
        from sheetsync.sheet.unattended import Unattended
        from sheetsync.sheet.watch import watch

        def each(item: Unattended | SheetsyncError) -> None:
            report(_synced(item.result) if isinstance(item, Unattended) else item)

        return watch(self.project(), interval, stop, each)

    def check(self, *runs: str, strict: bool = False) -> Checked:
        """Every rule on the named runs (default: every run in the sheet); reads only."""
        from sheetsync.sheet.checks import check_runs

        report = check_runs(self.project(), runs, strict)
        return Checked(tuple(report.findings), tuple(report.notices), tuple(report.not_here))

    def verify(self, config: PathLike, *, baseline: str, strict: bool = False) -> Verified:
        """Before launch: a config's diff against its dated baseline, guarded keys marked."""
        from sheetsync.records.checks import verify_config

        project = self.project()
        found = verify_config(project.registry(), project.guarded, Path(config), baseline, strict)
        return Verified(
            Path(config),
            found.baseline,
            tuple(found.changes),
            tuple(found.guarded),
            found.newer,
            tuple(found.problems),
        )

    # --- scaling: fit, gain, scaling --------------------------------------------------

    def fit(
        self,
        baseline: str | None = None,
        *,
        form: str = "compute",
        ladder: PathLike | None = None,
        record: bool = True,
        floor: float | None = None,
    ) -> Fitted:
        """Fit a dated baseline's scaling law from its ladder runs and record it in the
        Scaling tab; `ladder`: fit a CSV instead (recorded under `baseline` when named);
        `floor`: pin the irreducible loss E (a short ladder cannot tell it)."""
        from sheetsync.sheet.gains import fit_baseline, record_fit

        if ladder is not None:
            fitted = tools.fit_ladder_csv(ladder, form=form, floor=floor)
            if baseline and record:
                project = self.project()
                ref = project.registry().resolve(baseline).ref
                return Fitted(fitted, record_fit(project, ref, fitted).fit_name)
            return Fitted(fitted)
        if not baseline:
            raise UsageError("name a BASELINE[@DATE] or give a ladder CSV")
        recorded = fit_baseline(self.project(), baseline, form, record, floor)
        return Fitted(recorded.fit, recorded.fit_name)

    gain = staticmethod(tools.gain)  # what-if: needs no project, so the same call

    def scaling(self, *runs: str, plot: PathLike | None = None) -> Scaling:
        """Does a method scale: gain against compute for the methods of the named runs (or
        method texts), with a verdict; `plot`: also draw loss against compute (PNG)."""
        from sheetsync.views.report import scaling_for

        if not runs:
            raise UsageError("name a run (or a method) to see whether its method scales")
        out = Path(plot) if plot is not None else None
        return Scaling(tuple(scaling_for(self.project(), list(runs), out)), out)

    # --- people: report, runs, evals ------------------------------------------------

    def report(
        self, *, since: dt.date | str | None = None, out: PathLike | None = None
    ) -> Reported:
        """Write the review meeting's report (HTML and Markdown) into `out` (default:
        report/ beside sheetsync.yaml)."""
        from sheetsync.views.report import write_report

        written = write_report(
            self.project(), _date(since, "--since"), Path(out) if out is not None else None
        )
        r = written.report
        return Reported(
            written.html,
            written.markdown,
            sum(len(v) for v in r.groups.values()),
            len(r.groups),
            len(r.trends),
            len(r.attention),
            tuple(written.notices),
        )

    def ls(
        self,
        *,
        since: dt.date | str | None = None,
        baseline: str | None = None,
        status: str | None = None,
        question: str | None = None,
    ) -> Listed:
        """The Runs-tab records that pass the filters (a run's status by prefix, the question
        by any-case text), as `sheetsync ls` and `pull` show them."""
        from sheetsync.sheet.read import read_rows
        from sheetsync.views.rows import select

        rows = read_rows(self.project())
        chosen = select(rows.records, _date(since, "--since"), baseline, status, question)
        keys = [c.key for c in rows.layout.runs.columns] + rows.extra_columns
        return Listed(tuple(chosen), len(rows.records), tuple(keys), rows, tuple(rows.notices))

    def runs(
        self,
        *,
        since: dt.date | str | None = None,
        baseline: str | None = None,
        status: str | None = None,
        question: str | None = None,
    ) -> pd.DataFrame:
        """The Runs tab as a typed DataFrame (filtered as `sheetsync ls`)."""
        return self.ls(since=since, baseline=baseline, status=status, question=question).frame()

    def evals(self, run: PathLike) -> Evals:
        """A run's evals as the sheet will show them, and what was found and not used."""
        from sheetsync.sheet.evals import eval_specs, explain

        project = self.project()
        folder = project.run_source().folder(run)
        return Evals(folder, tuple(explain(folder, eval_specs(project.layout()))))

    # --- baselines -------------------------------------------------------------------

    def baselines(self) -> tuple[Baseline, ...]:
        """Every dated baseline, oldest first within each name."""
        return tuple(self.project().registry().all())

    def baseline(self, ref: str) -> Baseline:
        """NAME (its newest date) or NAME@YYYY-MM-DD."""
        return self.project().registry().resolve(ref)

    def add_baseline(
        self,
        name: str,
        *,
        config: PathLike,
        date: dt.date | str | None = None,
        note: str | None = None,
        backfill: bool = False,
        commit: str | None = None,
    ) -> Baseline:
        """Register NAME@DATE: the config copied into the baselines folder, its row added,
        and the code commit it was trained with (`commit`, default the HEAD of the config's
        clean git repository) kept beside it."""
        from sheetsync.records.baselines import new_baseline
        from sheetsync.sheet.baselines import add_baseline

        project, day = self.project(), _date(date, "--date")
        new = new_baseline(project.registry(), name, Path(config), day, note, backfill, code=commit)
        return add_baseline(project, new)

    def diff_baselines(self, old: str, new: str) -> BaselineDiff:
        """What changed between two dated baselines (dotted keys, old -> new)."""
        from sheetsync.records.configs import diff

        registry = self.project().registry()
        a, b = registry.resolve(old), registry.resolve(new)
        return BaselineDiff(a, b, tuple(diff(a.config(), b.config())))

    # --- the sheet itself ---------------------------------------------------------------

    def init(self, *, force: bool = False) -> Initialized:
        """Create the sheet's missing tabs and owned columns (never deletes or reorders)."""
        from sheetsync.sheet.init import init_sheet

        result = init_sheet(self.project(), force)
        added = tuple((c.tab, str(c.header)) for c in result.plan.changes)
        return Initialized(result.sheet, (), len(added), tuple(result.notices), added)

    def repair(self, *, force: bool = False) -> Repaired:
        """Rebuild the hidden state tab from the sheet: its `sheet` and the `rows` recorded."""
        from sheetsync.sheet.init import repair_state

        return repair_state(self.project(), force)

    def format(self, *, force: bool = False) -> Formatted:
        """Format the sheet for reading; its `notices` say what `force` dropped."""
        from sheetsync.sheet.init import format_sheet

        sheet, notices = format_sheet(self.project(), force)
        return Formatted(sheet, tuple(notices))

    def identity(self) -> Identity:
        """The Google identity sheetsync uses for this project (never a secret)."""
        return tools.identity(self.path)

    def sheet(self) -> str:
        """The sheet's name in messages (a workbook path, or a Google Sheet's title)."""
        return _sheet_name(self.project())


def _synced(result: SyncResult, dry_run: bool = False) -> Synced:
    from sheetsync.sheet.unattended import attention

    plan = result.plan
    return Synced(
        result.sheet,
        result.applied,
        dry_run,
        tuple(plan.changes),
        tuple(plan.conflicts),
        tuple(result.synced),
        tuple(result.missing),
        tuple(result.rowless),
        tuple(result.notices),
        tuple(attention(result)),
        tuple(result.errors),
        result.review_tab,
    )


def _sheet_name(project: Project) -> str:
    from sheetsync.sheet.backends import open_backend

    return open_backend(project).describe()


def open(path: PathLike | None = None) -> Experiments:
    """The project at `path` (a sheetsync.yaml or its folder), or found by walking up."""
    return Experiments(path)


def init(
    folder: PathLike | None = None, *, config: PathLike | None = None, force: bool = False
) -> Initialized:
    """Create the sheet's missing tabs and owned columns for the project `config` names, or
    the one found walking up from `folder` (default: here); where there is none (or it is not
    in `folder` itself), first write sheetsync.yaml, layout.yaml, runs/ and baselines/ there."""
    from sheetsync.project import find_project_file
    from sheetsync.sheet.init import write_project_files

    created: tuple[Path, ...] = ()
    if config is None:
        where = Path(folder) if folder is not None else Path.cwd()
        try:
            found: Path | None = find_project_file(where)
        except SheetsyncError:
            found = None
        if found is None or (folder is not None and found.parent != where.resolve()):
            created = tuple(write_project_files(where))
            found = find_project_file(where)
        done = Experiments(found).init(force=force)
    else:
        done = Experiments(config).init(force=force)
    return Initialized(done.sheet, created, done.columns, done.notices, done.added)
