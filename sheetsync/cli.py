"""The `sheetsync` command line: thin click commands over the library.

Each command parses its options, calls one library function and prints the result.
A `SheetsyncError` becomes a one-line `Error: ...` with exit code 1 (bad data) or 2 (usage).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sheetsync.errors import SheetsyncError

if TYPE_CHECKING:
    from sheetsync.science.scaling import Fit
    from sheetsync.sheet.plan import Plan


class _OneLineUsage(click.ClickException):
    exit_code = 2


def _one_line_usage(exc: click.UsageError, ctx: click.Context | None = None) -> _OneLineUsage:
    """click prints a usage error in three lines (usage, a hint, the error): one line here,
    with where to find help."""
    message = exc.format_message().rstrip(".")
    where = "sheetsync"
    if exc.ctx is not None:
        where = exc.ctx.command_path
    elif ctx is not None:  # a parse error of a subcommand's options carries no context
        where = ctx.meta.get(_RESOLVED, ctx.command_path)
    return _OneLineUsage(f"{message} (see `{where} --help`)")


_RESOLVED = "sheetsync.resolved"


class _Group(click.Group):
    """Turns library errors into one-line CLI errors: never a traceback for a user mistake."""

    group_class = type  # subgroups (`baseline`, `auth`) are _Group too

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _one_line_usage(exc) from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            ctx.meta[_RESOLVED] = f"{ctx.command_path} {command.name}"
        return name, command, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line_usage(exc, ctx) from None
        except SheetsyncError as exc:
            kind = _OneLineUsage if exc.exit_code == 2 else click.ClickException
            error = kind(" ".join(str(exc).split()))  # always one line
            error.exit_code = exc.exit_code  # e.g. 4: another sync of the project was running
            raise error from None


class _Obj:
    def __init__(self, config: str | None):
        self.config = config

    def project(self):
        from sheetsync.project import open_project

        return open_project(self.config)


pass_obj = click.make_pass_decorator(_Obj)


@click.group(name="sheetsync", cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    envvar="SHEETSYNC_CONFIG",
    type=click.Path(dir_okay=True),
    help="sheetsync.yaml to use (default: found by walking up from here).",
)
@click.version_option(package_name="sheetsync")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """Keep the team's experiment sheet honest: add runs, check them, fill in results."""
    ctx.obj = _Obj(config)


# --- core: init / add / sync / demo -----------------------------------------------------


