"""The bad-input corpus (tests/data/bad/cases.yaml): every case is one exact line, the right
exit code, and the workbook byte-for-byte unchanged (one run's malformed files at `sync`: its
status cell says the error, nothing else changes). Plus fuzzing of the readers."""

from __future__ import annotations

import json
import os
import sys
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
from tests.xlsx_helpers import runs_cells

CASES = yaml.safe_load((Path(__file__).parent / "data" / "bad" / "cases.yaml").read_text())
OUTSIDE_LOSS = 0.123  # the loss of a run folder outside the project: must never reach the sheet

_OPENED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    """Records every path opened or listed while a case's command runs."""
    watched = event in ("open", "os.listdir", "os.scandir")
    if _OPENED is not None and watched and args and isinstance(args[0], str | bytes | os.PathLike):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


def _edit(book: Path, action, ctx: dict[str, str]) -> None:
    wb = load_workbook(book)
    action(wb, wb["Runs"], ctx)
    wb.save(book)


def _col(ws, header: str) -> int:
    return [c.value for c in ws[1]].index(header) + 1


def _deep_json(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _state_row(wb, run_id: str) -> int:
    ws = wb["_sheetsync"]
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 2).value == run_id)


def _set_run(text: str):
    return lambda wb, ws, ctx: setattr(ws.cell(4, 1), "value", text.format(**ctx))


def _fit_row(wb, ws, ctx) -> None:
    scaling = wb["Scaling"]
    for col, value in enumerate(["f1", "b@2026-06-01", "2026-06-02", "compute"], 1):
        scaling.cell(2, col).value = value
    scaling.cell(2, _col(scaling, "parameters")).value = _deep_json(5000)


SHEET_EDITS = {
    "clear_header": lambda wb, ws, ctx: [setattr(c, "value", None) for c in ws[1]],
    "duplicate_header": lambda wb, ws, ctx: setattr(
        ws.cell(1, _col(ws, "notes")), "value", "final loss"
    ),
    "delete_column": lambda wb, ws, ctx: ws.delete_cols(_col(ws, "tokens")),
    "rename_key": lambda wb, ws, ctx: setattr(ws.cell(1, 1), "value", "run id"),
    "duplicate_run": lambda wb, ws, ctx: setattr(ws.cell(3, 1), "value", "r1"),
    "spaced_run": lambda wb, ws, ctx: setattr(ws.cell(2, 1), "value", " r1 "),
    "delete_tab": lambda wb, ws, ctx: wb.remove(ws),
    "delete_baselines_tab": lambda wb, ws, ctx: wb.remove(wb["Baselines"]),
    "formula_in_notes": lambda wb, ws, ctx: setattr(
        ws.cell(2, _col(ws, "notes")), "value", "=SUM(A1:A9)"
    ),
    "date_as_text": lambda wb, ws, ctx: setattr(
        ws.cell(2, _col(ws, "baseline date")), "value", "June 1 2026"
    ),
    "huge_notes": lambda wb, ws, ctx: setattr(ws.cell(2, _col(ws, "notes")), "value", "x" * 50_000),
    "traversal_run": _set_run("../../outside/runs/r1"),
    "absolute_run": _set_run("{outside}/runs/r1"),
    "subfolder_run": _set_run("sub/r3"),
    "dollar_run": _set_run("r$1$"),
    "long_run": _set_run("x" * 300),
    "dotdot_run": _set_run(".."),
    "deep_state": lambda wb, ws, ctx: _deep_state(wb),
    "deep_fit_params": _fit_row,
}


def _deep_state(wb: object) -> None:
    """r1's state JSON nested 5,000 deep, and its digest gone (a digest that still matched
    the row's cells would vouch for them without the JSON)."""
    row = _state_row(wb, "r1")
    wb["_sheetsync"].cell(row, 3).value = "[" * 5000 + "]" * 5000
    wb["_sheetsync"].cell(row, 4).value = None


def _generate(kind: str, run: Path) -> None:
    if kind == "big_config":
        (run / "config.yaml").write_text("pad: " + "x" * 10_000_010 + "\n")
    elif kind == "config_folder":
        (run / "config.yaml").mkdir()
    elif kind == "symlink_loop":
        (run / "config.yaml").unlink()
        (run / "config.yaml").symlink_to(run / "config.yaml")
    elif kind == "deep_progress":
        (run / "progress.json").write_text(_deep_json(100_000))
    elif kind == "deep_config":
        (run / "config.yaml").write_text("a:\n" + "".join(" " * i + "a:\n" for i in range(1, 200)))
    elif kind == "huge_loss":
        (run / "results.json").write_text('{"final_loss": 1' + "0" * 400 + "}")
    elif kind == "int_over_4300_digits":
        (run / "results.json").write_text('{"final_loss": ' + "7" * 5000 + "}")
    elif kind == "sub_run":
        write_run_folder(run.parent / "sub" / "r3")


