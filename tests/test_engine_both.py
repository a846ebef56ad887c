"""The sync engine's promises, run the same way on both backends: the local workbook and a
Google Sheet (the real gspread client against the local Sheets API emulator)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from sheetsync.cli import main
from sheetsync.project import load_project
from sheetsync.science.gain import interval_of, tone
from sheetsync.sheet.init import init_sheet, write_project_files
from tests.conftest import BASE, write_run
from tests.sheets_emulator import Emulator

KEY = "engine-suite-key"


class Sheet:
    """What a test needs from either backend: read the Runs tab, edit it as a person."""

    def __init__(self, project, emulator: Emulator | None):
        self.project, self.emulator = project, emulator

    def grid(self, tab: str = "Runs") -> list[list]:
        if self.emulator is not None:
            return [list(r) for r in self.emulator.books[KEY].sheet(tab).grid()]
        ws = load_workbook(self.project.sheet_target)[tab]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        while rows and not any(v is not None for v in rows[-1]):
            rows.pop()
        return rows

    def set_grid(self, grid: list[list], tab: str = "Runs") -> None:
        """A person rewrites the tab (sorts, inserts, moves columns, types in cells)."""
        if self.emulator is not None:
            sheet = self.emulator.books[KEY].sheet(tab)
            sheet.cols = max(sheet.cols, max(len(r) for r in grid))
            sheet.cells.clear()
            for r, row in enumerate(grid, 1):
                for c, v in enumerate(row, 1):
                    sheet.put(r, c, v)
            return
        wb = load_workbook(self.project.sheet_target)
        ws = wb[tab]
        ws.delete_rows(1, ws.max_row + 1)
        for r, row in enumerate(grid, 1):
            for c, v in enumerate(row, 1):
                ws.cell(r, c).value = v
        wb.save(self.project.sheet_target)

    def edit(self, change: Callable[[list[list]], None]) -> None:
        grid = self.grid()
        width = max(len(r) for r in grid)
        for r in grid:
            r.extend([None] * (width - len(r)))
        change(grid)
        self.set_grid(grid)

    def rows(self) -> dict[str, dict]:
        grid = self.grid()
        key = grid[0].index("run")
        return {
            r[key]: dict(zip(grid[0], r, strict=False)) for r in grid[1:] if len(r) > key and r[key]
        }

    def fingerprint(self) -> object:
        if self.emulator is not None:
            return [s.grid() for s in self.emulator.books[KEY].sheets]
        return open(self.project.sheet_target, "rb").read()


@pytest.fixture(params=["local", "google"])
def sheet(request, tmp_path, monkeypatch):
    root = tmp_path / "proj"
    write_project_files(root)
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    emulator = None
    if request.param == "google":
        emulator = Emulator()
        emulator.create(KEY).add_sheet("Sheet1")
        monkeypatch.setenv("SHEETSYNC_SHEETS_API", emulator.base)
        config = root / "sheetsync.yaml"
        config.write_text(
            config.read_text().replace("  local: experiments.xlsx", f"  google: {KEY}")
        )
    project = load_project(root / "sheetsync.yaml")
    init_sheet(project)
    yield Sheet(project, emulator)
    if emulator is not None:
        emulator.close()


def cli(sheet: Sheet, *args: str, input: str | None = None):
    return CliRunner().invoke(main, ["--config", str(sheet.project.path), *args], input=input)


def add(sheet: Sheet, run_id: str, question: str = "q", **kw) -> None:
    write_run(sheet.project, run_id, **kw)
    result = cli(
        sheet, "add", str(sheet.project.runs_dir / run_id), "-q", question, "-b", "b", "--yes"
    )
    assert result.exit_code == 0, result.output


def set_loss(sheet: Sheet, run_id: str, loss: float) -> None:
    path = sheet.project.runs_dir / run_id / "results.json"
    path.write_text(json.dumps({"final_loss": loss, "flops": 6e18}))


def test_sync_is_idempotent(sheet):
    add(sheet, "a", loss=2.4)
    add(sheet, "b", step=10, state="killed")
    assert "wrote" in cli(sheet, "sync").output
    rows = sheet.rows()
    assert rows["a"]["final loss"] == 2.4 and rows["b"]["final loss"] == "unfinished"
    before = sheet.fingerprint()
    assert "up to date: 2 runs" in cli(sheet, "sync").output
    assert sheet.fingerprint() == before


def test_the_first_sync_after_init_says_it_wrote_the_review_tab(sheet):
    first = cli(sheet, "sync")
    assert first.exit_code == 0, first.output
    assert "wrote the Review tab of " in first.output and "0 runs checked" in first.output
    assert sheet.grid("Review")[0][0].startswith("Review: ")
    assert "up to date: 0 runs checked" in cli(sheet, "sync").output


def test_a_seed_does_not_turn_a_1_02x_run_green(sheet):
    """A ladder whose rungs lie 0.05% off the law, so the law itself is known to about 1%: a
    run 2% better than the law has a gain interval that holds 1 once its own scatter counts
    (the law's draws alone gave 1.010-1.029x: green), and a run 5% better stays green."""
    E, A, ALPHA = 1.7, 1145.0, 0.155
    off = [0.0005, -0.0005, 0.00025, -0.000375, 0.0005, -0.00025]
    runs = [(f"ladder-{i}", c, 1.0, "ladder") for i, c in enumerate([1e18, 3e18, 1e19, 3e19])]
    runs += [("ladder-4", 1e20, 1.0, "ladder"), ("ladder-5", 3e20, 1.0, "ladder")]
    runs += [("m-102", 2e19, 1.02, "feature"), ("m-105", 2e19, 1.05, "feature")]
    for i, (run_id, c, k, role) in enumerate(runs):
        folder = write_run(sheet.project, run_id, changes={"model.d_model": 256 * (i + 1)})
        loss = (E + A * (c * k) ** -ALPHA) * (1 + (off[i] if role == "ladder" else 0.0))
        (folder / "results.json").write_text(json.dumps({"final_loss": loss, "flops": c}))
        added = cli(sheet, "add", str(folder), "-q", "q", "-b", "b", "--role", role, "--yes")
        assert added.exit_code == 0, added.output
    assert cli(sheet, "sync").exit_code == 0
    assert cli(sheet, "fit", "b").exit_code == 0
    assert cli(sheet, "sync").exit_code == 0
    rows = sheet.rows()
    near, clear = (interval_of(rows[r]["gain 90%"]) for r in ("m-102", "m-105"))
    assert near[0] < 1 < near[1] and tone(*near) is None, near
    assert tone(*clear) == "better", clear


def test_dry_run_writes_nothing(sheet):
    add(sheet, "a", loss=2.4)
    before = sheet.fingerprint()
    result = cli(sheet, "sync", "--dry-run")
    assert "final loss (O2): (empty) -> 2.4" in result.output
    assert sheet.fingerprint() == before


def test_person_edit_of_result_cell_is_kept_and_reported_unless_overwrite(sheet):
    add(sheet, "a", loss=2.4)
    cli(sheet, "sync")
    sheet.edit(lambda g: g[1].__setitem__(g[0].index("final loss"), 2.0))
    set_loss(sheet, "a", 2.3)
    result = cli(sheet, "sync")
    assert "edited by a person: sheet has 2, sheetsync has 2.3 (kept)" in result.output
    assert sheet.rows()["a"]["final loss"] == 2.0
    cli(sheet, "sync", "--overwrite")
    assert sheet.rows()["a"]["final loss"] == 2.3


def test_a_cell_already_showing_the_new_value_refreshes_its_record(sheet):
    """The result cell reached the new loss another way (a restore, a paste) and nothing else
    changes in that sync: no cell is written, but the state record is, so the next new loss
    is sheetsync's update and not taken for a person's edit."""
    add(sheet, "a", loss=2.4)
    cli(sheet, "sync")
    sheet.edit(lambda g: g[1].__setitem__(g[0].index("final loss"), 2.3))
    set_loss(sheet, "a", 2.3)
    result = cli(sheet, "sync")
    assert result.exit_code == 0 and "edited by a person" not in result.output
    set_loss(sheet, "a", 2.2)
    result = cli(sheet, "sync")
    assert result.exit_code == 0 and "edited by a person" not in result.output
    assert sheet.rows()["a"]["final loss"] == 2.2


def test_launch_cell_edit_is_reported_never_rewritten(sheet):
    add(sheet, "a")
    sheet.edit(lambda g: g[1].__setitem__(g[0].index("baseline"), "other"))
    result = cli(sheet, "sync")
    assert "launch cell changed since `add`" in result.output
    assert sheet.rows()["a"]["baseline"] == "other"


def test_formula_looking_text_stays_text(sheet):
    for i, text in enumerate(["=1+1", "+x", "-y", "@z"]):
        add(sheet, f"r{i}", question=text)
    assert [sheet.rows()[f"r{i}"]["question"] for i in range(4)] == ["=1+1", "+x", "-y", "@z"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g[2].__setitem__(g[0].index("run"), "a"), "run 'a' appears in rows 2 and 3"),
        (
            lambda g: g[0].__setitem__(g[0].index("tokens"), "toks"),
            "column 'tokens' is missing from the header row",
        ),
        (
            lambda g: g[0].__setitem__(g[0].index("notes"), "status"),
            "column 'status' appears twice in the header",
        ),
    ],
)
def test_mangled_sheet_is_one_line_error_and_nothing_written(sheet, change, message):
    add(sheet, "a")
    add(sheet, "b")
    sheet.edit(change)
    before = sheet.fingerprint()
    result = cli(sheet, "sync")
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert sheet.fingerprint() == before


