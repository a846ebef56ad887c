"""What the public API's calls return: small frozen values that print as one line in a
notebook (their `repr`) and carry everything a caller needs (the CLI prints from them)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from sheetsync.records.baselines import Baseline
    from sheetsync.records.checks import Finding
    from sheetsync.records.configs import Change
    from sheetsync.science.gain import Gain
    from sheetsync.science.scaling import Fit
    from sheetsync.sheet.plan import CellChange, Conflict
    from sheetsync.sheet.read import SheetRows
    from sheetsync.sheet.verdicts import MethodTrend
    from sheetsync.views.terminal import Cell
    from sheetsync.vocab import Value


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Synced:
    """A sync: the cells it wrote (or would write, `dry_run`), the people's edits it met."""

    sheet: str
    applied: bool
    dry_run: bool
    changes: tuple[CellChange, ...]
    conflicts: tuple[Conflict, ...]
    synced: tuple[str, ...]  # run ids read
    missing: tuple[str, ...]  # rows whose run folder is not found
    rowless: tuple[Path, ...]  # run folders `add` recorded whose row is gone
    notices: tuple[str, ...] = ()
    attention: tuple[str, ...] = ()  # what needs a person: conflicts, new failures, lost rows
    errors: tuple[str, ...] = ()  # runs whose files are malformed (their rows say `error: ...`)
    review: str = ""  # the Review tab's name when this sync wrote it (or would, `dry_run`)

    @property
    def exit_code(self) -> int:
        """cron's exit code for an unattended sync: 1 when a run's files are malformed (the
        other runs synced), 3 when something needs a person, else 0."""
        if self.errors:
            return 1
        return 3 if self.attention else 0

    def by_run(self) -> dict[str, list[CellChange]]:
        out: dict[str, list[CellChange]] = {}
        for change in self.changes:
            out.setdefault(change.key, []).append(change)
        return out

    @property
    def kept(self) -> tuple[Conflict, ...]:
        """People's edits kept (`overwrite=True` replaces them)."""
        return tuple(c for c in self.conflicts if c.resolved == "kept")

    def summary(self) -> str:
        """One line, as `sheetsync sync` ends: the Runs tab's cells written and, when it was
        written too, the Review tab (the first sync after `init` writes only that)."""
        tab = f"the {self.review} tab" if self.review else ""
        if not self.changes:
            if not tab:
                return f"up to date: {len(self.synced)} runs checked in {self.sheet}"
            verb = "would write" if self.dry_run else "wrote"
            return f"{verb} {tab} of {self.sheet}; {len(self.synced)} runs checked, up to date"
        verb = "would write" if self.dry_run else ("wrote" if self.applied else "nothing to write:")
        cells = f"{verb} {len(self.changes)} cells in {len(self.by_run())} runs of {self.sheet}"
        return f"{cells}, and {tab}" if tab else cells

    def __repr__(self) -> str:
        extra = [f"{len(self.kept)} kept edits"] if self.kept else []
        extra += [f"{len(self.missing)} without a folder"] if self.missing else []
        extra += [f"{len(self.errors)} with malformed files"] if self.errors else []
        return f"<Synced: {'; '.join([self.summary(), *extra])}>"


@dataclass(frozen=True)
class AddPreview:
    """What `add` will append, shown before it writes: the run, its baseline, the diff."""

    run_id: str
    fingerprint: str
    baseline: str  # NAME@DATE
    changes: tuple[Change, ...]

    def lines(self) -> list[str]:
        shown = [f"run {self.run_id}: {self.fingerprint} vs {self.baseline}"]
        changes = [f"  {c}" for c in self.changes]
        return shown + (changes or ["  (no changes: identical to the baseline)"])


@dataclass(frozen=True)
class Added:
    """A run's row appended (or appended again, `restored`); `row` None when not confirmed."""

    run_id: str
    row: int | None
    sheet: str
    preview: AddPreview | None = None
    restored: bool = False

    def __repr__(self) -> str:
        if self.row is None:
            return f"<Added: {self.run_id} not added (not confirmed)>"
        verb = "restored" if self.restored else "added"
        return f"<Added: {verb} {self.run_id} as row {self.row} of {self.sheet}>"


