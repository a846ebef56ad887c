"""The anchored gain in the sheet and on the command line; the verdict in `scaling --json`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from tests.helpers import cli
from tests.test_fits_report import law, run_at, runs_tab


@pytest.fixture
def anchored(project):
    """A ladder whose 1e19 rung ran 8% worse than the law (its loss needs 8% more compute),
    a method run at that budget that did the same (so the method's true gain there is 1.25),
    and a method run at a budget without a baseline run."""
    for i, c in enumerate([1e18, 3e18, 1e19, 3e19, 1e20, 3e20]):
        k = 1 / 1.08 if c == 1e19 else 1.0
        run_at(project, f"ladder-{i}", c, k, role="ladder", changes={"model.d_model": 256 + i})
    run_at(project, "m-1e19", 1.05e19, 1.25 / 1.08, changes={"model.prores": True})
    run_at(project, "m-5e19", 5e19, 1.25, changes={"model.prores": True})
    assert cli(project, "sync").exit_code == 0
    assert cli(project, "fit", "b").exit_code == 0
    assert cli(project, "sync").exit_code == 0
    return project


def test_the_anchored_gain_column_corrects_a_budget_where_the_baseline_is_off_its_law(anchored):
    runs = runs_tab(anchored)
    m = runs["m-1e19"]
    assert m["gain"] < 1.2  # the plain gain books the rung's bad luck as the method's
    assert m["gain (anchored)"] == pytest.approx(1.25, rel=0.02)
    assert m["gain (anchored) 90%"].endswith("vs ladder-2")
    low, high = m["gain (anchored) 90%"].split("x")[0].split("-")
    assert float(low) <= m["gain (anchored)"] <= float(high)
    assert runs["m-5e19"]["gain (anchored)"] is None  # no baseline run within 10%
    assert runs["ladder-2"]["gain (anchored)"] is None
    assert "up to date" in cli(anchored, "sync").output


def test_gain_command_prints_the_anchored_gain(tmp_path):
    c = [1e18, 3e18, 1e19, 3e19, 1e20, 3e20]
    path = tmp_path / "ladder.csv"
    path.write_text("compute,loss\n" + "".join(f"{x},{law(x)}\n" for x in c))
    base_loss = law(3e19 / 1.1)  # the baseline's own run sits off the law
    args = [
        "gain",
        "--ladder",
        str(path),
        "--compute",
        "3e19",
        "--loss",
        str(law(3e19 * 1.3 / 1.1)),
    ]
    text = CliRunner().invoke(main, [*args, "--baseline-loss", str(base_loss)])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0].startswith("gain 1.182x") and lines[1].startswith("anchored gain 1.300x")
    data = json.loads(
        CliRunner().invoke(main, [*args, "--baseline-loss", str(base_loss), "--json"]).output
    )
    assert data["anchored"]["gain"] == pytest.approx(1.3, rel=1e-3)
    assert data["gain"] == pytest.approx(1.3 / 1.1, rel=1e-3)
    far = CliRunner().invoke(
        main, [*args, "--baseline-loss", str(base_loss), "--baseline-compute", "5e19"]
    )
    assert far.exit_code == 2 and "within 10%" in far.output


@pytest.mark.parametrize("value", ["lots", "-1e23", "0", "true"])
def test_a_bad_target_compute_is_a_one_line_error(project, value):
    project.path.write_text(project.path.read_text() + f"target_compute: {value}\n")
    result = cli(project, "ls")
    assert result.exit_code != 0
    assert "target_compute must be a positive number of FLOPs" in result.output
    assert "Traceback" not in result.output
