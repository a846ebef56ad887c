"""A state tab a person deleted or emptied is reported, not silently taken to mean that every
value sheetsync wrote is a person's edit; `init --repair` rebuilds it (both backends)."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.helpers import cli, write_run
from tests.test_google_backend import emulator, gproject, tab  # noqa: F401 - fixtures


def _added_and_synced(project) -> None:
    for run_id, loss in (("r1", 2.5), ("r2", 2.4)):
        write_run(project, run_id, changes={"model.prores": True}, loss=loss)
        added = cli(project, "add", str(project.runs_dir / run_id), "-q", "q", "-b", "b", "-y")
        assert added.exit_code == 0, added.output
    assert cli(project, "sync").exit_code == 0


def _delete_state_local(project) -> None:
    wb = load_workbook(project.sheet_target)
    del wb["_sheetsync"]
    wb.save(project.sheet_target)


def _loss_cell_local(project, run_id: str):
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[0] == run_id:
            return row[header.index("final loss")]
    raise AssertionError(run_id)


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_local_state_tab_lost_is_reported_and_repaired(project, how):
    _added_and_synced(project)
    if how == "deleted":
        _delete_state_local(project)
    else:
        wb = load_workbook(project.sheet_target)
        ws = wb["_sheetsync"]
        ws.delete_rows(2, ws.max_row)
        wb.save(project.sheet_target)
    write_run(project, "r1", changes={"model.prores": True}, loss=2.3)  # a newer result
    refused = cli(project, "sync")
    assert refused.exit_code == 1
    gone = "is gone" if how == "deleted" else "is empty"
    assert (
        refused.output.strip()
        .splitlines()[-1]
        .endswith(
            f"the hidden '_sheetsync' tab, where sheetsync keeps what it wrote, {gone} while the "
            "Runs tab has results; run `sheetsync init --repair` to rebuild it from the sheet"
        )
    )
    repaired = cli(project, "init", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert "from 2 rows" in repaired.output
    dry = cli(project, "sync", "--dry-run")
    assert "2.5 -> 2.3" in dry.output
    synced = cli(project, "sync")
    assert synced.exit_code == 0 and "edited by people" not in synced.output
    assert _loss_cell_local(project, "r1") == 2.3


def test_google_state_tab_deleted_is_reported_and_repaired(gproject, emulator):  # noqa: F811
    _added_and_synced(gproject)
    emulator.books[next(iter(emulator.books))].delete_sheet("_sheetsync")
    refused = cli(gproject, "sync")
    assert refused.exit_code == 1 and "run `sheetsync init --repair`" in refused.output
    assert cli(gproject, "init", "--repair").exit_code == 0
    assert cli(gproject, "sync").exit_code == 0