@main.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--repair",
    is_flag=True,
    help="Rebuild the hidden state tab from the sheet (after it was deleted or emptied).",
)
@click.option("--force", is_flag=True, help="Add tabs and format even if that drops decorations.")
@pass_obj
def init(obj: _Obj, folder: Path | None, repair: bool, force: bool) -> None:
    """Create sheetsync.yaml, layout.yaml and the sheet's tabs (or attach to an existing sheet).

    Adds only missing owned columns, at the right end; never deletes, renames or reorders.
    """
    from sheetsync.project import find_project_file, load_project
    from sheetsync.sheet.init import init_sheet, repair_state, write_project_files

    if repair:
        repaired = repair_state(obj.project(), force)
        click.echo(
            f"rebuilt the state tab of {repaired.sheet} from {repaired.rows} rows; "
            "`sheetsync sync --dry-run` shows what the run folders would now change"
        )
        return
    if obj.config is None:
        try:
            found = find_project_file(folder or Path.cwd())
        except SheetsyncError:
            found = None
        if found is None or (folder is not None and found.parent != folder.resolve()):
            for path in write_project_files(folder or Path.cwd()):
                click.echo(f"created {path}")
            found = find_project_file(folder or Path.cwd())
    else:
        found = find_project_file(explicit=obj.config)
    result = init_sheet(load_project(found), force)
    for change in result.plan.changes:
        click.echo(f"added column {change.header!r} to the {change.tab} tab")
    for notice in result.notices:
        click.echo(f"note: {notice}", err=True)
    click.echo(f"sheet ready: {result.sheet}")


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--question", "-q", help="The research question this run answers (required).")
@click.option("--baseline", "-b", "baseline", help="NAME (newest date) or NAME@YYYY-MM-DD.")
@click.option(
    "--role",
    type=click.Choice(["feature", "baseline", "ladder"]),
    default="feature",
    show_default=True,
    help="baseline: the baseline's own run; ladder: a scaling-ladder run of the baseline.",
)
@click.option("--yes", "-y", is_flag=True, help="Append without asking for confirmation.")
@click.option(
    "--restore", is_flag=True, help="Append again the row `add` recorded (after a save lost it)."
)
@click.option("--force", is_flag=True, help="Write even while the workbook is open elsewhere.")
@pass_obj
def add(
    obj: _Obj,
    run_dir: Path,
    question: str | None,
    baseline: str | None,
    role: str,
    yes: bool,
    restore: bool,
    force: bool,
) -> None:
    """Record a launched run: show its diff against the dated baseline, then append its row."""
    from sheetsync.sheet.add import commit_add, prepare_add, restore_row
    from sheetsync.sheet.backends import open_backend

    project = obj.project()
    if restore:
        restored = restore_row(project, run_dir, force)
        click.echo(f"restored {restored.run_id} as row {restored.row} of {restored.sheet}")
        return
    pending = prepare_add(project, run_dir, question or "", baseline, role)
    shown = [f"run {pending.run.run_id}: {pending.run.fingerprint} vs {pending.baseline.ref}"]
    shown += [f"  {change}" for change in pending.changes] or [
        "  (no changes: identical to the baseline)"
    ]
    if not yes:  # a person reads the diff before confirming
        click.echo("\n".join(shown))
        click.confirm("Add this row?", abort=True)
    plan = commit_add(project, pending, force)
    if yes:  # a launch script: the diff only once the row is there, never before an error
        click.echo("\n".join(shown))
    row = plan.landed.get(pending.run.run_id, "?")  # where the server put it, not the plan
    click.echo(f"added {pending.run.run_id} as row {row} of {open_backend(project).describe()}")


@main.command()
@click.argument("run_dirs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--dry-run", "-n", is_flag=True, help="Print the plan; write nothing.")
@click.option("--overwrite", is_flag=True, help="Replace people's edits of result cells.")
@click.option("--force", is_flag=True, help="Write even while the workbook is open elsewhere.")
@click.option(
    "--quiet",
    is_flag=True,
    help="Print nothing unless something needs a person (for cron; exit codes in the README).",
)
@click.option(
    "--wait",
    type=click.FloatRange(0, 3600),
    default=10.0,
    show_default=True,
    help="Seconds to wait while another sync of this project runs, then stop (exit code 4).",
)
@pass_obj
def sync(
    obj: _Obj,
    run_dirs: tuple[Path, ...],
    dry_run: bool,
    overwrite: bool,
    force: bool,
    quiet: bool,
    wait: float,
) -> None:
    """Fill in results of the runs in the sheet (default: every run on this machine).

    Runs whose folders are on other machines are left as they are. One sync of a project
    runs at a time on a machine: a second one waits up to --wait seconds, then stops.
    """
    from sheetsync.sheet.lock import sync_lock
    from sheetsync.sheet.sync import sync_runs

    project = obj.project()
    if quiet and (run_dirs or dry_run or overwrite):
        raise click.UsageError(
            "--quiet syncs every run of this machine, as cron does: "
            "no RUN_DIRS, --dry-run or --overwrite with it"
        )
    if quiet:
        from sheetsync.sheet.unattended import unattended_sync

        done = unattended_sync(project, wait, force)
        for line in done.attention:
            click.echo(line)
        raise SystemExit(done.exit_code)
    with _progress("syncing runs") as progress, sync_lock(project, wait):
        result = sync_runs(project, list(run_dirs) or None, dry_run, overwrite, progress, force)
    _print_plan(result.plan)
    if result.missing:
        click.echo(_not_here(len(result.missing), "their cells left as they are"))
    for folder in result.rowless:
        click.echo(
            f"run {folder.name} was added but has no row in the sheet: "
            f"`sheetsync add --restore {folder}` puts it back",
            err=True,
        )
    _notes(result.notices)
    cells = len(result.plan.changes)
    runs = len(result.plan.by_key())
    verb = "would write" if dry_run else ("wrote" if result.applied else "nothing to write:")
    if cells:
        click.echo(f"{verb} {cells} cells in {runs} runs of {result.sheet}")
    else:
        click.echo(f"up to date: {len(result.synced)} runs checked in {result.sheet}")
    kept = [c for c in result.plan.conflicts if c.resolved == "kept"]
    if kept:
        click.echo(f"{len(kept)} cells edited by people were kept (--overwrite replaces them)")


