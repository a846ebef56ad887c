"""The calls that need no project opened: the demo, a ladder CSV's fit and a what-if gain
against it, and which Google identity sheetsync uses."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.api.results import Demo, Gained
from sheetsync.errors import SheetsyncError, UsageError

if TYPE_CHECKING:
    from sheetsync.science.scaling import Fit
    from sheetsync.sheet.backends.google_auth import Identity

PathLike = str | os.PathLike[str]


def demo(folder: PathLike = "sheetsync-demo", *, source: str = "folder") -> Demo:
    """Build the demo project in `folder` (new or empty) and run the whole loop on it:
    baselines, ladder and feature runs added, synced, fitted, checked, reported."""
    from sheetsync.demo_project import build_demo

    built = build_demo(Path(folder), source)
    return Demo(built.folder, built.workbook, tuple(built.log))


def fit_ladder_csv(ladder: PathLike, *, form: str = "compute", floor: float | None = None) -> Fit:
    """A ladder CSV's fit (compute,loss or params,tokens,loss), judged rung by rung;
    `floor`: E pinned at it."""
    from sheetsync.science.quality import judged
    from sheetsync.science.scaling import fit_ladder, read_ladder_csv

    return judged(fit_ladder(read_ladder_csv(Path(ladder)), form, floor=floor))


def gain(
    *,
    ladder: PathLike,
    compute: float,
    loss: float,
    form: str = "compute",
    baseline_loss: float | None = None,
    baseline_compute: float | None = None,
) -> Gained:
    """What-if: the gain (and 90% interval) of one (compute, loss) point against a ladder;
    with `baseline_loss` (the baseline's own run at `baseline_compute`, default `compute`,
    within 10% of it) also the gain anchored on that run."""
    from sheetsync.science.gain import anchored_gain, bootstrap
    from sheetsync.science.gain import gain as gain_of
    from sheetsync.science.scaling import fit_ladder, read_ladder_csv

    if baseline_compute is not None and baseline_loss is None:
        raise UsageError("baseline_compute needs baseline_loss")
    base_c = compute if baseline_compute is None else baseline_compute
    if baseline_loss is not None and not abs(base_c - compute) <= 0.10 * compute:
        raise UsageError("baseline_compute must be within 10% of compute")
    fitted = fit_ladder(read_ladder_csv(Path(ladder)), form)
    boot = bootstrap(fitted)
    anchored = None
    if baseline_loss is not None:
        anchored = anchored_gain(fitted, compute, loss, base_c, baseline_loss, boot)
    return Gained(gain_of(fitted, compute, loss, boot), fitted, anchored)


def identity(path: PathLike | None = None) -> Identity:
    """The Google identity sheetsync uses (never a secret): the project's `sheet.credentials`
    (the project at `path`, or found by walking up), then the environment, then gspread's
    files; with no project, the last two."""
    from contextlib import suppress

    from sheetsync.project import find_project_file, load_project
    from sheetsync.sheet.backends.google_auth import find_identity

    configured = None
    with suppress(SheetsyncError):  # no project: the environment and gspread's files
        configured = load_project(find_project_file(explicit=path)).credentials
    return find_identity(configured)


def login(client_secret: PathLike) -> Identity:
    """Log in as a person in the browser (an OAuth desktop client's JSON); the token is kept
    where gspread keeps it."""
    from sheetsync.sheet.backends.google_auth import login as browser_login

    return browser_login(Path(client_secret))
