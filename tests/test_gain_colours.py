"""Gains are coloured only when their 90% interval says so, in the workbook and the report."""

from __future__ import annotations

import csv
import shutil
import subprocess

import pytest
from openpyxl import Workbook, load_workbook

from sheetsync.science.gain import interval_of, tone
from sheetsync.sheet.colours import gain_rules
from sheetsync.views.report import _tone

# (gain cell, interval cell, expected colour): green, red or none
CASES = [
    (1.2, "1.050-1.300x", "green"),
    (0.8, "0.700-0.950x", "red"),
    (1.0011, "0.990-1.012x", None),  # shows 1.00x, interval holds 1
    (0.9993, "0.985-1.010x", None),
    (1.5, "1.200-infx; upper bound beyond the floor in resamples", "green"),
    (0.9, "0.500-infx", None),
    (1.3, "", None),  # no interval: no colour
    (None, "", None),  # a baseline's own run: empty
    ("unfinished", "", None),
    ("beyond the fit's floor", "beyond the fit's floor (loss ...)", None),
    (1.1, "1.020-1.300x; extrapolating 4.0x above the ladder", "green"),
]


@pytest.mark.parametrize("gain,interval,expected", CASES)
def test_interval_decides_the_tone(gain, interval, expected):
    bounds = interval_of(interval) if isinstance(gain, float) else None
    verdict = tone(*bounds) if bounds else None
    assert {"better": "green", "worse": "red", None: None}[verdict] == expected
    assert (
        _tone({"gain": gain, "gain_interval": interval})
        == {
            "green": " good",
            "red": " bad",
            None: "",
        }[expected]
    )


def test_workbook_rules_colour_by_the_interval_not_the_sign(project):
    from sheetsync.sheet.init import format_sheet

    format_sheet(project)
    ws = load_workbook(project.sheet_target)["Runs"]
    rules = [(str(cf.sqref), r) for cf in ws.conditional_formatting for r in cf.rules]
    gain_rules_found = [
        (s, r) for s, r in rules if r.type == "expression" and "FIND" in r.formula[0]
    ]
    assert len(gain_rules_found) == 4  # better and worse, for the gain and the anchored gain
    assert len({s for s, _ in gain_rules_found}) == 2
    assert not [r for _, r in rules if r.type == "cellIs"]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_the_rule_formulas_evaluate_as_intended_in_libreoffice(tmp_path, office_profile):
    """The formulas themselves, evaluated by LibreOffice (as the conditional format would)."""
    wb = Workbook()
    ws = wb.active
    better, worse = gain_rules("A", "B")
    for row, (gain, interval, _) in enumerate(CASES, 2):
        ws.cell(row, 1, gain)
        ws.cell(row, 2, interval)
        ws.cell(row, 3, "=" + better.replace("2", str(row)))
        ws.cell(row, 4, "=" + worse.replace("2", str(row)))
    book = tmp_path / "rules.xlsx"
    wb.save(book)
    subprocess.run(
        ["soffice", f"-env:UserInstallation={office_profile}", "--headless", "--convert-to",
         "csv", "--outdir", str(tmp_path), str(book)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    rows = list(csv.reader((tmp_path / "rules.csv").open()))[1:]
    for (gain, interval, expected), row in zip(CASES, rows, strict=True):
        got = "green" if row[2] == "TRUE" else ("red" if row[3] == "TRUE" else None)
        assert got == expected, (gain, interval, row)