def _not_here(count: int, what: str) -> str:
    return f"{count} runs in the sheet are not on this machine: {what}"


PROGRESS_FROM = 36  # runs: below this a command is quick enough to need no bar


@contextlib.contextmanager
def _progress(label: str):
    """click's progress bar on stderr for long commands; silent off a terminal."""
    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if total < PROGRESS_FROM or not sys.stderr.isatty():
            return
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _notes(notices: list[str]) -> None:
    for notice in notices:
        click.echo(f"note: {notice}", err=True)


def _print_plan(plan: Plan) -> None:
    for key, changes in plan.by_key().items():
        click.echo(f"{key} (row {changes[0].row})")
        for change in changes:
            click.echo(f"  {change.describe(with_key=False)}")
    for conflict in plan.conflicts:
        click.echo(f"conflict: {conflict.describe()}")


@main.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--source",
    type=click.Choice(["folder", "wandb"]),
    default="folder",
    show_default=True,
    help="Where the demo's runs come from: run folders, or W&B offline runs (needs wandb).",
)
def demo(folder: Path | None, source: str) -> None:
    """Build a demo project (baselines, runs, workbook) and run the whole loop on it."""
    from sheetsync.demo import build_demo

    result = build_demo(folder or Path("sheetsync-demo"), source)
    for line in result.log:
        click.echo(line)
    click.echo(f"\nOpen the workbook: {result.workbook}")


@main.command("watch")
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 86_400),
    default=30.0,
    show_default=True,
    help="Seconds between looks at the run folders (and the tracker's folder).",
)
@pass_obj
def watch_command(obj: _Obj, interval: float) -> None:
    """Sync whenever this machine's runs change, until SIGTERM or Ctrl-C (between syncs)."""
    import signal
    import threading

    from sheetsync.sheet.watch import watch

    project = obj.project()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    def report(item) -> None:  # noqa: ANN001 - a sync done or an error
        if isinstance(item, SheetsyncError):
            click.echo(f"Error: {' '.join(str(item).split())}", err=True)
            return
        for line in item.attention:
            click.echo(line)
        if item.result.applied:
            cells, runs = len(item.result.plan.changes), len(item.result.plan.by_key())
            click.echo(f"wrote {cells} cells in {runs} runs of {item.result.sheet}")

    click.echo(f"watching the runs of {project.path} every {interval:g} s")
    count = watch(project, interval, stop, report)
    click.echo(f"watch stopped after {count} syncs")


# --- baselines and checks ---------------------------------------------------------------


@main.group()
def baseline() -> None:
    """Dated baselines: one baseline word means one config as of one date."""