def test_a_malformed_run_says_so_in_its_status_and_the_others_are_synced(sheet):
    add(sheet, "a", loss=2.4)
    add(sheet, "b", loss=2.6)
    assert cli(sheet, "sync").exit_code == 0
    set_loss(sheet, "a", 2.3)
    set_loss(sheet, "b", 2.5)
    (sheet.project.runs_dir / "a" / "results.json").write_text('{"final_loss": 2.0')
    result = cli(sheet, "sync")
    assert result.exit_code == 1
    path = sheet.project.runs_dir / "a" / "results.json"
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == [f"Error: {path}:1: invalid JSON (Expecting ',' delimiter)"]
    rows = sheet.rows()
    assert rows["a"]["status"] == "error: results.json:1: invalid JSON (Expecting ',' delimiter)"
    assert rows["a"]["final loss"] == 2.4  # as last synced: the broken file is not read
    assert rows["b"]["status"] == "finished" and rows["b"]["final loss"] == 2.5
    (sheet.project.runs_dir / "a" / "results.json").write_text('{"final_loss": 2.3}')
    assert cli(sheet, "sync").exit_code == 0  # fixed: the row is a run again
    assert sheet.rows()["a"]["status"] == "finished" and sheet.rows()["a"]["final loss"] == 2.3


