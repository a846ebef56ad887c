"""A formula a person typed into a result cell of the workbook is a person's edit, kept and
reported, whether or not the file keeps its value: openpyxl and pandas (through openpyxl)
save formulas without one, and such a cell must not be taken for an empty one and filled."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from openpyxl import load_workbook

from sheetsync.sheet.backends import xlsx as xp
from tests.helpers import cli, write_run


def _loss_cell(project, run: str) -> str:
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == run)
    return ws.cell(row, header.index("final loss") + 1).coordinate


def _cache(path, cell: str, cached: str) -> None:
    """Give the formula in `cell` the value an office program would have kept."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    name = next(n for n in parts if n.startswith("xl/worksheets/") and b"<f>1/0" in parts[n])
    xml = parts[name].decode()
    xml = re.sub(
        rf'<c r="{cell}"([^>]*)><f>1/0</f><v\s*/>',
        rf'<c r="{cell}"\1 t="e"><f>1/0</f><v>{cached}</v>',
        xml,
    )
    parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, body in parts.items():
            z.writestr(n, body)


@pytest.mark.parametrize("cached", [False, True])
def test_a_persons_formula_in_a_result_cell_is_kept_and_reported(project, cached):
    write_run(project, "r1", loss=2.5)
    added = cli(project, "add", str(project.runs_dir / "r1"), "-q", "q", "-b", "b", "-y")
    assert added.exit_code == 0, added.output
    assert cli(project, "sync").exit_code == 0
    cell = _loss_cell(project, "r1")
    wb = load_workbook(project.sheet_target)
    wb["Runs"][cell] = "=1/0"  # a person, through openpyxl: saved without a value
    wb.save(project.sheet_target)
    if cached:
        _cache(project.sheet_target, cell, "#DIV/0!")
    (project.runs_dir / "r1" / "results.json").write_text(
        json.dumps({"final_loss": 2.3, "flops": 6e18})
    )
    grid = xp.read_sheets(project.sheet_target, ["Runs"])["Runs"]
    shown = "#DIV/0!" if cached else "=1/0"
    assert shown in [v for row in grid for v in row]  # never read as an empty cell
    result = cli(project, "sync")
    assert result.exit_code == 0, result.output
    assert "edited by a person" in result.output
    assert load_workbook(project.sheet_target)["Runs"][cell].value == "=1/0"  # kept
    overwritten = cli(project, "sync", "--overwrite")
    assert overwritten.exit_code == 0, overwritten.output
    assert load_workbook(project.sheet_target)["Runs"][cell].value == 2.3