@baseline.command("add")
@click.argument("name")
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(path_type=Path),
    help="The baseline config (YAML or JSON).",
)
@click.option("--date", "date_text", help="YYYY-MM-DD (default: today).")
@click.option("--note", help="Why this baseline was (re-)dated.")
@click.option("--backfill", is_flag=True, help="Allow a date older than the newest.")
@click.option(
    "--commit",
    "code",
    help="The code commit it was trained with (default: HEAD of the config's git repository, "
    "refused when that has uncommitted changes).",
)
@pass_obj
def baseline_add(
    obj: _Obj,
    name: str,
    config_file: Path,
    date_text: str | None,
    note: str | None,
    backfill: bool,
    code: str | None,
) -> None:
    """Register NAME@DATE: copy the config into the baselines folder and add its row."""
    from sheetsync.records.baselines import parse_date
    from sheetsync.sheet.baselines import add_baseline

    date = parse_date(date_text, "--date") if date_text else None
    made = add_baseline(obj.project(), name, config_file, date, note, backfill, code=code)
    click.echo(f"added baseline {made.ref}: {made.path}")


@baseline.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def baseline_list(obj: _Obj, as_json: bool) -> None:
    """Every dated baseline, newest date of each name marked."""
    import json

    registry = obj.project().registry()
    items = registry.all()
    newest = {b.name: b for b in items}
    records = [
        {
            "baseline": b.ref,
            "name": b.name,
            "date": b.date.isoformat(),
            "fingerprint": b.fingerprint,
            "newest": newest[b.name] == b,
            "file": str(b.path),
        }
        for b in items
    ]
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    for r in records:
        mark = "  (newest)" if r["newest"] else ""
        click.echo(f"{r['baseline']:<32} {r['fingerprint']}{mark}")


@baseline.command("show")
@click.argument("ref")
@pass_obj
def baseline_show(obj: _Obj, ref: str) -> None:
    """A baseline's file, fingerprint and config."""
    found = obj.project().registry().resolve(ref)
    text = found.text()
    click.echo(f"{found.ref}  {found.fingerprint}  {found.path}")
    click.echo(text.rstrip())


@baseline.command("diff")
@click.argument("old")
@click.argument("new")
@pass_obj
def baseline_diff(obj: _Obj, old: str, new: str) -> None:
    """What changed between two dated baselines (dotted keys, old -> new)."""
    from sheetsync.records.configs import diff

    registry = obj.project().registry()
    a, b = registry.resolve(old), registry.resolve(new)
    changes = diff(a.config(), b.config())
    click.echo(f"{a.ref} -> {b.ref}: {len(changes)} changes")
    for change in changes:
        click.echo(f"  {change}")