def test_a_nan_loss_is_a_diverged_run_and_every_other_run_is_written(sheet):
    add(sheet, "a", loss=2.4)
    add(sheet, "nan", step=2113, steps_planned=5722, state="killed")
    (sheet.project.runs_dir / "nan" / "results.json").write_text('{"final_loss": NaN}')
    add(sheet, "inf", step=5722, steps_planned=5722, loss=float("inf"))
    result = cli(sheet, "sync")
    assert result.exit_code == 0, result.output
    rows = sheet.rows()
    assert rows["a"]["status"] == "finished" and rows["a"]["final loss"] == 2.4
    assert rows["nan"]["status"] == "diverged at step 2,113/5,722"
    assert rows["inf"]["status"] == "diverged at step 5,722/5,722"
    for run in ("nan", "inf"):
        assert rows[run]["final loss"] == "diverged"
        assert rows[run]["eval avg (0-1)"] == "diverged" and rows[run]["gain"] == "diverged"
        assert rows[run]["checks"] == "fail: feature, diverged"  # check's finished rule


def test_init_again_adds_only_missing_owned_columns_at_the_right_end(sheet):
    add(sheet, "a")
    sheet.edit(lambda g: [r.__setitem__(g[0].index("gain"), None) for r in g[:1]])
    result = cli(sheet, "init")
    assert "added column 'gain' to the Runs tab" in result.output
    header = sheet.grid()[0]
    assert header[-1] == "gain" and header.count("gain") == 1


EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("sort"), st.integers(0, 10**6)),
        st.tuples(st.just("blank"), st.integers(0, 10)),
        st.tuples(st.just("move"), st.integers(0, 40), st.integers(0, 40)),
        st.tuples(st.just("own"), st.integers(0, 3)),
        st.tuples(
            st.just("note"),
            st.integers(0, 10),
            st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), min_size=1, max_size=5),
        ),
    ),
    max_size=6,
)


def person(grid: list[list], edits: list[tuple]) -> None:
    for edit in edits:
        body = grid[1:]
        if edit[0] == "sort":
            random.Random(edit[1]).shuffle(body)
            grid[1:] = body
        elif edit[0] == "blank":
            grid.insert(1 + edit[1] % (len(body) + 1), [None] * len(grid[0]))
        elif edit[0] == "move":
            a, b = edit[1] % len(grid[0]), edit[2] % len(grid[0])
            for r in grid:
                r.insert(b, r.pop(a))
        elif edit[0] == "own" and f"mine {edit[1]}" not in grid[0]:
            for i, r in enumerate(grid):
                r.append(
                    f"mine {edit[1]}" if i == 0 else ("x" if r[grid[0].index("run")] else None)
                )
        elif edit[0] == "note":
            rows = [r for r in grid[1:] if r[grid[0].index("run")]]
            rows[edit[1] % len(rows)][grid[0].index("notes")] = edit[2]


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=EDITS, losses=st.lists(st.floats(1.0, 4.0), min_size=3, max_size=3))
def test_human_edits_then_sync_writes_right_cells_and_nothing_else(sheet, edits, losses):
    if not sheet.rows():
        for i in range(3):
            add(sheet, f"r{i}", loss=2.0)
    cli(sheet, "sync")
    sheet.edit(lambda g: person(g, edits))
    before = copy.deepcopy(sheet.grid())
    for i, loss in enumerate(losses):
        set_loss(sheet, f"r{i}", round(loss, 4))
    assert cli(sheet, "sync").exit_code == 0
    after = sheet.grid()
    header = after[0]
    assert header == before[0]
    for r, (old, new) in enumerate(zip(before, after, strict=False)):
        for c, (a, b) in enumerate(zip(old, new, strict=False)):
            if a != b:
                assert r > 0 and header[c] in ("final loss", "checks", "status"), (header[c], a, b)
    rows = sheet.rows()
    assert [rows[f"r{i}"]["final loss"] for i in range(3)] == [round(x, 4) for x in losses]
    assert "up to date" in cli(sheet, "sync").output