@dataclass(frozen=True)
class Checked:
    """The rules' findings on runs; `failed` when any rule fails."""

    findings: tuple[Finding, ...]
    notices: tuple[str, ...] = ()
    not_here: tuple[str, ...] = ()  # runs of the sheet on other machines: not checked

    @property
    def failed(self) -> bool:
        return any(f.level == "fail" for f in self.findings)

    def count(self, level: str) -> int:
        return sum(f.level == level for f in self.findings)

    def summary(self) -> str:
        """One line, as `sheetsync check` ends."""
        runs = len({f.run for f in self.findings})
        return f"checked {runs} runs: {self.count('fail')} failing, {self.count('warn')} warnings"

    def to_json(self) -> str:
        return json.dumps([f.to_dict() for f in self.findings], indent=2)

    def __repr__(self) -> str:
        away = f"; {len(self.not_here)} not on this machine" if self.not_here else ""
        return f"<Checked: {self.summary()}{away}>"


@dataclass(frozen=True)
class Fitted:
    """A scaling-law fit, and the name it was recorded under in the Scaling tab (if it was)."""

    fit: Fit
    name: str = ""

    def law(self) -> str:
        p, fit = self.fit.params, self.fit
        pinned = " (E pinned)" if fit.floor is not None else ""
        if fit.form == "compute":
            return f"L(C) = {p['E']:.4f}{pinned} + {p['A']:.4g} * C^-{p['alpha']:.4f}"
        return (
            f"L(N, D) = {p['E']:.4f}{pinned} + {p['A']:.4g} / N^{p['alpha']:.4f} + "
            f"{p['B']:.4g} / D^{p['beta']:.4f}  (ladder D/N = {fit.tokens_per_param:.1f})"
        )

    def lines(self) -> list[str]:
        """The law, its ladder, each rung (observed, fitted, predicted when left out) and the
        fit's flags, as `sheetsync fit` prints them."""
        fit = self.fit
        out = [
            self.law(),
            f"{fit.n_runs} ladder runs, compute {fit.compute_min:.3g} - "
            f"{fit.compute_max:.3g} FLOPs, RMS log residual {fit.residual_rms:.5f}",
        ]
        rungs = (fit.quality or {}).get("rungs") or []
        if rungs:
            head = f"{'compute':>9} {'loss':>7} {'fitted':>7} {'left out':>8} {'error':>7}"
            out.append(f"{'rung':<20} {head}")
        for r in rungs:
            held = f"{r['held_out']:.4f}" if r["held_out"] is not None else "-"
            err = f"{r['held_out_error']:+.2%}" if r["held_out_error"] is not None else "-"
            out.append(
                f"{r['run'][:20]:<20} {r['compute']:>9.2e} {r['loss']:>7.4f} {r['fitted']:>7.4f} "
                f"{held:>8} {err:>7}"
            )
        return out + [f"flag: {flag}" for flag in fit.flags]

    def fit_dict(self) -> dict[str, Any]:
        """The fit's figures (its ladder left out)."""
        data = self.fit.to_dict()
        data.pop("ladder", None)
        return data

    def to_dict(self) -> dict[str, Any]:
        return {"fit": self.name or None, **self.fit_dict()}

    def __repr__(self) -> str:
        where = f"; recorded as {self.name!r}" if self.name else ""
        return f"<Fitted: {self.law()}; {_plural(self.fit.n_runs, 'ladder run')}{where}>"


@dataclass(frozen=True)
class Gained:
    """A (compute, loss) point's gain against a fit, with its 90% interval; `anchored`: the
    gain anchored on the baseline's own run at that budget, when its loss was given."""

    gain: Gain
    fit: Fit
    anchored: Gain | None = None

    def text(self) -> str:
        return _gain_text("gain", self.gain)

    def lines(self) -> list[str]:
        """The gain, then the anchored gain (if asked for), as `sheetsync gain` prints them."""
        shown = [("gain", self.gain), ("anchored gain", self.anchored)]
        return [_gain_text(label, g) for label, g in shown if g is not None]

    def to_dict(self) -> dict[str, Any]:
        data = {**self.gain.to_dict(), "fit": Fitted(self.fit).fit_dict()}
        if self.anchored is not None:
            data["anchored"] = self.anchored.to_dict()
        return data

    def __repr__(self) -> str:
        return f"<Gained: {self.text()}>"


def _gain_text(label: str, g: Gain) -> str:
    if g.gain is None:
        return f"no {label}: {g.note}"
    interval = f" (90%: {g.low:.3f}-{g.high:.3f})" if g.high is not None else ""
    return f"{label} {g.gain:.3f}x{interval}" + (f"; {g.note}" if g.note else "")


