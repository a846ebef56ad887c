"""`fit --floor`: the irreducible loss pinned, as practitioners pin it on short ladders."""

from __future__ import annotations

import json

import numpy as np
import pytest
from openpyxl import load_workbook

from sheetsync.errors import FitError
from sheetsync.science.gain import bootstrap
from sheetsync.science.scaling import Fit, Ladder, fit_ladder
from tests.helpers import cli
from tests.test_fits_report import run_at

# Marin's law for its MoE ladder, with L_inf pinned to 1.6
E, A, ALPHA = 1.6, 95.18, 0.0941


def short_ladder(seed: int, noise: float = 0.002) -> Ladder:
    rng = np.random.default_rng(seed)
    c = np.geomspace(1e18, 1e21, 5)
    return Ladder(tuple(c), tuple((E + A * c**-ALPHA) * np.exp(rng.normal(0, noise, 5))))


def test_a_pinned_floor_recovers_a_known_law_from_a_short_noisy_ladder():
    free_errors, pinned_errors = [], []
    for seed in range(4):
        ladder = short_ladder(seed)
        pinned = fit_ladder(ladder, floor=1.6)
        assert pinned.params["E"] == 1.6 and pinned.floor == 1.6
        assert pinned.params["alpha"] == pytest.approx(ALPHA, rel=0.03)
        assert pinned.params["A"] == pytest.approx(A, rel=0.15)  # A follows alpha
        pinned_errors.append(abs(pinned.params["alpha"] / ALPHA - 1))
        free_errors.append(abs(fit_ladder(ladder).params["alpha"] / ALPHA - 1))
    assert max(pinned_errors) < max(free_errors)  # five rungs cannot tell E from A and alpha


def test_a_noiseless_ladder_is_fitted_exactly_with_its_floor_pinned():
    fit = fit_ladder(short_ladder(0, noise=0.0), floor=1.6)
    assert fit.params["alpha"] == pytest.approx(ALPHA, rel=1e-6)
    assert fit.params["A"] == pytest.approx(A, rel=1e-5)


def test_the_bootstrap_and_the_record_honour_the_floor():
    ladder = short_ladder(1)
    pinned, free = fit_ladder(ladder, floor=1.6), fit_ladder(ladder)
    boot = bootstrap(pinned, resamples=100)
    assert set(np.unique(boot.params["E"]).tolist()) == {1.6}
    assert pinned.fit_id != free.fit_id
    again = Fit.from_dict(json.loads(json.dumps(pinned.to_dict())))
    assert again.floor == 1.6 and again == pinned
    assert "floor" not in free.to_dict() and Fit.from_dict(free.to_dict()).floor is None


@pytest.mark.parametrize("floor", [2.7, -0.1, float("nan")])
def test_a_floor_not_below_the_losses_is_refused(floor):
    with pytest.raises(FitError, match="--floor"):
        fit_ladder(short_ladder(0), floor=floor)


def test_fit_floor_from_the_sheet_is_recorded_and_shown_in_the_scaling_tab(project):
    for i, c in enumerate([1e18, 3e18, 1e19, 3e19, 1e20]):
        run_at(project, f"ladder-{i}", c, role="ladder", changes={"model.d_model": 256 + i})
    assert cli(project, "sync").exit_code == 0
    result = cli(project, "fit", "b", "--floor", "3", "--json")
    assert result.exit_code == 1 and "--floor 3 is not below every ladder loss" in result.output
    assert len(result.output.strip().splitlines()) == 1
    result = cli(project, "fit", "b", "--floor", "1.65", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["E"] == 1.65 and data["floor"] == 1.65
    text = cli(project, "fit", "b", "--floor", "1.65")
    assert "(E pinned)" in text.output.splitlines()[0]
    ws = load_workbook(project.sheet_target)["Scaling"]
    grid = list(ws.iter_rows(values_only=True))
    row = dict(zip(grid[0], grid[1], strict=False))
    assert row["E"] == 1.65 and row["E pinned"] == "pinned"
    assert row["alpha"] == pytest.approx(data["alpha"], rel=1e-5) and row["B"] is None
    assert json.loads(row["parameters"])["floor"] == 1.65
