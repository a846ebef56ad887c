"""Fits in the sheet: a baseline's ladder read from its runs, fits recorded (dated) in the
Scaling tab, and each finished run's gain against its baseline's newest fit at every sync."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sheetsync.errors import FitError, RunError
from sheetsync.project import Project
from sheetsync.records.names import BaselineRef
from sheetsync.records.plain import plain_or_none
from sheetsync.records.runcache import RunCache
from sheetsync.records.runs import Run
from sheetsync.sheet.bootstraps import bootstrap_for
from sheetsync.sheet.cells import compute_of
from sheetsync.sheet.cycle import append_rows
from sheetsync.sheet.rows import Row
from sheetsync.vocab import Value, finite, marker

if TYPE_CHECKING:
    from sheetsync.science.gain import Bootstrap, Gain
    from sheetsync.science.scaling import Fit, Ladder

GAIN_KEYS = ("gain", "gain_interval", "fit")
LAW_KEYS = ("E", "A", "alpha", "B", "beta")  # the Scaling tab's number columns
ANCHORED_KEYS = ("gain_anchored", "gain_anchored_interval")
BASELINE_ROLES = ("baseline", "ladder")
ANCHOR_TOLERANCE = 0.10  # the baseline's own run counts when its compute is within 10%


def ladder_from_rows(rows: Sequence[Mapping[str, Value]], ref: str, project: Project) -> Ladder:
    """The finished ladder runs of baseline `ref` (NAME@DATE), from the sheet and run folders."""
    from sheetsync.science.scaling import Ladder

    compute, loss, params, tokens, runs = [], [], [], [], []
    for row in rows:
        if row.get("role") != "ladder" or BaselineRef.of_row(row) != ref:
            continue
        if row.get("status") != "finished":
            continue
        c, lo = finite(row.get("compute")), finite(row.get("final_loss"))
        if c is None or lo is None:
            continue
        folder = project.run_dir(str(row.get("run")))
        n = d = None
        if folder.is_dir():
            run = project.read_run(folder)
            n = run.results.active_params or run.results.params
            d = run.progress.tokens
        compute.append(c)
        loss.append(lo)
        params.append(n)
        tokens.append(d)
        runs.append(str(row.get("run")))
    if not runs:
        raise FitError(
            f"no finished ladder runs of {ref} in the sheet (add them with --role ladder)"
        )
    has_nd = all(params) and all(tokens)
    return Ladder(
        tuple(compute),
        tuple(loss),
        tuple(params) if has_nd else None,
        tuple(tokens) if has_nd else None,
        tuple(runs),
    )


def fit_row(fit: Fit, ref: str, fitted: dt.date) -> dict[str, Value]:
    """The Scaling tab's row for a fit; `params` holds the whole fit (and its ladder) as JSON."""
    return {
        "fit": f"{ref} {fit.form} {fitted.isoformat()} {fit.fit_id[-8:]}",
        "baseline": ref,
        "fitted": fitted.isoformat(),
        "form": fit.form,
        "params": json.dumps(fit.to_dict(), separators=(",", ":")),
        **{k: float(f"{fit.params[k]:.6g}") if k in fit.params else None for k in LAW_KEYS},
        "floor": "pinned" if fit.floor is not None else None,
        "n_runs": fit.n_runs,
        "compute_range": f"{fit.compute_min:.3g} - {fit.compute_max:.3g}",
        "residual": round(fit.residual_rms, 6),
    }


@dataclass(frozen=True)
class Recorded:
    fit: Fit
    fit_name: str
    new: bool


def record_fit(project: Project, ref: str, fit: Fit, fitted: dt.date | None = None) -> Recorded:
    """Append the fit to the Scaling tab (a fit already recorded is not added twice)."""
    layout = project.layout()
    row = fit_row(fit, ref, fitted or dt.date.today())
    from sheetsync.sheet.backends import open_backend  # sources import no backend

    plan = append_rows(open_backend(project), layout, layout.scaling, [row], skip_existing=True)
    return Recorded(fit, str(row["fit"]), bool(plan.changes))