def write_run_folder(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("a: 1\n")
    (folder / "results.json").write_text(json.dumps({"final_loss": OUTSIDE_LOSS}))


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (symlinks as their target text), to prove nothing changed.
    The sync lock (`.sheetsync/sync.lock`, what `flock` locks: the holder's pid) is not data."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.name == "sync.lock" and path.parent.name == ".sheetsync":
            continue
        if path.is_symlink():
            out[str(path)] = os.readlink(path).encode()
        elif path.is_file():
            out[str(path)] = path.read_bytes()
        else:
            out[str(path)] = b"<dir>"
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_is_one_line_right_exit_code_and_nothing_written(project, case):
    global _OPENED
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
    outside = project.root.parent / "outside"
    write_run_folder(outside / "runs" / "r1")
    book = Path(project.sheet_target)
    fill = {
        "run": str(run),
        "project": str(project.root),
        "book": str(book),
        "runs": str(project.runs_dir),
        "outside": str(outside),
        "long": "x" * 300,
        "long60": "x" * 60,
        "outside_run60": f"{outside}/runs/r1"[:60],
    }
    if "folder" in case:
        run = write_run(project, case["folder"])
        fill["run"] = str(run)
    for name in case.get("remove", []):
        (run / name).unlink()
    for name, content in case.get("files", {}).items():
        if isinstance(content, dict):
            (run / name).write_bytes(bytes.fromhex(content["bytes_hex"]))
        else:
            (run / name).write_text(content)
    for link, target in case.get("links", {}).items():
        Path(link.format(**fill)).symlink_to(target.format(**fill))
    if "generate" in case:
        _generate(case["generate"], run)
    for edit in [case["sheet"]] if isinstance(case.get("sheet"), str) else case.get("sheet", []):
        if edit == "corrupt_file":
            book.write_bytes(b"not a zip")
        else:
            _edit(book, SHEET_EDITS[edit], fill)
    if "project" in case:
        project.path.write_text(case["project"])
    if "layout_edit" in case:
        layout = project.root / "layout.yaml"
        old, new = case["layout_edit"]
        layout.write_text(layout.read_text().replace(old, new, 1))
    command = [part.format(**fill) for part in case.get("command", ["sync"])]
    before = book.read_bytes()
    disk = _tree(project.root.parent)
    _OPENED = []
    try:
        result = CliRunner().invoke(
            main,
            command if command[0] == "--config" else ["--config", str(project.path), *command],
            input=case.get("input"),
        )
    finally:
        opened, _OPENED = _OPENED, None
    assert [p for p in opened if p.startswith(str(outside))] == []
    assert _tree(outside) == {k: v for k, v in disk.items() if k.startswith(str(outside) + "/")}
    expected = case.get("exit", 1)
    assert result.exit_code == expected, result.output
    if _one_run(case):
        _check_one_run_case(case, project, run, fill, result, before, disk)
    elif expected:
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        assert result.output.strip() == "Error: " + case["message"].format(**fill)
        assert book.read_bytes() == before
        assert _tree(project.root.parent) == disk
    else:
        for line in case.get("output_has", []):
            assert line.format(**fill) in result.output.splitlines(), result.output
        _check_ok_case(case["id"], project, result.output)
    if book.exists() and book.read_bytes()[:2] == b"PK":
        values = [
            c for ws in load_workbook(book) for row in ws.iter_rows(values_only=True) for c in row
        ]
        assert OUTSIDE_LOSS not in values


def _one_run(case: dict) -> bool:
    """A case of one run's malformed files, met by a plain `sync`: the run's row says the
    error, every other run is synced, and the exit code is 1."""
    message = str(case.get("message", ""))
    return "command" not in case and message.startswith("{run}") and "sheet" not in case


def _check_one_run_case(case, project, run, fill, result, before, disk) -> None:
    message = case["message"].format(**fill)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: " + message], result.output
    book = Path(project.sheet_target)
    status = "error: " + message.removeprefix(f"{run}: ").replace(f"{run}/", "")
    old, new = runs_cells(before), runs_cells(book.read_bytes())
    changed = {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v}
    assert changed == {("r1", "status"): ("finished", status)}, changed
    kept = {k: v for k, v in disk.items() if "/.sheetsync/" not in k and k != str(book)}
    now = _tree(project.root.parent)
    assert {k: v for k, v in now.items() if k in kept or k not in disk} == kept


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
    elif case_id.startswith("sheet-run-cell-"):
        # the row typed by hand is ignored: nothing written into it; r1 still synced
        assert ws.cell(4, _col(ws, "final loss")).value is None
        assert ws.cell(4, _col(ws, "status")).value is None
        assert ws.cell(2, _col(ws, "final loss")).value == 1.9
    elif case_id == "run-id-with-spaces":
        assert ws.cell(2, _col(ws, "final loss")).value == 2.4  # the ignored row is untouched


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
