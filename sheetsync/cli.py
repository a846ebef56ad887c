"""The `sheetsync` command line: thin click commands over the library.

Each command parses its options, calls one library function and prints the result.
A `SheetsyncError` becomes a one-line `Error: ...` with exit code 1 (bad data) or 2 (usage).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

import sheetsync
from sheetsync import SheetsyncError


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

    def open(self) -> sheetsync.Experiments:
        """The project --config names, or the one found walking up from here."""
        return sheetsync.open(self.config)


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
    if repair:
        repaired = obj.open().repair(force=force)
        click.echo(
            f"rebuilt the state tab of {repaired.sheet} from {repaired.rows} rows; "
            "`sheetsync sync --dry-run` shows what the run folders would now change"
        )
        return
    result = sheetsync.init(folder, config=obj.config, force=force)
    for path in result.created:
        click.echo(f"created {path}")
    for tab, header in result.added:
        click.echo(f"added column {header!r} to the {tab} tab")
    _notes(result.notices)
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
    exp = obj.open()
    if restore:
        restored = exp.restore(run_dir, force=force)
        click.echo(f"restored {restored.run_id} as row {restored.row} of {restored.sheet}")
        return

    def confirm(preview: sheetsync.AddPreview) -> bool:  # a person reads the diff first
        click.echo("\n".join(preview.lines()))
        return click.confirm("Add this row?", abort=True)

    added = exp.add(
        run_dir, question=question or "", baseline=baseline, role=role,
        confirm=None if yes else confirm, force=force,
    )  # fmt: skip
    if yes and added.preview is not None:  # a launch script: the diff once the row is there
        click.echo("\n".join(added.preview.lines()))
    row = "?" if added.row is None else added.row
    click.echo(f"added {added.run_id} as row {row} of {added.sheet}")


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
    exp = obj.open()
    if quiet and (run_dirs or dry_run or overwrite):
        raise click.UsageError(
            "--quiet syncs every run of this machine, as cron does: "
            "no RUN_DIRS, --dry-run or --overwrite with it"
        )
    if quiet:
        done = exp.sync(force=force, wait=wait)
        for line in done.attention:
            click.echo(line)
        raise SystemExit(done.exit_code)
    with _progress("syncing runs") as progress:
        result = exp.sync(
            *run_dirs, dry_run=dry_run, overwrite=overwrite, progress=progress, force=force,
            wait=wait,
        )  # fmt: skip
    _print_plan(result)
    if result.missing:
        click.echo(_not_here(len(result.missing), "their cells left as they are"))
    for folder in result.rowless:
        click.echo(
            f"run {folder.name} was added but has no row in the sheet: "
            f"`sheetsync add --restore {folder}` puts it back",
            err=True,
        )
    _notes(result.notices)
    click.echo(result.summary())
    if result.kept:
        click.echo(
            f"{len(result.kept)} cells edited by people were kept (--overwrite replaces them)"
        )
    for error in result.errors:  # the other runs were synced; these rows say `error: ...`
        click.echo(f"Error: {' '.join(error.split())}", err=True)
    if result.errors:
        raise SystemExit(1)


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


def _notes(notices: Sequence[str]) -> None:
    for notice in notices:
        click.echo(f"note: {notice}", err=True)


def _print_plan(synced: sheetsync.Synced) -> None:
    for key, changes in synced.by_run().items():
        click.echo(f"{key} (row {changes[0].row})")
        for change in changes:
            click.echo(f"  {change.describe(with_key=False)}")
    for conflict in synced.conflicts:
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
    result = sheetsync.demo(folder or Path("sheetsync-demo"), source=source)
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

    exp = obj.open()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    def report(item: sheetsync.Synced | SheetsyncError) -> None:  # a sync done or an error
        if isinstance(item, SheetsyncError):
            click.echo(f"Error: {' '.join(str(item).split())}", err=True)
            return
        for line in item.attention:
            click.echo(line)
        if item.applied or item.review:
            click.echo(item.summary())

    click.echo(f"watching the runs of {exp.path} every {interval:g} s")
    count = exp.watch(interval=interval, stop=stop, report=report)
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
    made = obj.open().add_baseline(
        name, config=config_file, date=date_text, note=note, backfill=backfill, commit=code
    )
    click.echo(f"added baseline {made.ref}: {made.path}")


@baseline.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_obj
def baseline_list(obj: _Obj, as_json: bool) -> None:
    """Every dated baseline, newest date of each name marked."""
    import json

    items = obj.open().baselines()
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
    found = obj.open().baseline(ref)
    text = found.text()
    click.echo(f"{found.ref}  {found.fingerprint}  {found.path}")
    click.echo(text.rstrip())


@baseline.command("diff")
@click.argument("old")
@click.argument("new")
@pass_obj
def baseline_diff(obj: _Obj, old: str, new: str) -> None:
    """What changed between two dated baselines (dotted keys, old -> new)."""
    found = obj.open().diff_baselines(old, new)
    click.echo(f"{found.old.ref} -> {found.new.ref}: {len(found.changes)} changes")
    for change in found.changes:
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
    report = obj.open().check(*runs, strict=strict)
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
        click.echo(report.summary())
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
    result = obj.open().verify(config_file, baseline=baseline_ref, strict=strict)
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

    evals = obj.open().evals(run_dir)
    if as_json:
        click.echo(json.dumps(list(evals.records), indent=2))
        return
    for line in evals.lines():
        click.echo(line)


# --- scaling: fit / gain / scaling ------------------------------------------------------


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

    if ladder_csv is None and not baseline_ref:
        raise click.UsageError("name a BASELINE[@DATE] or give --ladder FILE.csv")
    if ladder_csv is not None and not baseline_ref:  # a CSV alone: no project needed
        fitted = sheetsync.Fitted(sheetsync.fit_ladder_csv(ladder_csv, form=form, floor=floor))
    else:
        fitted = obj.open().fit(baseline_ref, form=form, ladder=ladder_csv, floor=floor)
    if as_json:
        click.echo(json.dumps(fitted.to_dict(), indent=2))
        return
    for line in fitted.lines():
        click.echo(line)
    if fitted.name:
        click.echo(
            f"recorded in the Scaling tab as {fitted.name!r}; `sheetsync sync` fills the gains"
        )


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

    if baseline_compute is not None and baseline_loss is None:
        raise click.UsageError("--baseline-compute needs --baseline-loss")
    base_c = compute if baseline_compute is None else baseline_compute
    if baseline_loss is not None and not abs(base_c - compute) <= 0.10 * compute:
        raise click.UsageError("--baseline-compute must be within 10% of --compute")
    gained = sheetsync.gain(
        ladder=ladder_csv, compute=compute, loss=loss, form=form,
        baseline_loss=baseline_loss, baseline_compute=baseline_compute,
    )  # fmt: skip
    if as_json:
        click.echo(json.dumps(gained.to_dict(), indent=2))
        return
    for line in gained.lines():
        click.echo(line)


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

    found = obj.open().scaling(*runs, plot=plot_file)
    if as_json:
        click.echo(json.dumps(found.to_dict(), indent=2))
        return
    for line in found.lines():
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
    identity = sheetsync.identity(obj.config)
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
    click.echo(sheetsync.login(client_secret).describe())


@main.command("format")
@click.option("--force", is_flag=True, help="Format even if that drops what openpyxl cannot keep.")
@pass_obj
def format_command(obj: _Obj, force: bool) -> None:
    """Format the sheet for reading (frozen header, number formats, colours). Idempotent."""
    formatted = obj.open().format(force=force)
    _notes(formatted.notices)
    click.echo(f"formatted {formatted.sheet}")


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
    written = obj.open().report(since=since, out=out_dir)
    _notes(written.notices)
    click.echo(written.summary())
    click.echo(f"wrote {written.html}")
    click.echo(f"wrote {written.markdown}")


_FILTERS = [
    click.option("--since", help="Runs launched on or after YYYY-MM-DD."),
    click.option("--baseline", "baseline_ref", help="NAME or NAME@DATE."),
    click.option(
        "--status",
        help="Status prefix: finished, running, queued, diverged, stalled, unfinished, error.",
    ),
    click.option("--question", help="Text the research question contains (any case)."),
]


def _filters(func):  # noqa: ANN001 - a decorator of commands
    for option in reversed(_FILTERS):
        func = option(func)
    return func


def _selected(obj: _Obj, since, baseline_ref, status, question) -> sheetsync.Listed:  # noqa: ANN001
    listed = obj.open().ls(since=since, baseline=baseline_ref, status=status, question=question)
    _notes(listed.notices)
    return listed


@main.command("ls")
@_filters
@click.option("--json", "as_json", is_flag=True, help="Records as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Records as CSV.")
@pass_obj
def ls_command(obj: _Obj, since, baseline_ref, status, question, as_json, as_csv) -> None:  # noqa: ANN001
    """List runs in a table that fits the terminal (colours off with NO_COLOR or a pipe)."""
    import os
    import shutil

    listed = _selected(obj, since, baseline_ref, status, question)
    if as_json or as_csv:
        click.echo(listed.text("json" if as_json else "csv"), nl=False)
        return
    width = shutil.get_terminal_size((120, 24)).columns
    colour = None if not os.environ.get("NO_COLOR") else False
    tones = {"good": "green", "bad": "red", "muted": "bright_black"}
    for line in listed.table(width):
        text = "  ".join(
            click.style(c.text, fg=tones.get(c.tone)) if c.tone else c.text for c in line
        )
        click.echo(text.rstrip(), color=colour)
    click.echo(f"{len(listed.records)} of {listed.total} runs", color=colour)


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
    listed = _selected(obj, since, baseline_ref, status, question)
    text = listed.export(fmt, out)
    if text is not None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {len(listed.records)} runs to {out}")


if __name__ == "__main__":
    main()
