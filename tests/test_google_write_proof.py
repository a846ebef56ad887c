"""A write proves where it landed: a person who sorts, inserts or deletes rows after
sheetsync's verifying read and before its batchUpdate applies never leaves a value in another
run's row, nor the state tab a record of one. Against the strict emulator, whose hook fires
after the check-read was answered and before the write is applied."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheetsync.sheet.state import parse_written
from tests import test_google_backend as google
from tests.test_google_backend import KEY, add, cli, rows, tab

emulator = google.emulator  # fixtures
gproject = google.gproject
LOSSES = {"r0": 2.0, "r1": 2.1, "r2": 2.2, "r3": 2.3}
NEW = {"r0": 1.5, "r1": 1.6}  # the runs whose results change in the sync under test


def _synced(gproject, emulator) -> None:
    for run, loss in LOSSES.items():
        add(gproject, run, loss=loss)
    assert cli(gproject, "sync").exit_code == 0
    for run, loss in NEW.items():
        results = {"final_loss": loss, "flops": 6e18}
        (gproject.runs_dir / run / "results.json").write_text(json.dumps(results))


def _state(emulator) -> dict[str, dict]:
    grid = tab(emulator, "_sheetsync").grid()
    return {r[1]: parse_written(r[2]) for r in grid[1:] if r and r[0] == "Runs"}


def _row_of(emulator, run: str) -> int:
    return next(i for i, r in enumerate(tab(emulator).grid(), 1) if r and r[0] == run)


def _counts(emulator) -> tuple[int, int]:
    return emulator.reads(), emulator.writes()


def test_an_undisturbed_write_costs_one_read_to_prove(gproject, emulator):
    _synced(gproject, emulator)
    emulator.reset_counts()
    assert cli(gproject, "sync").exit_code == 0
    # the read (2), the check (1), the write (1), the proof: one read of the run ids (1)
    assert _counts(emulator) == (4, 1)
    assert emulator.ranges_read[-2:] == ["'Runs'!A:A", "'_sheetsync'!B:B"]


@pytest.mark.parametrize("edit", ["sort", "insert", "delete"])
def test_rows_moved_between_the_check_and_the_write_are_put_right(gproject, emulator, edit):
    _synced(gproject, emulator)
    before = rows(emulator)
    seen = {}

    def person(emu):
        seen["checked"] = emu.counts["values.batchGetByDataFilter"]
        seen["written"] = emu.counts["batchUpdate"]
        sheet = emu.books[KEY].sheet("Runs")
        if edit == "sort":
            sheet.sort_rows(1, reverse=True)  # r3 r2 r1 r0: r0's row now holds r3
        elif edit == "insert":
            sheet.insert_rows(2)  # an empty row above r0: every run one row down
        else:
            sheet.delete_rows(_row_of(emu, "r1"))  # r2 and r3 move up

    emulator.before_next("batchUpdate", person)
    emulator.reset_counts()
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    assert seen == {"checked": 1, "written": 0}  # after the verifying read, before the write
    got = rows(emulator)
    gone = {"r1"} if edit == "delete" else set()
    assert set(got) == set(LOSSES) - gone
    for run, row in got.items():  # each run's row holds its own values, and only them
        want = {**before[run], "final loss": NEW.get(run, LOSSES[run])}
        assert row == want, run
    if edit == "insert":
        assert not any(tab(emulator).grid()[1])  # the inserted row is empty again
    state = _state(emulator)
    for run in got:  # the state tab records for each run what its own row holds
        assert state[run]["final_loss"] == got[run]["final loss"]
    # the proof read found the move: one more read, and one more write puts it right
    assert _counts(emulator) == (5, 2)
    if edit == "delete":
        assert "run r1 left the 'Runs' tab" in result.output
    emulator.reset_counts()
    again = cli(gproject, "sync")
    assert "edited by a person" not in again.output
    assert _counts(emulator)[1] == 0 or edit == "delete"


@given(
    n=st.integers(1, 8),
    chosen=st.sets(st.integers(0, 7), min_size=1),
    edit=st.one_of(
        st.tuples(st.just("perm"), st.permutations(range(8))),
        st.tuples(st.just("insert"), st.integers(0, 8)),
        st.tuples(st.just("delete"), st.integers(0, 7)),
    ),
)
def test_repair_leaves_every_run_with_its_own_value_whatever_moved(n, chosen, edit):
    """The decision alone, over any reordering, insertion or deletion of rows between the
    check and the write: after one repair each run's row holds its new value if it has one,
    else what it held, and a row a person inserted holds nothing."""
    from sheetsync.sheet.backends.google_proof import Placed, repair

    runs = [f"r{i}" for i in range(n)]
    old = {run: float(i) for i, run in enumerate(runs)}
    new = {runs[i]: 100.0 + i for i in chosen if i < n}
    if not new:
        return
    order: list[str | None] = list(runs)  # row i + 2 holds order[i]
    kind, arg = edit
    if kind == "perm":
        order = [runs[i] for i in arg if i < n]
    elif kind == "insert":
        order.insert(min(arg, n), None)
    else:
        order.pop(min(arg, n - 1))
    cells = {i + 2: (old[run] if run else None) for i, run in enumerate(order)}
    placed = [Placed("Runs", runs.index(run) + 2, 5, v, run, 1) for run, v in new.items()]
    for p in placed:
        cells[p.row] = p.value  # the write lands by row number, wherever the runs went
    where = {"Runs": {i + 2: run for i, run in enumerate(order) if run}}
    fix = repair(placed, where, {(p.tab, p.row, p.col): p.value for p in placed}, _prior(old))
    for (_tab, row, _col), value in fix.cells.items():
        cells[row] = value
    for i, run in enumerate(order):
        assert cells[i + 2] == (new.get(run, old[run]) if run else None)
    assert not repair(fix.placed, where, {}, _prior(old)).cells  # proved at the next read


def _prior(old):
    return lambda tab, key, col: old[key]
