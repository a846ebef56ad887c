"""The bad-input corpus (tests/data/bad/cases.yaml): every case is one exact line, the right
exit code, and the workbook byte-for-byte unchanged. Plus fuzzing of the readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from sheetsync.cli import main
from sheetsync.errors import SheetsyncError
from sheetsync.layout import parse_layout
from sheetsync.records.runs import read_run
from tests.helpers import cli, write_run

CASES = yaml.safe_load((Path(__file__).parent / "data" / "bad" / "cases.yaml").read_text())


def _edit(book: Path, action) -> None:
    wb = load_workbook(book)
    action(wb, wb["Runs"])
    wb.save(book)


def _col(ws, header: str) -> int:
    return [c.value for c in ws[1]].index(header) + 1


SHEET_EDITS = {
    "clear_header": lambda wb, ws: [setattr(c, "value", None) for c in ws[1]],
    "duplicate_header": lambda wb, ws: setattr(
        ws.cell(1, _col(ws, "notes")), "value", "final loss"
    ),
    "delete_column": lambda wb, ws: ws.delete_cols(_col(ws, "tokens")),
    "rename_key": lambda wb, ws: setattr(ws.cell(1, 1), "value", "run id"),
    "duplicate_run": lambda wb, ws: setattr(ws.cell(3, 1), "value", "r1"),
    "spaced_run": lambda wb, ws: setattr(ws.cell(2, 1), "value", " r1 "),
    "delete_tab": lambda wb, ws: wb.remove(ws),
    "formula_in_notes": lambda wb, ws: setattr(
        ws.cell(2, _col(ws, "notes")), "value", "=SUM(A1:A9)"
    ),
    "date_as_text": lambda wb, ws: setattr(
        ws.cell(2, _col(ws, "baseline date")), "value", "June 1 2026"
    ),
    "huge_notes": lambda wb, ws: setattr(ws.cell(2, _col(ws, "notes")), "value", "x" * 50_000),
}


def _generate(kind: str, run: Path) -> None:
    if kind == "big_config":
        (run / "config.yaml").write_text("pad: " + "x" * 10_000_010 + "\n")
    elif kind == "config_folder":
        (run / "config.yaml").mkdir()
    elif kind == "symlink_loop":
        (run / "config.yaml").unlink()
        (run / "config.yaml").symlink_to(run / "config.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_is_one_line_right_exit_code_and_nothing_written(project, case):
    run = write_run(project, "r1", loss=2.4)
    write_run(project, "r2", loss=2.5)
    for run_id in ("r1", "r2"):
        assert (
            cli(
                project, "add", str(project.runs_dir / run_id), "-q", "q", "-b", "b", "--yes"
            ).exit_code
            == 0
        )
    assert cli(project, "sync").exit_code == 0
    (run / "results.json").write_text(json.dumps({"final_loss": 1.9, "flops": 6e18}))
    book = Path(project.sheet_target)
    for name in case.get("remove", []):
        (run / name).unlink()
    for name, content in case.get("files", {}).items():
        if isinstance(content, dict):
            (run / name).write_bytes(bytes.fromhex(content["bytes_hex"]))
        else:
            (run / name).write_text(content)
    if "generate" in case:
        _generate(case["generate"], run)
    if "sheet" in case:
        if case["sheet"] == "corrupt_file":
            book.write_bytes(b"not a zip")
        else:
            _edit(book, SHEET_EDITS[case["sheet"]])
    if "project" in case:
        project.path.write_text(case["project"])
    if "layout_edit" in case:
        layout = project.root / "layout.yaml"
        old, new = case["layout_edit"]
        layout.write_text(layout.read_text().replace(old, new, 1))
    fill = {"run": str(run), "project": str(project.root), "book": str(book)}
    command = [part.format(**fill) for part in case.get("command", ["sync"])]
    before = book.read_bytes()
    result = CliRunner().invoke(
        main, command if command[0] == "--config" else ["--config", str(project.path), *command]
    )
    expected = case.get("exit", 1)
    assert result.exit_code == expected, result.output
    if expected:
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        assert result.output.strip() == "Error: " + case["message"].format(**fill)
        assert book.read_bytes() == before
    else:
        _check_ok_case(case["id"], project, result.output)


def _check_ok_case(case_id: str, project, output: str) -> None:
    ws = load_workbook(project.sheet_target)["Runs"]
    if case_id == "formula-text-in-person-cell":
        assert ws.cell(2, _col(ws, "notes")).value == "=SUM(A1:A9)"
        assert ws.cell(2, _col(ws, "final loss")).value == 1.9
    elif case_id == "date-typed-as-text":
        assert ws.cell(2, _col(ws, "baseline date")).value == "June 1 2026"
        assert ws.cell(2, _col(ws, "checks")).value.startswith("fail: baseline")
    elif case_id == "huge-person-cell":
        # a .xlsx cell holds at most 32,767 characters (Excel's limit; openpyxl cuts there)
        assert ws.cell(2, _col(ws, "notes")).value == "x" * 32_767
        assert ws.cell(2, _col(ws, "final loss")).value == 1.9
    elif case_id == "eval-file-wrong-shape":
        assert "evals of r1:" in output and "expected a mapping of task -> metrics" in output
        assert ws.cell(2, _col(ws, "hellaswag")).value == (
            "error: expected a mapping of task -> metrics"
        )


def test_corpus_has_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({c["id"] for c in CASES}) == len(CASES)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=6),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=12), kids, max_size=5)
    ),
    max_leaves=15,
)
FILES = ["config.yaml", "progress.json", "results.json", "launch.json"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(FILES), data=JSONISH | st.binary(max_size=60))
def test_run_reader_only_raises_sheetsync_errors(tmp_path, name, data):
    folder = tmp_path / "fuzz"
    folder.mkdir(exist_ok=True)
    (folder / "config.yaml").write_text("a: 1\n")
    for f in FILES[1:]:
        (folder / f).unlink(missing_ok=True)
    path = folder / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(json.dumps(data) if name.endswith(".json") else yaml.safe_dump(data))
    try:
        run = read_run(folder)
        _ = (run.status, run.fingerprint, run.finished)
    except SheetsyncError as exc:
        assert "\n" not in str(exc)


KEYS = st.sampled_from(["key", "header", "owner", "type", "meaning", "eval", "x"])
COLUMN = st.dictionaries(
    KEYS, JSONISH | st.sampled_from(["run", "result", "person", "launch", "text"]), max_size=6
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["runs", "baselines", "scaling", "tabs", "eval_scale", "other"]),
        st.lists(COLUMN, max_size=4) | JSONISH,
        max_size=5,
    )
)
def test_layout_parser_only_raises_sheetsync_errors(data):
    try:
        parse_layout(data, "layout.yaml")
    except SheetsyncError as exc:
        assert "\n" not in str(exc)