def fit_baseline(
    project: Project,
    ref: str,
    form: str = "compute",
    record: bool = True,
    floor: float | None = None,
) -> Recorded:
    """Fit the ladder of a dated baseline from the sheet (E pinned at `floor`, if given) and
    record it."""
    from sheetsync.science.quality import judged
    from sheetsync.science.scaling import fit_ladder
    from sheetsync.sheet.read import read_rows  # the sources import no backend

    baseline = project.registry().resolve(ref)
    rows = read_rows(project)
    ladder = ladder_from_rows(rows.records, baseline.ref, project)
    fit = judged(fit_ladder(ladder, form, floor=floor))
    if not record:
        return Recorded(fit, "", False)
    recorded = record_fit(project, baseline.ref, fit)
    bootstrap_for(project, fit)  # once, here: sync, gain, scaling and report read it back
    return recorded


def fits_in(records: Sequence[Mapping[str, Value]]) -> dict[str, tuple[str, Fit]]:
    """The newest recorded fit of each baseline ref (compute form preferred on the same day)."""
    from sheetsync.science.scaling import FORMS, Fit

    best: dict[str, tuple[tuple[str, int], str, Fit]] = {}
    for r in records:
        data = plain_or_none(str(r.get("params")))
        try:
            fit = Fit.from_dict(data)  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            continue  # a person's row, or a mangled one: not a fit sheetsync can use
        if fit.form not in FORMS:  # the form names the fit's cache file: never a path
            continue
        key = (str(r.get("fitted") or ""), 1 if fit.form == "compute" else 0)
        ref = str(r.get("baseline"))
        if ref not in best or key > best[ref][0]:
            best[ref] = (key, str(r.get("fit")), fit)
    return {ref: (name, fit) for ref, (_, name, fit) in best.items()}


def gain_cells(result: Gain | None, fit_name: str, flags: Sequence[str] = ()) -> dict[str, Value]:
    """The gain, its interval text (with notes, and the fit's flags) and the fit's name."""
    if result is None:
        return {"gain": None, "gain_interval": None, "fit": None}
    flagged = "fit flagged: " + "; ".join(f.split(":")[0] for f in flags) if flags else ""
    if result.gain is None:
        note = "; ".join(filter(None, [result.note, flagged]))
        return {"gain": result.note.split(";")[0], "gain_interval": note, "fit": fit_name}
    text = "; ".join(filter(None, [interval_text(result), result.note, flagged]))
    return {"gain": round(result.gain, 4), "gain_interval": text, "fit": fit_name}


def interval_text(result: Gain) -> str:
    """`0.950-1.120x` (`inf` as an open high), or nothing without an interval."""
    if result.low is None:
        return ""
    high = f"{result.high:.3f}" if result.high is not None else "inf"
    return f"{result.low:.3f}-{high}x"


def anchored_cells(result: Gain | None, anchor: str) -> dict[str, Value]:
    """The anchored gain and its interval text, which names the baseline run it is anchored to."""
    if result is None:
        return dict.fromkeys(ANCHORED_KEYS)
    if result.gain is None:
        return {"gain_anchored": result.note.split(";")[0], "gain_anchored_interval": result.note}
    text = "; ".join(filter(None, [interval_text(result), f"vs {anchor}", result.note]))
    return {"gain_anchored": round(result.gain, 4), "gain_anchored_interval": text}