@main.command()
@click.argument("runs", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One object per run and rule.")
@click.option("--strict", is_flag=True, help="A stale baseline fails instead of warning.")
@click.option("--all", "show_all", is_flag=True, help="Show passing rules too.")
@pass_obj
def check(obj: _Obj, runs: tuple[str, ...], as_json: bool, strict: bool, show_all: bool) -> None:
    """Check runs against their dated baselines: drift, stale, feature, finished, ...

    Runs of the sheet whose folders are on other machines are counted, not checked. Exit
    code 0 when nothing fails, 1 when a rule fails, 2 when a run named is not on this machine.
    """
    from sheetsync.sheet.checks import check_runs

    report = check_runs(obj.project(), runs, strict)
    _notes(report.notices)
    if as_json:
        click.echo(report.to_json())
        if report.not_here:
            _notes([_not_here(len(report.not_here), "not checked")])
    else:
        colours = {"fail": "red", "warn": "yellow", "ok": "green"}
        shown = [f for f in report.findings if show_all or f.level != "ok"]
        for f in shown:
            level = click.style(f"{f.level:<4}", fg=colours[f.level])
            click.echo(f"{f.run:<24} {level} {f.rule:<12} {f.reason}")
        runs_seen = len({f.run for f in report.findings})
        fails = sum(f.level == "fail" for f in report.findings)
        warns = sum(f.level == "warn" for f in report.findings)
        click.echo(f"checked {runs_seen} runs: {fails} failing, {warns} warnings")
        if report.not_here:
            click.echo(_not_here(len(report.not_here), "not checked"))
    if report.failed:
        raise SystemExit(1)


@main.command()
@click.argument("config_file", type=click.Path(path_type=Path))
@click.option("--baseline", "-b", "baseline_ref", required=True, help="NAME or NAME@DATE.")
@click.option("--strict", is_flag=True, help="Guarded-key changes and a stale baseline fail.")
@pass_obj
def verify(obj: _Obj, config_file: Path, baseline_ref: str, strict: bool) -> None:
    """Before launch: the config's diff against its dated baseline, guarded keys marked."""
    from sheetsync.records.checks import verify_config

    project = obj.project()
    result = verify_config(project.registry(), project.guarded, config_file, baseline_ref, strict)
    guarded = {c.key for c in result.guarded}
    click.echo(f"{config_file} vs {result.baseline.ref}: {len(result.changes)} changes")
    for change in result.changes:
        if change.key in guarded:
            click.echo(click.style(f"! {change}   (guarded)", fg="red", bold=True))
        else:
            click.echo(f"  {change}")
    if result.newer is not None:
        click.echo(f"warning: {result.newer.ref} is newer than {result.baseline.ref}")
    for problem in result.problems:
        click.echo(f"error: {problem}", err=True)
    if result.problems:
        raise SystemExit(1)


# --- evals ------------------------------------------------------------------------------


@main.command("evals")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One object per eval column.")
@pass_obj
def evals_command(obj: _Obj, run_dir: Path, as_json: bool) -> None:
    """Show a run's evals as the sheet will: per column the value and the file, task, metric,
    filter, shots, samples and model it came from; and everything found and not used, and why."""
    import json

    from sheetsync.records.evalformats.identity import limit_text
    from sheetsync.sheet.evals import eval_specs, explain

    project = obj.project()
    records = explain(project.run_folder(run_dir), eval_specs(project.layout()))
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    for r in records:
        if r["column"] is None:
            for u in r["not_used"]:
                tasks = f" ({len(u['tasks'])} tasks)" if u["tasks"] else ""
                click.echo(f"not used: {u['file']}: {u['reason']}{tasks}")
            if r["not_in_layout"]:
                names = r["not_in_layout"]
                more = f" (+{len(names) - 12} more)" if len(names) > 12 else ""
                click.echo(f"in the files, no column: {', '.join(names[:12])}{more}")
            continue
        if "error" in r:
            click.echo(f"{r['task']:<16} error: {r['error']}")
        elif "mark" in r:
            click.echo(f"{r['task']:<16} {r['mark']}")
        elif r.get("value") is None:
            click.echo(f"{r['task']:<16} (not evaluated)")
        else:
            extra = f" ± {r['stderr']:.4f}" if r.get("stderr") else ""
            if len(r["samples"]) > 1:
                extra += f" (mean of {len(r['samples'])} samples, spread {r['spread']:.4f})"
            if r["limit"] is not None:
                extra += " (limited: not averaged)" if r["limit_pinned"] is None else " (limited)"
            click.echo(f"{r['task']:<16} {r['metric']:<28} {r['value']:.4f}{extra}")
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
            click.echo(f"{'':<16} {', '.join(how)}")
            click.echo(f"{'':<16} file {r['file']}")
            click.echo(f"{'':<16} model {r['model'] or '(not named in the file)'}")
            if r["note"]:
                click.echo(f"{'':<16} {r['note']}")
        for u in r["not_used"]:
            click.echo(f"{'':<16} not used: {u['file']}: {u['reason']}")


# --- scaling: fit / gain / scaling ------------------------------------------------------


def _fit_dict(fit) -> dict:  # noqa: ANN001
    data = fit.to_dict()
    data.pop("ladder", None)
    return data


@main.command()
@click.argument("baseline_ref", required=False)
@click.option(
    "--form",
    type=click.Choice(["compute", "parametric"]),
    default="compute",
    show_default=True,
    help="L(C) = E + A*C^-alpha, or L(N,D) = E + A/N^alpha + B/D^beta.",
)
@click.option(
    "--ladder",
    "ladder_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fit a ladder from a CSV (compute,loss or params,tokens,loss) instead.",
)
@click.option(
    "--floor",
    type=float,
    help="Pin the irreducible loss E to this value (a short ladder cannot tell it).",
)
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def fit(
    obj: _Obj,
    baseline_ref: str | None,
    form: str,
    ladder_csv: Path | None,
    floor: float | None,
    as_json: bool,
) -> None:
    """Fit a baseline's scaling law from its ladder runs and record it (dated) in the sheet."""
    import json

    from sheetsync.science.quality import judged
    from sheetsync.science.scaling import fit_ladder, read_ladder_csv
    from sheetsync.sheet.gains import fit_baseline, record_fit

    name = ""
    if ladder_csv is not None:
        result_fit = judged(fit_ladder(read_ladder_csv(ladder_csv), form, floor=floor))
        if baseline_ref:
            ref = obj.project().registry().resolve(baseline_ref).ref
            name = record_fit(obj.project(), ref, result_fit).fit_name
    elif baseline_ref:
        recorded = fit_baseline(obj.project(), baseline_ref, form, floor=floor)
        result_fit, name = recorded.fit, recorded.fit_name
    else:
        raise click.UsageError("name a BASELINE[@DATE] or give --ladder FILE.csv")
    if as_json:
        click.echo(json.dumps({"fit": name or None, **_fit_dict(result_fit)}, indent=2))
        return
    p = result_fit.params
    pinned = " (E pinned)" if result_fit.floor is not None else ""
    if form == "compute":
        law = f"L(C) = {p['E']:.4f}{pinned} + {p['A']:.4g} * C^-{p['alpha']:.4f}"
    else:
        law = (
            f"L(N, D) = {p['E']:.4f}{pinned} + {p['A']:.4g} / N^{p['alpha']:.4f} + "
            f"{p['B']:.4g} / D^{p['beta']:.4f}  (ladder D/N = {result_fit.tokens_per_param:.1f})"
        )
    click.echo(law)
    click.echo(
        f"{result_fit.n_runs} ladder runs, compute {result_fit.compute_min:.3g} - "
        f"{result_fit.compute_max:.3g} FLOPs, RMS log residual {result_fit.residual_rms:.5f}"
    )
    _print_quality(result_fit)
    if name:
        click.echo(f"recorded in the Scaling tab as {name!r}; `sheetsync sync` fills the gains")


def _print_quality(fit: Fit) -> None:
    """Each rung: observed, fitted, and predicted when left out; then the fit's flags."""
    rungs = (fit.quality or {}).get("rungs") or []
    if rungs:
        click.echo(
            f"{'rung':<20} {'compute':>9} {'loss':>7} {'fitted':>7} {'left out':>8} {'error':>7}"
        )
    for r in rungs:
        held = f"{r['held_out']:.4f}" if r["held_out"] is not None else "-"
        err = f"{r['held_out_error']:+.2%}" if r["held_out_error"] is not None else "-"
        click.echo(
            f"{r['run'][:20]:<20} {r['compute']:>9.2e} {r['loss']:>7.4f} {r['fitted']:>7.4f} "
            f"{held:>8} {err:>7}"
        )
    for flag in fit.flags:
        click.echo(f"flag: {flag}")


@main.command()
@click.option(
    "--ladder", "ladder_csv", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--compute", type=float, required=True, help="The run's training FLOPs.")
@click.option("--loss", type=float, required=True, help="The run's final loss.")
@click.option(
    "--form", type=click.Choice(["compute", "parametric"]), default="compute", show_default=True
)
@click.option(
    "--baseline-loss",
    type=float,
    help="The loss of the baseline's own run at this budget: also print the anchored gain.",
)
@click.option(
    "--baseline-compute",
    type=float,
    help="That baseline run's FLOPs (default: --compute; within 10% of it).",
)
@click.option("--json", "as_json", is_flag=True)
def gain(
    ladder_csv: Path,
    compute: float,
    loss: float,
    form: str,
    baseline_loss: float | None,
    baseline_compute: float | None,
    as_json: bool,
) -> None:
    """What-if: the gain (and 90% interval) of one (compute, loss) point against a ladder."""
    import json

    from sheetsync.science.gain import anchored_gain, bootstrap
    from sheetsync.science.gain import gain as gain_of
    from sheetsync.science.scaling import fit_ladder, read_ladder_csv

    if baseline_compute is not None and baseline_loss is None:
        raise click.UsageError("--baseline-compute needs --baseline-loss")
    base_c = compute if baseline_compute is None else baseline_compute
    if baseline_loss is not None and not abs(base_c - compute) <= 0.10 * compute:
        raise click.UsageError("--baseline-compute must be within 10% of --compute")
    fitted = fit_ladder(read_ladder_csv(ladder_csv), form)
    boot = bootstrap(fitted)
    result = gain_of(fitted, compute, loss, boot)
    anchored = None
    if baseline_loss is not None:
        anchored = anchored_gain(fitted, compute, loss, base_c, baseline_loss, boot)
    if as_json:
        data = {**result.to_dict(), "fit": _fit_dict(fitted)}
        if anchored is not None:
            data["anchored"] = anchored.to_dict()
        click.echo(json.dumps(data, indent=2))
        return
    for label, one in (("gain", result), ("anchored gain", anchored)):
        if one is None:
            continue
        if one.gain is None:
            click.echo(f"no {label}: {one.note}")
            continue
        interval = f" (90%: {one.low:.3f}-{one.high:.3f})" if one.high is not None else ""
        click.echo(f"{label} {one.gain:.3f}x{interval}" + (f"; {one.note}" if one.note else ""))


@main.command()
@click.argument("runs", nargs=-1, required=True)
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw loss vs compute: the ladder, the fit, and the method's runs (PNG).",
)
@click.option("--json", "as_json", is_flag=True, help="Per method: runs, slope, verdict, flag.")
@pass_obj
def scaling(obj: _Obj, runs: tuple[str, ...], plot_file: Path | None, as_json: bool) -> None:
    """Does a method scale? Gain vs compute for the runs of the same method, and a verdict."""
    import json

    from sheetsync.views.report import scaling_for
    from sheetsync.views.terminal import trend_lines

    trends = scaling_for(obj.project(), list(runs), plot_file)
    if as_json:
        click.echo(json.dumps([t.to_dict() for t in trends], indent=2))
        return
    for t in trends:
        for line in trend_lines(t):
            click.echo(line)
    if plot_file is not None:
        click.echo(f"wrote {plot_file}")


# --- google: auth / format --------------------------------------------------------------


@main.group()
def auth() -> None:
    """Google credentials: which identity sheetsync uses."""


@auth.command("status")
@pass_obj
def auth_status(obj: _Obj) -> None:
    """Say which Google identity is used (never a secret) and whom to share the sheet with."""

    from sheetsync.sheet.backends.google_auth import find_identity

    configured = None
    with contextlib.suppress(SheetsyncError):  # no project: the environment and gspread's files
        configured = obj.project().credentials
    identity = find_identity(configured)
    click.echo(identity.describe())
    for warning in identity.warnings:
        click.echo(f"warning: {warning}", err=True)
    if identity.kind == "none":
        raise SystemExit(1)


@auth.command("login")
@click.option(
    "--client-secret",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The OAuth client's JSON (Google Cloud console, desktop app).",
)
def auth_login(client_secret: Path) -> None:
    """Log in as a person in the browser; the token is kept where gspread keeps it."""
    from sheetsync.sheet.backends.google_auth import login

    click.echo(login(client_secret).describe())


@main.command("format")
@click.option("--force", is_flag=True, help="Format even if that drops what openpyxl cannot keep.")
@pass_obj
def format_command(obj: _Obj, force: bool) -> None:
    """Format the sheet for reading (frozen header, number formats, colours). Idempotent."""
    from sheetsync.sheet.init import format_sheet

    sheet, notices = format_sheet(obj.project(), force)
    for notice in notices:
        click.echo(f"note: {notice}", err=True)
    click.echo(f"formatted {sheet}")


# --- people: ls / report / pull -----------------------------------------------------------


@main.command()
@click.option("--since", help="Runs launched on or after YYYY-MM-DD (default: all).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report.html and report.md (default: report/ beside sheetsync.yaml).",
)
@pass_obj
def report(obj: _Obj, since: str | None, out_dir: Path | None) -> None:
    """Write the review meeting's report: a self-contained HTML page and a Markdown twin."""
    from sheetsync.records.baselines import parse_date
    from sheetsync.views.report import write_report

    date = parse_date(since, "--since") if since else None
    written = write_report(obj.project(), date, out_dir)
    _notes(written.notices)
    r = written.report
    click.echo(
        f"{sum(len(v) for v in r.groups.values())} finished runs in {len(r.groups)} "
        f"questions, {len(r.trends)} methods at several budgets, "
        f"{len(r.attention)} flags"
    )
    click.echo(f"wrote {written.html}")
    click.echo(f"wrote {written.markdown}")


_FILTERS = [
    click.option("--since", help="Runs launched on or after YYYY-MM-DD."),
    click.option("--baseline", "baseline_ref", help="NAME or NAME@DATE."),
    click.option("--status", help="Status prefix: finished, unfinished, running."),
    click.option("--question", help="Text the research question contains (any case)."),
]


def _filters(func):  # noqa: ANN001 - a decorator of commands
    for option in reversed(_FILTERS):
        func = option(func)
    return func


def _selected(obj: _Obj, since, baseline_ref, status, question):  # noqa: ANN001
    from sheetsync.records.baselines import parse_date
    from sheetsync.sheet.read import read_rows
    from sheetsync.views.rows import select

    date = parse_date(since, "--since") if since else None
    rows = read_rows(obj.project())
    _notes(rows.notices)
    return rows, select(rows.records, date, baseline_ref, status, question)


@main.command("ls")
@_filters
@click.option("--json", "as_json", is_flag=True, help="Records as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Records as CSV.")
@pass_obj
def ls_command(obj: _Obj, since, baseline_ref, status, question, as_json, as_csv) -> None:  # noqa: ANN001
    """List runs in a table that fits the terminal (colours off with NO_COLOR or a pipe)."""
    import os
    import shutil

    from sheetsync.views.terminal import table

    rows, records = _selected(obj, since, baseline_ref, status, question)
    if as_json or as_csv:
        from sheetsync.views.rows import records_text

        keys = [c.key for c in rows.layout.runs.columns] + rows.extra_columns
        click.echo(records_text(records, keys, "json" if as_json else "csv"), nl=False)
        return
    width = shutil.get_terminal_size((120, 24)).columns
    colour = None if not os.environ.get("NO_COLOR") else False
    tones = {"good": "green", "bad": "red", "muted": "bright_black"}
    for line in table(records, width):
        text = "  ".join(
            click.style(c.text, fg=tones.get(c.tone)) if c.tone else c.text for c in line
        )
        click.echo(text.rstrip(), color=colour)
    click.echo(f"{len(records)} of {len(rows.records)} runs", color=colour)


@main.command()
@_filters
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "parquet"]),
    default="csv",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@pass_obj
def pull(obj: _Obj, since, baseline_ref, status, question, fmt: str, out: Path | None) -> None:  # noqa: ANN001
    """Export the runs (typed as in `sheetsync.load_runs()`) as CSV, JSON or Parquet."""
    from sheetsync.views.rows import export, frame

    rows, records = _selected(obj, since, baseline_ref, status, question)
    text = export(frame(rows, records), fmt, out)
    if text is not None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {len(records)} runs to {out}")


if __name__ == "__main__":
    main()
