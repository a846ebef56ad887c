"""Runs end the way real runs end: a diverged run is a result (in sync, check, ls and the
report), and one run's malformed files never stop the other runs (sync, check, cron's sync)."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from tests.helpers import cli, write_run


def _add(project, run_id: str, **kw) -> None:
    write_run(project, run_id, {"model.prores": True}, **kw)  # a feature run
    added = cli(project, "add", str(project.runs_dir / run_id), "-q", "q", "-b", "b", "--yes")
    assert added.exit_code == 0, added.output


def _rows(project) -> dict[str, dict]:
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    rows = ws.iter_rows(min_row=2, values_only=True)
    return {r[0]: dict(zip(header, r, strict=False)) for r in rows if r[0]}


def _diverged_and_broken(project) -> None:
    """ok: finished; lns: diverged (NaN written by Python's json); said: state diverged;
    broken: results.json cut short."""
    _add(project, "ok", loss=2.4)
    _add(project, "lns", step=2113, steps_planned=5722, state="killed")
    (project.runs_dir / "lns" / "results.json").write_text('{"final_loss": NaN, "flops": 6e18}')
    _add(project, "said", step=40, steps_planned=100, state="diverged", loss=9.5)
    _add(project, "broken", loss=2.6)
    (project.runs_dir / "broken" / "results.json").write_text('{"final_loss": 2.6')


def test_a_diverged_run_says_so_in_every_computed_cell_and_a_broken_one_in_its_status(project):
    _diverged_and_broken(project)
    result = cli(project, "sync")
    assert result.exit_code == 1
    path = project.runs_dir / "broken" / "results.json"
    assert result.output.splitlines()[-1] == (
        f"Error: {path}:1: invalid JSON (Expecting ',' delimiter)"
    )
    rows = _rows(project)
    assert rows["ok"]["status"] == "finished" and rows["ok"]["final loss"] == 2.4
    assert rows["lns"]["status"] == "diverged at step 2,113/5,722"
    assert rows["said"]["status"] == "diverged at step 40/100"
    for run in ("lns", "said"):
        cells = rows[run]
        computed = ("final loss", "hellaswag", "eval avg (0-1)", "knowledge avg", "gain")
        assert [cells[c] for c in computed] == ["diverged"] * len(computed), cells
        assert cells["checks"] == "fail: diverged"
    assert rows["broken"]["status"] == (
        "error: results.json:1: invalid JSON (Expecting ',' delimiter)"
    )
    assert rows["broken"]["final loss"] is None and rows["broken"]["checks"] is None


def test_check_reports_a_diverged_run_and_a_broken_one_and_checks_the_others(project):
    _diverged_and_broken(project)
    result = cli(project, "check", "--json")
    assert result.exit_code == 1
    findings = json.loads(result.output)
    finished = {f["run"]: (f["level"], f["reason"]) for f in findings if f["rule"] == "finished"}
    assert finished == {
        "ok": ("ok", "finished"),
        "lns": ("fail", "diverged at step 2,113/5,722"),
        "said": ("fail", "diverged at step 40/100"),
    }
    broken = [f for f in findings if f["run"] == "broken"]
    path = project.runs_dir / "broken" / "results.json"
    assert [(f["rule"], f["level"], f["reason"]) for f in broken] == [
        ("files", "fail", f"{path}:1: invalid JSON (Expecting ',' delimiter)")
    ]


def test_cron_sync_says_the_broken_run_in_one_line_and_exits_1_having_synced_the_rest(project):
    _diverged_and_broken(project)
    result = cli(project, "sync", "--quiet")
    assert result.exit_code == 1
    path = project.runs_dir / "broken" / "results.json"
    assert f"Error: {path}:1: invalid JSON (Expecting ',' delimiter)" in result.output.splitlines()
    assert _rows(project)["ok"]["final loss"] == 2.4


def test_ls_and_the_report_know_a_diverged_run_and_a_broken_one(project, tmp_path):
    _diverged_and_broken(project)
    cli(project, "sync")
    listed = json.loads(cli(project, "ls", "--status", "diverged", "--json").output)
    assert sorted(r["run"] for r in listed) == ["lns", "said"]
    listed = json.loads(cli(project, "ls", "--status", "error", "--json").output)
    assert [r["run"] for r in listed] == ["broken"]
    assert cli(project, "report", "--out", str(tmp_path / "rep")).exit_code == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "**lns**: diverged (diverged at step 2,113/5,722" in md
    assert "**broken**: error (results.json:1: invalid JSON" in md


def test_a_run_fixed_after_an_error_is_synced_again(project):
    _diverged_and_broken(project)
    cli(project, "sync")
    (project.runs_dir / "broken" / "results.json").write_text('{"final_loss": 2.6}')
    assert cli(project, "sync").exit_code == 0
    assert _rows(project)["broken"]["status"] == "finished"
    assert _rows(project)["broken"]["final loss"] == 2.6


def test_syncing_a_broken_run_by_name_writes_its_error_and_exits_1(project):
    _diverged_and_broken(project)
    result = cli(project, "sync", str(project.runs_dir / "broken"), "lns")
    assert result.exit_code == 1
    rows = _rows(project)
    assert rows["broken"]["status"].startswith("error: results.json:1: invalid JSON")
    assert rows["lns"]["status"] == "diverged at step 2,113/5,722"
    assert rows["ok"]["status"] is None  # not named: not synced


def test_a_broken_run_named_but_not_in_the_sheet_is_still_refused_in_one_line(project):
    write_run(project, "stray")
    (project.runs_dir / "stray" / "progress.json").write_text('{"step": -1}')
    result = cli(project, "sync", str(project.runs_dir / "stray"))
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {project.runs_dir / 'stray' / 'progress.json'}: step is negative (-1)"
    )
