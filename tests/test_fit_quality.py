"""Fits are computed once and judged: sync never refits, each fit says how well it predicts
the rungs it did not see, and gains against a doubtful fit say so."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import sheetsync.science.fitting as fitting
from sheetsync.science.quality import assess
from sheetsync.science.scaling import Ladder, fit_ladder
from tests.helpers import cli
from tests.test_fits_report import E, law, run_at, runs_tab

COMPUTE = [1e18, 3e18, 1e19, 3e19, 1e20, 3e20]


def _ladder(losses: list[float], compute: list[float] = COMPUTE) -> Ladder:
    names = tuple(f"r{i}" for i in range(len(compute)))
    return Ladder(tuple(compute), tuple(losses), runs=names)


def test_a_ladder_on_its_law_predicts_every_held_out_rung_and_raises_no_flag():
    quality = assess(fit_ladder(_ladder([law(c) for c in COMPUTE])))
    assert quality is not None and quality.flags == ()
    assert quality.largest == len(COMPUTE) - 1
    for rung in quality.rungs:
        assert rung.held_out_error == pytest.approx(0.0, abs=1e-6)
        assert rung.residual == pytest.approx(0.0, abs=1e-8)


def test_a_largest_rung_off_the_law_is_flagged_with_its_band():
    compute = list(np.geomspace(1e18, 3e20, 12))
    rng = np.random.default_rng(3)
    losses = [law(c) * (1 + rng.normal(0, 0.001)) for c in compute]
    losses[-1] = law(compute[-1]) * 1.03  # the biggest run is 3% worse than the law
    quality = assess(fit_ladder(_ladder(losses, compute)))
    assert quality is not None and quality.band is not None
    top = quality.rungs[quality.largest]
    assert top.run == "r11" and top.held_out_error < -0.02
    assert not quality.band[0] <= top.loss <= quality.band[1]
    assert any(
        f.startswith("misses its largest rung: without r11 it predicts") for f in quality.flags
    )


def test_a_ladder_spanning_less_than_10x_is_thin():
    compute = [1e19, 1.5e19, 2e19, 3e19, 5e19]
    quality = assess(fit_ladder(_ladder([law(c) for c in compute], compute)))
    assert quality is not None
    assert quality.flags[0] == "thin ladder: 5 compute budgets over 5.0x (want >= 3 over >= 10x)"


@pytest.fixture
def calls(monkeypatch):
    """Every fit (single, batched, leave-one-out) goes through fitting._fit_rows: count them."""
    counter = {"n": 0}
    real = fitting._fit_rows

    def counted(*args, **kwargs):
        counter["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(fitting, "_fit_rows", counted)
    return counter


def _ladder_project(project):
    for i, c in enumerate(COMPUTE):
        run_at(project, f"ladder-{i}", c, role="ladder", changes={"model.d_model": 256 * (i + 1)})
    run_at(project, "m", 2e19, 1.2, changes={"model.prores": True})
    assert cli(project, "sync").exit_code == 0
    return project


def test_sync_never_calls_the_optimiser_once_the_fit_is_made(project, calls):
    _ladder_project(project)
    fitted = cli(project, "fit", "b")
    assert fitted.exit_code == 0, fitted.output
    assert calls["n"] > 0  # the fit, its leave-one-outs and its bootstrap, all here
    assert "left out" in fitted.output
    calls["n"] = 0
    synced = cli(project, "sync")
    assert synced.exit_code == 0, synced.output
    assert runs_tab(project)["m"]["gain"] == pytest.approx(1.2, rel=0.02)
    assert calls["n"] == 0
    assert cli(project, "sync").exit_code == 0 and calls["n"] == 0
    report = cli(project, "report", "--out", str(project.root / "out"))
    assert report.exit_code == 0, report.output
    assert calls["n"] == 0


def test_a_colleague_without_the_cache_rebuilds_it_once(project, calls):
    _ladder_project(project)
    assert cli(project, "fit", "b").exit_code == 0
    assert cli(project, "sync").exit_code == 0
    before = runs_tab(project)
    assert before["m"]["gain 90%"]
    shutil.rmtree(project.root / ".sheetsync")  # a colleague's clone has none of it
    calls["n"] = 0
    assert cli(project, "sync", "--overwrite").exit_code == 0
    assert calls["n"] == 1  # one batched bootstrap, from the fit recorded in the sheet
    assert runs_tab(project)["m"]["gain 90%"] == before["m"]["gain 90%"]  # seeded: same interval
    calls["n"] = 0
    assert cli(project, "sync").exit_code == 0 and calls["n"] == 0


def test_gains_against_a_thin_fit_carry_its_flag(project):
    for i, c in enumerate([1e19, 1.5e19, 2e19, 3e19, 5e19]):
        run_at(project, f"ladder-{i}", c, role="ladder", changes={"model.d_model": 256 * (i + 1)})
    run_at(project, "m", 2e19, 1.2, changes={"model.prores": True})
    assert cli(project, "sync").exit_code == 0  # the ladder's results reach the sheet
    fitted = cli(project, "fit", "b")
    assert "flag: thin ladder: 5 compute budgets over 5.0x" in fitted.output
    assert cli(project, "sync").exit_code == 0
    assert "fit flagged: thin ladder" in runs_tab(project)["m"]["gain 90%"]
    assert E  # the law the ladder follows


def test_the_report_says_how_good_each_fit_is(project, tmp_path):
    _ladder_project(project)
    assert cli(project, "fit", "b").exit_code == 0
    out = tmp_path / "report"
    assert cli(project, "report", "--out", str(out)).exit_code == 0
    md = (out / "report.md").read_text()
    assert "## How good are the fits?" in md
    line = next(x for x in md.splitlines() if x.startswith("| b@2026-06-01 compute"))
    assert "| 6 | ladder-5: predicts " in line and line.endswith("| none |")
    assert "How good are the fits?" in (out / "report.html").read_text()
