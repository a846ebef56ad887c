"""init / add / sync through the CLI on real files: the promises people rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheetsync.cli import main
from sheetsync.project import Project
from tests.helpers import cli, write_run


def rows(project: Project) -> list[dict[str, object]]:
    ws = load_workbook(project.sheet_target)["Runs"]
    grid = list(ws.iter_rows(values_only=True))
    return [dict(zip(grid[0], r, strict=False)) for r in grid[1:] if any(r)]


def workbook_bytes(project: Project) -> bytes:
    return Path(project.sheet_target).read_bytes()


def add(project: Project, run_id: str, question: str = "Does it help?", **kw) -> object:
    write_run(project, run_id, **kw)
    return cli(project, "add", str(project.runs_dir / run_id), "-q", question, "-b", "b", "--yes")


def test_init_creates_project_files_tabs_and_is_idempotent(tmp_path):
    folder = tmp_path / "new"
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    for name in ("sheetsync.yaml", "layout.yaml", "runs", "baselines", "experiments.xlsx"):
        assert (folder / name).exists()
    wb = load_workbook(folder / "experiments.xlsx")
    assert wb.sheetnames == ["Runs", "Baselines", "Scaling", "_sheetsync", "Review"]
    assert wb["_sheetsync"].sheet_state == "hidden"
    assert [c.value for c in wb["Runs"][1]][:3] == ["run", "launched", "launched by"]
    before = (folder / "experiments.xlsx").read_bytes()
    again = CliRunner().invoke(main, ["--config", str(folder / "sheetsync.yaml"), "init"])
    assert again.exit_code == 0, again.output
    assert "added column" not in again.output
    assert (folder / "experiments.xlsx").read_bytes() == before


def test_init_attaches_to_existing_sheet_adding_only_missing_owned_columns(project):
    wb = load_workbook(project.sheet_target)
    ws = wb["Runs"]
    headers = [c.value for c in ws[1]]
    ws.cell(1, headers.index("gain") + 1).value = None  # a person deleted the gain header
    ws.cell(1, len(headers) + 1).value = "my notes"
    wb.save(project.sheet_target)
    result = cli(project, "init")
    assert result.exit_code == 0, result.output
    assert "added column 'gain' to the Runs tab" in result.output
    after = [c.value for c in load_workbook(project.sheet_target)["Runs"][1]]
    assert after[: len(headers)] == [None if h == "gain" else h for h in headers]
    assert after[len(headers) :] == ["my notes", "gain"]


def test_add_shows_diff_and_appends_launch_cells(project):
    write_run(project, "r1", changes={"model.prores": True})
    result = cli(
        project,
        "add",
        str(project.runs_dir / "r1"),
        "-q",
        "Does ProRes help?",
        "-b",
        "b",
        input="y\n",
    )
    assert result.exit_code == 0, result.output
    assert "model.prores: false -> true" in result.output
    assert "added r1 as row 2" in result.output
    [row] = rows(project)
    assert row["run"] == "r1"
    assert row["question"] == "Does ProRes help?"
    assert (row["baseline"], row["baseline date"]) == ("b", "2026-06-01")
    assert row["changes vs baseline"] == "model.prores: false -> true"
    assert row["config fingerprint"].startswith("cfg-")
    assert row["git commit"] == "abc123"
    assert row["status"] is None  # results are sync's job


def test_add_declined_writes_nothing(project):
    before = workbook_bytes(project)
    write_run(project, "r1")
    result = cli(project, "add", str(project.runs_dir / "r1"), "-q", "q", "-b", "b", input="n\n")
    assert result.exit_code == 1
    assert workbook_bytes(project) == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-q", "  "], 2, "Error: --question is empty: say what this run is meant to find out"),
        (["-q", "x", "-b", "nope"], 1, "Error: unknown baseline 'nope'"),
        (["-q", "x", "-b", "b@2026-13-01"], 1, "is not a date of the form YYYY-MM-DD"),
        (["-q", "x", "-b", "b@2025-01-01"], 1, "Error: baseline 'b' has no date 2025-01-01"),
    ],
)
def test_add_refuses_bad_input_with_one_line(project, args, code, message):
    write_run(project, "r1")
    before = workbook_bytes(project)
    result = cli(project, "add", str(project.runs_dir / "r1"), *args, "--yes")
    assert result.exit_code == code, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert workbook_bytes(project) == before


def test_add_refuses_duplicate_run_id(project):
    assert add(project, "r1").exit_code == 0
    before = workbook_bytes(project)
    result = cli(project, "add", str(project.runs_dir / "r1"), "-q", "again", "-b", "b", "--yes")
    assert result.exit_code == 1
    assert "Error: Runs tab: run 'r1' is already in row 2" in result.output
    assert workbook_bytes(project) == before


def test_fingerprint_ignores_key_order_and_formatting(project):
    add(project, "r1")
    folder = project.runs_dir / "r2"
    folder.mkdir()
    (folder / "config.json").write_text(
        json.dumps(
            {
                "optim": {"warmup_steps": 1000, "lr": 0.0003},
                "data": {"global_batch_size": 256.0},
                "model": {"prores": False, "n_layers": 16, "d_model": 1024},
            },
            indent=4,
        )
    )
    result = cli(project, "add", str(folder), "-q", "same config", "-b", "b", "--yes")
    assert result.exit_code == 0, result.output
    first, second = rows(project)
    assert first["config fingerprint"] == second["config fingerprint"]
    assert second["changes vs baseline"] == "(none)"


def test_sync_fills_results_then_plans_nothing_and_does_not_save(project):
    add(project, "r1", loss=2.4)
    add(project, "r2", step=600, state="killed")
    result = cli(project, "sync")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output
    r1, r2 = rows(project)
    assert (r1["status"], r1["final loss"], r1["progress"], r1["tokens"]) == (
        "finished",
        2.4,
        1,
        1_000_000,
    )
    assert r2["status"] == "unfinished: killed at step 600/1,000"
    assert r2["final loss"] == "unfinished"
    mtime = os.stat(project.sheet_target).st_mtime_ns
    again = cli(project, "sync")
    assert again.exit_code == 0
    assert "up to date: 2 runs" in again.output
    assert os.stat(project.sheet_target).st_mtime_ns == mtime


def test_the_first_sync_after_init_says_it_wrote_the_review_tab(project):
    """init makes the Review tab empty; the first sync writes its text and says so, instead of
    `up to date: 0 runs checked`; a sync that writes cells names the Review tab beside them."""
    book = project.sheet_target
    before = workbook_bytes(project)
    dry = cli(project, "sync", "--dry-run")
    assert f"would write the Review tab of {book}; 0 runs checked, up to date" in dry.output
    assert workbook_bytes(project) == before
    first = cli(project, "sync")
    assert first.exit_code == 0, first.output
    assert f"wrote the Review tab of {book}; 0 runs checked, up to date" in first.output
    assert load_workbook(book)["Review"]["A1"].value.startswith("Review: ")
    assert f"up to date: 0 runs checked in {book}" in cli(project, "sync").output
    add(project, "r1", loss=2.4)
    both = cli(project, "sync")
    assert f"wrote 6 cells in 1 runs of {book}, and the Review tab" in both.output
    assert f"up to date: 1 runs checked in {book}" in cli(project, "sync").output


def test_a_quiet_sync_after_init_writes_the_review_tab_and_prints_nothing(tmp_path):
    folder = tmp_path / "new"
    assert CliRunner().invoke(main, ["init", str(folder)]).exit_code == 0
    config = ["--config", str(folder / "sheetsync.yaml")]
    quiet = CliRunner().invoke(main, [*config, "sync", "--quiet"])
    assert (quiet.exit_code, quiet.output) == (0, "")
    after = CliRunner().invoke(main, [*config, "sync"])
    assert "up to date: 0 runs checked in" in after.output  # the quiet one wrote it


def test_dry_run_prints_plan_cell_by_cell_and_writes_nothing(project):
    add(project, "r1", loss=2.4)
    before = workbook_bytes(project)
    result = cli(project, "sync", "--dry-run")
    assert result.exit_code == 0
    assert "r1 (row 2)" in result.output
    assert "final loss (O2): (empty) -> 2.4" in result.output
    assert "would write 6 cells in 1 runs" in result.output
    assert workbook_bytes(project) == before


def test_sync_after_people_sort_reorder_and_add_columns_writes_right_cells(project):
    for i, loss in enumerate([2.1, 2.2, 2.3]):
        add(project, f"r{i}", loss=loss)
    cli(project, "sync")
    wb = load_workbook(project.sheet_target)
    ws = wb["Runs"]
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    header, body = grid[0], grid[1:]
    order = [header.index(h) for h in reversed(header)]  # reverse the columns
    body.reverse()  # sort the rows the other way
    body.insert(1, [None] * len(header))  # insert a blank row
    new = [[r[i] for i in order] + ["mine" if r[0] else None] for r in [header, *body]]
    new[0][-1] = "my column"
    ws.delete_rows(1, ws.max_row)
    for r, values in enumerate(new, 1):
        for c, v in enumerate(values, 1):
            ws.cell(r, c).value = v
    wb.save(project.sheet_target)
    for i, loss in enumerate([1.1, 1.2, 1.3]):
        (project.runs_dir / f"r{i}" / "results.json").write_text(json.dumps({"final_loss": loss}))
    result = cli(project, "sync")
    assert result.exit_code == 0, result.output
    by_id = {r["run"]: r for r in rows(project)}
    assert {k: v["final loss"] for k, v in by_id.items()} == {"r0": 1.1, "r1": 1.2, "r2": 1.3}
    assert all(v["my column"] == "mine" for v in by_id.values())
    assert all(v["question"] == "Does it help?" for v in by_id.values())


def test_person_edit_is_reported_and_kept_unless_overwrite(project):
    add(project, "r1", loss=2.4)
    cli(project, "sync")
    wb = load_workbook(project.sheet_target)
    ws = wb["Runs"]
    col = [c.value for c in ws[1]].index("final loss") + 1
    ws.cell(2, col).value = 2.0
    wb.save(project.sheet_target)
    (project.runs_dir / "r1" / "results.json").write_text(json.dumps({"final_loss": 2.3}))
    result = cli(project, "sync")
    assert (
        "conflict: r1 / final loss (O2): edited by a person: sheet has 2, sheetsync has 2.3 (kept)"
        in result.output
    )
    assert "1 cells edited by people were kept" in result.output
    assert rows(project)[0]["final loss"] == 2.0
    result = cli(project, "sync", "--overwrite")
    assert rows(project)[0]["final loss"] == 2.3


def test_formula_looking_text_is_stored_as_text(project):
    for i, q in enumerate(["=1+1", "+cmd", "-x", "@SUM(A1)"]):
        assert add(project, f"r{i}", question=q).exit_code == 0
    ws = load_workbook(project.sheet_target)["Runs"]
    col = [c.value for c in ws[1]].index("question") + 1
    cells = [ws.cell(r, col) for r in range(2, 6)]
    assert [c.value for c in cells] == ["=1+1", "+cmd", "-x", "@SUM(A1)"]
    assert {c.data_type for c in cells} == {"s"}


@pytest.mark.parametrize(
    ("results", "message"),
    [
        ({"final_loss": "low"}, "results.json: final_loss must be a number, not 'low'"),
        ({"final_loss": 2.0, "tokens": -5}, "results.json: tokens is negative (-5)"),
    ],
)
def test_bad_results_are_one_line_and_the_runs_status_the_others_synced(project, results, message):
    add(project, "r1")
    add(project, "r2")
    (project.runs_dir / "r2" / "results.json").write_text(json.dumps(results))
    result = cli(project, "sync")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {project.runs_dir / 'r2'}/{message}"]
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(header, r, strict=False)) for r in ws.iter_rows(2, values_only=True)}
    assert rows["r2"]["status"] == f"error: {message}"
    assert rows["r2"]["final loss"] is None  # never synced: left as it was
    assert rows["r1"]["status"] == "finished" and rows["r1"]["final loss"] == 2.5


def test_malformed_yaml_names_file_and_line(project):
    add(project, "r1")
    (project.runs_dir / "r1" / "config.yaml").write_text("model:\n  d_model: 3\n\tbad: tab\n")
    result = cli(project, "sync")
    assert result.exit_code == 1
    assert "r1/config.yaml:3: invalid YAML" in result.output


def test_sync_leaves_rows_without_folder_alone_in_one_line(project):
    add(project, "r1")
    add(project, "r2")
    import shutil

    shutil.rmtree(project.runs_dir / "r1")
    shutil.rmtree(project.runs_dir / "r2")
    result = cli(project, "sync")
    assert result.exit_code == 0
    assert "2 runs in the sheet are not on this machine: their cells left as they are\n" in (
        result.output
    )
    assert "r1" not in result.output


def test_sync_of_run_not_in_sheet_is_an_error(project):
    write_run(project, "stray")
    result = cli(project, "sync", str(project.runs_dir / "stray"))
    assert result.exit_code == 1
    assert "run 'stray' is not in the sheet; add it first" in result.output


def test_sheet_changed_on_disk_between_read_and_write_is_replanned(project, monkeypatch):
    from sheetsync.sheet.backends.local import LocalBackend

    add(project, "r1", loss=2.4)
    real_read = LocalBackend.read
    calls = {"n": 0}

    def read_then_person_saves(self, tabs, skip=None):
        snapshot = real_read(self, tabs, skip)
        calls["n"] += 1
        if calls["n"] == 1:  # a person saves the file right after sheetsync read it
            wb = load_workbook(self.path)
            ws = wb["Runs"]
            ws.cell(2, [c.value for c in ws[1]].index("notes") + 1).value = "person's note"
            wb.save(self.path)
        return snapshot

    monkeypatch.setattr(LocalBackend, "read", read_then_person_saves)
    result = cli(project, "sync")
    assert result.exit_code == 0, result.output
    assert calls["n"] == 2
    [row] = rows(project)
    assert row["notes"] == "person's note"
    assert row["final loss"] == 2.4


def test_config_found_by_walking_up_and_by_env(project, monkeypatch):
    deep = project.root / "runs" / "x" / "y"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = CliRunner().invoke(main, ["sync"])
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(project.root.parent)
    assert CliRunner().invoke(main, ["sync"]).exit_code == 2
    monkeypatch.setenv("SHEETSYNC_CONFIG", str(project.path))
    assert CliRunner().invoke(main, ["sync"]).exit_code == 0


def test_unknown_key_in_project_config_is_a_usage_error(project):
    project.path.write_text(project.path.read_text() + "\nsheeet: {}\n")
    result = cli(project, "sync")
    assert result.exit_code == 2
    assert "unknown key 'sheeet'" in result.output


def test_help_imports_no_heavy_library():
    code = (
        "import sys; from sheetsync.cli import main\n"
        "try: main(['--help'])\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('pandas', 'scipy', 'openpyxl', 'gspread', 'numpy', 'yaml',"
        " 'matplotlib') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        check=True,
    ).stdout
    assert "HEAVY []" in out


def test_demo_builds_a_workbook_with_the_runs(tmp_path):
    result = CliRunner().invoke(main, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    ws = load_workbook(tmp_path / "demo" / "experiments.xlsx")["Runs"]
    grid = list(ws.iter_rows(values_only=True))
    header = grid[0]
    by_id = {r[0]: dict(zip(header, r, strict=False)) for r in grid[1:] if r[0]}
    assert len(by_id) == 16
    assert by_id["swa-512-600m"]["status"].startswith("unfinished: killed")
    assert by_id["prores-400m"]["status"] == "finished"
    assert isinstance(by_id["prores-400m"]["final loss"], float)
    again = CliRunner().invoke(main, ["demo", str(tmp_path / "demo")])
    assert again.exit_code == 2
    assert "already exists and is not empty" in again.output


def test_sync_keeps_people_formatting_and_formats_numbers(project):
    from openpyxl.styles import PatternFill

    add(project, "r1", loss=2.41234567)
    wb = load_workbook(project.sheet_target)
    ws = wb["Runs"]
    ws["D2"].fill = PatternFill("solid", start_color="FFFF00", end_color="FFFF00")
    ws.column_dimensions["D"].width = 77
    wb.save(project.sheet_target)
    assert cli(project, "sync").exit_code == 0
    ws = load_workbook(project.sheet_target)["Runs"]
    assert ws["D2"].fill.fgColor.rgb == "00FFFF00"
    assert ws.column_dimensions["D"].width == 77
    assert ws.freeze_panes == "B2"
    header = [c.value for c in ws[1]]
    loss = ws.cell(2, header.index("final loss") + 1)
    assert (loss.value, loss.number_format) == (2.41234567, '0.0000" "')


def test_control_character_in_a_question_is_refused_with_one_line(project):
    write_run(project, "r1")
    before = workbook_bytes(project)
    result = cli(project, "add", str(project.runs_dir / "r1"), "-q", "why\x1f?", "-b", "b", "--yes")
    assert result.exit_code == 1
    assert "Runs tab cell D2: 'why\\x1f?' holds a control character" in result.output
    assert workbook_bytes(project) == before
