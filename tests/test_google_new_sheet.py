"""Day one on Google: a brand-new spreadsheet (its only tab the default 1000 x 26 `Sheet1`)
and a layout wider than 26 columns, against an emulator that refuses reads past a tab's grid
as the API does (HTTP 400 "exceeds grid limits")."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.sheet.init import write_project_files
from tests.helpers import BASE, write_run
from tests.sheets_emulator import Emulator
from tests.sheets_emulator.model import DEFAULT_COLS, DEFAULT_ROWS

KEY = "1NewSheetNewSheetNewSheetNewSheet0123456"
E, A, ALPHA = 1.7, 1145.0, 0.155
EXTRA = ["reviewer", "link", "tag"]  # people's columns past the template's 29


@pytest.fixture
def emulator(monkeypatch):
    emu = Emulator()
    emu.create(KEY).add_sheet("Sheet1")
    monkeypatch.setenv("SHEETSYNC_SHEETS_API", emu.base)
    yield emu
    emu.close()


def run(config, *args):
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result


def test_init_baseline_add_sync_fit_on_a_new_sheet_wider_than_its_grid(tmp_path, emulator):
    sheet1 = emulator.books[KEY].sheet("Sheet1")
    assert (sheet1.rows, sheet1.cols) == (DEFAULT_ROWS, DEFAULT_COLS) == (1000, 26)
    root = tmp_path / "proj"
    write_project_files(root)
    config = root / "sheetsync.yaml"
    config.write_text(
        config.read_text().replace(
            "  local: experiments.xlsx", f"  google: https://docs.google.com/spreadsheets/d/{KEY}"
        )
    )
    layout = root / "layout.yaml"
    extra = "".join(
        f'  - {{key: {h}, header: {h}, owner: person, type: text, meaning: "{h}"}}\n' for h in EXTRA
    )
    layout.write_text(layout.read_text().replace("\nbaselines:\n", f"{extra}\nbaselines:\n"))

    run(config, "init")
    runs_tab = emulator.books[KEY].sheet("Runs")
    header = runs_tab.grid()[0]
    assert len(header) == 34 > runs_tab.cols - 1 and header[-3:] == EXTRA
    assert runs_tab.cols >= 34  # grown before the header was written
    assert "Range" not in run(config, "init").output  # a second init reads within the grid

    cfg = tmp_path / "b.yaml"
    cfg.write_text(yaml.safe_dump(BASE))
    run(config, "baseline", "add", "b", "--config", str(cfg), "--date", "2026-06-01")
    for i, c in enumerate([1e18, 3e18, 1e19, 3e19, 1e20, 3e20]):
        _add(config, root, f"ladder-{i}", c, 1.0, "ladder", {"model.d_model": 256 * (i + 1)})
    _add(config, root, "prores", 2e19, 1.2, "feature", {"model.prores": True})
    run(config, "sync")
    fitted = json.loads(run(config, "fit", "b", "--json").output)
    assert fitted["alpha"] == pytest.approx(ALPHA, rel=1e-3) and fitted["n_runs"] == 6
    assert emulator.books[KEY].sheet("Scaling").grid()[1][0]  # the fit, recorded
    run(config, "sync")
    assert "up to date" in run(config, "sync").output

    grid = runs_tab.grid()
    rows = {r[0]: dict(zip(grid[0], r, strict=False)) for r in grid[1:]}
    assert rows["prores"]["gain"] == pytest.approx(1.2, rel=2e-3)
    assert rows["prores"]["fit"] and rows["prores"]["checks"]  # columns Z and AA, past the grid
    assert len(rows) == 7
    # every values read named a range inside its tab's grid (the emulator would have said 400)
    assert emulator.ranges_read


def _add(config, root, run_id, compute, gain, role, changes):
    class _P:  # write_run needs only the runs folder
        runs_dir = root / "runs"

    folder = write_run(_P(), run_id, changes=changes)  # type: ignore[arg-type]
    law = E + A * (compute * gain) ** -ALPHA
    (folder / "results.json").write_text(json.dumps({"final_loss": law, "flops": compute}))
    run(config, "add", str(folder), "-q", f"q {run_id}", "-b", "b", "--role", role, "--yes")
