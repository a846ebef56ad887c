"""A workbook open in an office program is not written behind its back, and a row lost to
that program's save is noticed by `sync` and put back by `add --restore`."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.helpers import cli, write_run


def _runs(project) -> list[str]:
    ws = load_workbook(project.sheet_target)["Runs"]
    return [r[0] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]


def _add(project, run_id: str, *extra: str):
    write_run(project, run_id)
    folder = project.runs_dir / run_id
    return cli(project, "add", str(folder), "-q", "Does it help?", "-b", "b", "--yes", *extra)


def test_add_and_sync_refuse_while_libreoffice_holds_the_workbook(project):
    book = Path(project.sheet_target)
    lock = book.parent / f".~lock.{book.name}#"
    lock.write_text(",someone,host,25.11.2026 10:00,file:///...;")
    before = book.read_bytes()
    result = _add(project, "r1")
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {book} is open in an office program ({lock.name}); close it there first "
        "(its next save would drop this change), or pass --force"
    )
    assert book.read_bytes() == before
    assert not (project.runs_dir / "r1" / ".sheetsync-launch.json").exists()
    forced = _add(project, "r1", "--force")
    assert forced.exit_code == 0, forced.output
    assert _runs(project) == ["r1"]
    lock.unlink()


def test_excel_owner_file_counts_as_open(project):
    book = Path(project.sheet_target)
    (book.parent / f"~${book.name}").write_bytes(b"\x00" * 162)
    assert _add(project, "r1").exit_code == 1
    assert _runs(project) == []


def test_a_lost_row_is_reported_by_sync_and_restored_by_add_restore(project):
    assert _add(project, "r1").exit_code == 0
    assert _add(project, "r2").exit_code == 0
    # an office program's save from before the add wins: r2's row is gone
    wb = load_workbook(project.sheet_target)
    ws = wb["Runs"]
    ws.delete_rows(3)
    wb.save(project.sheet_target)
    assert _runs(project) == ["r1"]
    synced = cli(project, "sync")
    assert synced.exit_code == 0, synced.output
    folder = project.runs_dir / "r2"
    assert (
        f"run r2 was added but has no row in the sheet: `sheetsync add --restore {folder}` "
        "puts it back"
    ) in synced.output
    restored = cli(project, "add", str(folder), "--restore")
    assert restored.exit_code == 0, restored.output
    assert restored.output.startswith("restored r2 as row 3 of ")
    assert _runs(project) == ["r1", "r2"]
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[3]], strict=False))
    assert row["question"] == "Does it help?" and row["baseline"] == "b"
    again = cli(project, "add", str(folder), "--restore")
    assert again.exit_code == 1 and "r2" in again.output and "appears in rows" not in again.output
    assert "restore" not in cli(project, "sync").output


def test_restore_without_a_record_is_one_line(project):
    write_run(project, "r9")
    result = cli(project, "add", str(project.runs_dir / "r9"), "--restore")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "no launch record" in result.output