class GainSource:
    """Gain, interval and fit for each finished run, against its baseline's newest fit; with
    `rows` (the sheet's rows), also the gain anchored to the baseline's own run at its budget."""

    def __init__(
        self,
        fits: Mapping[str, tuple[str, Fit]],
        project: Project | None = None,
        cache: RunCache | None = None,
        rows: Mapping[str, Row] | None = None,
    ):
        self.fits = fits
        self.project = project
        self.cache = cache  # a run's gain cells are kept with its folder: numpy only for new ones
        self._boots: dict[str, Bootstrap | None] = {}
        self.anchored = rows is not None
        self._anchors = [r for r in (rows or {}).values() if r.role in BASELINE_ROLES]
        self._anchor_runs: dict[str, tuple[float, float] | None] = {}

    def boot(self, name: str, fit: Fit) -> Bootstrap | None:
        """The fit's bootstrap from the project's cache (computed only when the cache lacks it)."""
        if name not in self._boots:
            self._boots[name] = bootstrap_for(self.project, fit)
        return self._boots[name]

    def _finished(self, run_id: str) -> tuple[float, float] | None:
        """A baseline run's (compute, final loss) when it finished with both."""
        if run_id not in self._anchor_runs:
            found = None
            if self.project is not None:
                folder = self.project.run_dir(run_id)
                try:
                    run = (
                        (self.cache.run(folder) if self.cache else self.project.read_run(folder))
                        if folder.is_dir()
                        else None
                    )
                except RunError:  # its own row says so; no anchor from it
                    run = None
                if run is not None:
                    compute, _ = compute_of(run)
                    loss = run.results.final_loss
                    if run.finished and compute and loss is not None:
                        found = (compute, loss)
            self._anchor_runs[run_id] = found
        return self._anchor_runs[run_id]

    def anchor(self, row: Row, compute: float) -> tuple[str, float, float] | None:
        """The baseline's own finished run (role baseline or ladder, same NAME@DATE) nearest in
        compute, when within 10% of `compute`."""
        best = None
        for other in self._anchors:
            if other.baseline_ref != row.baseline_ref or other.run_id == row.run_id:
                continue
            found = self._finished(other.run_id)
            if found is None or abs(found[0] - compute) > ANCHOR_TOLERANCE * compute:
                continue
            if best is None or abs(found[0] - compute) < abs(best[1] - compute):
                best = (other.run_id, *found)
        return best

    def __call__(self, run: Run, row: Row) -> dict[str, Value]:
        cells = self._plain(run, row)
        if not self.anchored:
            return cells
        word = marker(run.status)
        if word is not None:
            return {**cells, "gain_anchored": word, "gain_anchored_interval": None}
        return {**cells, **self._anchored(run, row)}

    def _anchored(self, run: Run, row: Row) -> dict[str, Value]:
        found = self.fits.get(row.baseline_ref)
        compute, _ = compute_of(run)
        loss = run.results.final_loss
        if not run.finished or row.role in BASELINE_ROLES or found is None:
            return dict.fromkeys(ANCHORED_KEYS)
        if compute is None or loss is None:
            return dict.fromkeys(ANCHORED_KEYS)
        anchor = self.anchor(row, compute)
        if anchor is None:
            return dict.fromkeys(ANCHORED_KEYS)
        name, fit = found
        base_run, base_compute, base_loss = anchor

        def cells() -> dict[str, Value]:
            from sheetsync.science.gain import anchored_gain

            boot = self.boot(name, fit)
            result = anchored_gain(fit, compute, loss, base_compute, base_loss, boot)
            return anchored_cells(result, base_run)

        if self.cache is None:
            return cells()
        key = (
            "anchored, both runs' scatter",
            name,
            fit.fit_id,
            fit.n_runs,
            compute,
            loss,
            anchor,
        )
        return dict(self.cache.memo(run.path, key, cells, files=()))

    def _plain(self, run: Run, row: Row) -> dict[str, Value]:
        word = marker(run.status)
        if word is not None:  # unfinished or diverged: no number that looks like a result
            return {"gain": word, "gain_interval": None, "fit": None}
        if not run.finished:
            return dict.fromkeys(GAIN_KEYS)
        found = self.fits.get(row.baseline_ref)
        compute, _ = compute_of(run)
        loss = run.results.final_loss
        if found is None or compute is None or loss is None:
            return dict.fromkeys(GAIN_KEYS)
        name, fit = found

        def cells() -> dict[str, Value]:
            from sheetsync.science.gain import gain

            return gain_cells(gain(fit, compute, loss, self.boot(name, fit)), name, fit.flags)

        if self.cache is None:
            return cells()
        key = ("gain, the run's scatter", name, fit.fit_id, fit.n_runs, compute, loss, fit.flags)
        return dict(self.cache.memo(run.path, key, cells, files=()))  # the key is every input