@dataclass(frozen=True)
class Scaling:
    """Does a method scale: one trend per method of the runs asked about."""

    trends: tuple[MethodTrend, ...]
    plot: Path | None = None

    def to_dict(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.trends]

    def lines(self) -> list[str]:
        """Per method: its runs' gains (90%), the slope and verdict, as `scaling` prints."""
        from sheetsync.views.terminal import trend_lines

        return [line for t in self.trends for line in trend_lines(t)]

    def __repr__(self) -> str:
        parts = [f"{t.method} vs {t.baseline}: {t.verdict}" for t in self.trends]
        return f"<Scaling: {'; '.join(parts)}>"


@dataclass(frozen=True)
class Reported:
    """The review report written: its two files and what it counted."""

    html: Path
    markdown: Path
    runs: int
    questions: int
    methods: int
    flags: int
    notices: tuple[str, ...] = ()

    def summary(self) -> str:
        return (
            f"{self.runs} finished runs in {self.questions} questions, {self.methods} methods "
            f"at several budgets, {self.flags} flags"
        )

    def __repr__(self) -> str:
        return f"<Reported: {self.summary()}; {self.html}>"


@dataclass(frozen=True)
class Verified:
    """A config checked before launch: its diff against the dated baseline, guarded keys."""

    config: Path
    baseline: Baseline
    changes: tuple[Change, ...]
    guarded: tuple[Change, ...]
    newer: Baseline | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        state = "ok" if self.ok else "; ".join(self.problems)
        return (
            f"<Verified: {self.config} vs {self.baseline.ref}: "
            f"{_plural(len(self.changes), 'change')} ({len(self.guarded)} guarded); {state}>"
        )


@dataclass(frozen=True)
class Evals:
    """A run's evals as the sheet will show them: per column the value and where it came
    from; the last record lists what was found and not used."""

    run: Path
    records: tuple[dict[str, Any], ...]

    def columns(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("column") is not None]

    def lines(self) -> list[str]:
        """Per column the value and where it came from, as `sheetsync evals` prints them."""
        from sheetsync.views.terminal import eval_lines

        return eval_lines(self.records)

    def __repr__(self) -> str:
        cols = self.columns()
        filled = sum(r.get("value") is not None for r in cols)
        return f"<Evals: {self.run.name}: {filled} of {_plural(len(cols), 'eval column')} filled>"


@dataclass(frozen=True)
class Listed:
    """The Runs tab's records that pass `ls`'s filters, as read (`total`: all its records)."""

    records: tuple[dict[str, Value], ...]
    total: int
    keys: tuple[str, ...]  # the layout's column keys, then people's own columns
    rows: SheetRows = field(repr=False)
    notices: tuple[str, ...] = ()

    def text(self, fmt: str) -> str:
        """The records exactly as the sheet holds them, as "json" or "csv"."""
        from sheetsync.views.rows import records_text

        return records_text(self.records, self.keys, fmt)

    def table(self, width: int) -> list[list[Cell]]:
        """A header and a row per record, in `width` characters (cells with their tone)."""
        from sheetsync.views.terminal import table

        return table(self.records, width)

    def frame(self) -> pd.DataFrame:
        """The records as a DataFrame typed by the layout (as `sheetsync.load_runs()`)."""
        from sheetsync.views.rows import frame

        return frame(self.rows, list(self.records))

    def export(self, fmt: str, out: Path | None = None) -> str | None:
        """Write the records as csv, json or parquet to `out`, or return them as text."""
        from sheetsync.views.rows import export

        return export(self.frame(), fmt, out)

    def __repr__(self) -> str:
        return f"<Listed: {len(self.records)} of {self.total} runs>"


@dataclass(frozen=True)
class Formatted:
    """The sheet formatted for reading; `notices`: what `force` dropped."""

    sheet: str
    notices: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<Formatted: {self.sheet}>"


@dataclass(frozen=True)
class BaselineDiff:
    old: Baseline
    new: Baseline
    changes: tuple[Change, ...]

    def __repr__(self) -> str:
        n = _plural(len(self.changes), "change")
        return f"<BaselineDiff: {self.old.ref} -> {self.new.ref}: {n}>"


@dataclass(frozen=True)
class Initialized:
    """`init`: the project files written, the sheet's tabs and columns added."""

    sheet: str
    created: tuple[Path, ...] = ()
    columns: int = 0  # header cells added
    notices: tuple[str, ...] = field(default=())
    added: tuple[tuple[str, str], ...] = ()  # (tab, header) of each column added

    def __repr__(self) -> str:
        return f"<Initialized: {self.sheet}; {_plural(self.columns, 'header cell')} added>"


@dataclass(frozen=True)
class Demo:
    """The demo project built: its folder, its workbook, what each step did."""

    folder: Path
    workbook: Path
    log: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<Demo: {self.folder} ({len(self.log)} steps); workbook {self.workbook}>"
