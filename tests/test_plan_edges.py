"""The sync plan at its edges: the first row below the header, the last cell of a row, a state
tab read lazily, a cell the backend cannot write, what a plan's writes carry."""

from __future__ import annotations

import json

import pytest

from sheetsync.errors import SheetError
from sheetsync.sheet.grid import Grid
from sheetsync.sheet.header import read_header
from sheetsync.sheet.plan import (
    Plan,
    finish,
    owned_cells,
    plan_append,
    plan_header,
    plan_update,
)
from sheetsync.sheet.state import WRITTEN, State
from tests.test_plan import LAYOUT, RUNS, apply, new_sheet, sync


def launch_rows(*ids: str) -> list[dict[str, object]]:
    return [
        {"run": r, "question": f"q {r}", "baseline": "b", "fingerprint": f"fp-{r}"} for r in ids
    ]


def test_rows_are_appended_from_row_2_one_below_another():
    grids = new_sheet([])
    header = read_header(grids[RUNS.tab], RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    changes = plan_append(grids[RUNS.tab], header, launch_rows("a", "b"), state)
    assert sorted({(c.key, c.row) for c in changes}) == [("a", 2), ("b", 3)]
    assert {c.reason for c in changes} == {"new row"}


def test_rows_are_appended_below_the_last_used_row_past_blank_ones():
    grids = new_sheet(["a"])
    grids[RUNS.tab] += [[None], [""]]  # blank rows below the data are not used rows
    header = read_header(grids[RUNS.tab], RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    changes = plan_append(grids[RUNS.tab], header, launch_rows("b"), state)
    assert {c.row for c in changes} == {3}


def test_a_run_added_again_after_its_row_was_deleted_starts_a_fresh_record():
    grids = new_sheet(["a"])
    sync(grids, {"a": {"final_loss": 2.0}})
    del grids[RUNS.tab][1]  # a person deletes the row; its state record stays
    header = read_header(grids[RUNS.tab], RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    plan = finish(
        Plan(plan_append(grids[RUNS.tab], header, launch_rows("a"), state)), state, [header]
    )
    apply(grids, plan.writes())
    [text] = [w.value for w in plan.state_writes if w.col == WRITTEN]
    assert "final_loss" not in json.loads(text)


def test_first_sync_after_add_reports_no_launch_conflict_at_a_row_end():
    """A new row ends at its last launch cell; that cell is read, not taken as cleared."""
    grids = new_sheet(["a"])
    line = grids[RUNS.tab][1]
    last = max(i for i, v in enumerate(line) if v is not None)
    del line[last + 1 :]
    plan = sync(grids, {"a": {"final_loss": 2.0}})
    assert plan.conflicts == []


def test_a_result_cell_at_a_row_end_is_compared_not_refilled():
    grids = new_sheet(["a"])
    sync(grids, {"a": {"final_loss": 2.0}})
    line = grids[RUNS.tab][1]
    col = grids[RUNS.tab][0].index("final loss")
    del line[col + 1 :]
    assert sync(grids, {"a": {"final_loss": 2.0}}).empty


def test_update_writes_name_their_row_key_and_new_rows_do_not():
    grids = new_sheet(["a"])
    grid = grids[RUNS.tab]
    header = read_header(grid, RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    append = finish(Plan(plan_append(grid, header, launch_rows("b"), state)), state, [header])
    cells = [w for w in append.writes() if w.tab == RUNS.tab]
    assert cells and all(w.row_key is None and w.key_col is None for w in cells)
    update = sync(grids, {"a": {"final_loss": 2.0}})
    [w] = [w for w in update.writes() if w.tab == RUNS.tab]
    assert (w.row_key, w.key_col) == ("a", grid[0].index("run") + 1)
    assert update.key_cols == {RUNS.tab: grid[0].index("run") + 1}


def test_person_edit_is_kept_by_default():
    grids = new_sheet(["a"])
    sync(grids, {"a": {"final_loss": 2.0}})
    grid = grids[RUNS.tab]
    grid[1][grid[0].index("final loss")] = 3.0
    header = read_header(grid, RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    changes, conflicts = plan_update(grid, header, {"a": {"final_loss": 1.0}}, state)
    assert changes == [] and [c.resolved for c in conflicts] == ["kept"]


def test_a_cell_the_backend_cannot_write_is_a_conflict_and_not_recorded():
    grids = new_sheet(["a"])
    grid = grids[RUNS.tab]
    col = grid[0].index("final loss") + 1
    header = read_header(grid, RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])

    def blocked(tab: str, row: int, column: int) -> str | None:
        return "merged cells" if (tab, row, column) == (RUNS.tab, 2, col) else None

    desired = {"a": {"final_loss": 2.0, "tokens": 10}}
    changes, conflicts = plan_update(grid, header, desired, state, False, blocked)
    assert [c.header for c in changes] == ["tokens"]
    assert [(c.kind, c.resolved) for c in conflicts] == [("merged cells", "not written")]
    plan = finish(Plan(changes, conflicts), state, [header])
    apply(grids, plan.writes())
    again = sync(grids, desired)  # not recorded as written: tried again, not a person's edit
    assert [(c.header, c.reason) for c in again.changes] == [("final loss", "fill")]


def lazy(grids: dict[str, Grid], calls: list[list[int]]) -> State:
    """The state tab as a backend reads it when the `written` column is skipped."""
    full = grids[LAYOUT.state_tab]
    grid = [list(line) for line in full]
    for line in grid[1:]:
        if len(line) >= WRITTEN:
            line[WRITTEN - 1] = None

    def fetch(rows):
        calls.append(list(rows))
        return {r: full[r - 1][WRITTEN - 1] for r in rows}

    return State(LAYOUT.state_tab, grid, fetch)


def test_rows_nobody_changed_are_vouched_by_their_digest_without_a_fetch():
    grids = new_sheet(["a", "b"])
    sync(grids, {"a": {"final_loss": 2.0, "tokens": 5}, "b": {"final_loss": 3.0}})
    calls: list[list[int]] = []
    state = lazy(grids, calls)
    grid = grids[RUNS.tab]
    header = read_header(grid, RUNS)
    desired = {"a": {"final_loss": 2.0, "tokens": 5}, "b": {"final_loss": 3.0}}
    state.resolve(RUNS.tab, owned_cells(grid, header, desired))
    changes, conflicts = plan_update(grid, header, desired, state.seal())
    assert (changes, conflicts, calls) == ([], [], [])


def test_only_the_row_a_person_changed_is_fetched_in_one_call():
    grids = new_sheet(["a", "b"])
    sync(grids, {"a": {"final_loss": 2.0}, "b": {"final_loss": 3.0}})
    grid = grids[RUNS.tab]
    grid[2][grid[0].index("final loss")] = 9.0  # b's cell: a person's edit
    calls: list[list[int]] = []
    state = lazy(grids, calls)
    header = read_header(grid, RUNS)
    desired = {"a": {"final_loss": 2.5}, "b": {"final_loss": 3.5}}
    state.resolve(RUNS.tab, owned_cells(grid, header, desired))
    assert calls == [[3]]  # b's state row, read before planning
    changes, conflicts = plan_update(grid, header, desired, state.seal())
    assert calls == [[3]]  # planning read nothing more
    assert [(c.key, c.reason) for c in changes] == [("a", "update")]
    assert [(c.key, c.sheet) for c in conflicts] == [("b", 9.0)]


def test_header_goes_right_after_the_last_header_cell_past_trailing_blanks():
    grids = new_sheet(["a"])
    grid = grids[RUNS.tab]
    grid[0][grid[0].index("gain")] = None
    grid[0] += [None, "  "]
    changes = plan_header(grid, RUNS)
    last = max(i for i, v in enumerate(grid[0], 1) if v is not None and str(v).strip())
    assert [(c.header, c.col, c.row) for c in changes] == [("gain", last + 1, 1)]


def test_empty_plan_and_one_with_only_state_writes():
    assert Plan().empty
    grids = new_sheet(["a"])
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    state.record(RUNS.tab, "a", {"final_loss": 1.0})
    only_state = Plan(state_writes=state.writes())
    assert only_state.state_writes and not only_state.empty
    assert only_state.writes() == only_state.state_writes


def test_a_state_row_not_read_before_planning_is_a_defect_not_a_silent_empty():
    grids = new_sheet(["a"])
    sync(grids, {"a": {"final_loss": 2.0}})
    state = lazy(grids, []).seal()  # nothing resolved
    grid = grids[RUNS.tab]
    with pytest.raises(LookupError, match="not read before planning"):
        plan_update(grid, read_header(grid, RUNS), {"a": {"final_loss": 2.5}}, state)


def test_owned_cells_are_the_launch_and_result_cells_of_the_rows_asked_for():
    grids = new_sheet(["a", "b"])
    sync(grids, {"a": {"final_loss": 2.0}})
    grid = grids[RUNS.tab]
    cells = owned_cells(grid, read_header(grid, RUNS), ["a", "zz"])
    assert list(cells) == ["a"]
    assert cells["a"]["final_loss"] == 2.0 and cells["a"]["fingerprint"] == "fp-a"
    assert "question" not in cells["a"]  # a person's column


def test_a_run_already_in_the_tab_is_refused_naming_its_row():
    grids = new_sheet(["a", "b"])
    grid = grids[RUNS.tab]
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    with pytest.raises(SheetError, match=r"^Runs tab: run 'b' is already in row 3$"):
        plan_append(grid, read_header(grid, RUNS), launch_rows("c", "b"), state)
    with pytest.raises(SheetError, match=r"^Runs tab: run 'c' is already in row 4$"):
        plan_append(grid, read_header(grid, RUNS), launch_rows("c", "c"), state)


def test_a_change_and_a_conflict_describe_themselves_with_their_row_key():
    grids = new_sheet(["a"])
    sync(grids, {"a": {"final_loss": 2.0}})
    grid = grids[RUNS.tab]
    col = grid[0].index("final loss")
    letter = chr(ord("A") + col)
    [change] = sync(grids, {"a": {"final_loss": 1.5}}).changes
    assert change.describe() == f"a / final loss ({letter}2): 2 -> 1.5"
    assert change.describe(with_key=False) == f"final loss ({letter}2): 2 -> 1.5"
    grid[1][col] = "see notes"
    [conflict] = sync(grids, {"a": {"final_loss": 1.25}}).conflicts
    assert conflict.describe() == (
        f"a / final loss ({letter}2): edited by a person: sheet has 'see notes', "
        "sheetsync has 1.25 (kept)"
    )


def test_owned_cells_of_a_row_that_ends_early_are_the_cells_it_has():
    grids = new_sheet(["a", "b"])
    grid = grids[RUNS.tab]
    end = grid[0].index("config fingerprint")
    sync(grids, {"a": {"final_loss": 2.0}})
    del grid[2][end + 1 :]  # row 3 ends at its fingerprint
    cells = owned_cells(grid, read_header(grid, RUNS), ["b", "a"])
    assert cells["b"]["fingerprint"] == "fp-b" and "final_loss" not in cells["b"]
    assert cells["a"]["fingerprint"] == "fp-a" and "final_loss" in cells["a"]


def test_rows_are_updated_in_the_order_they_stand_and_unknown_runs_are_skipped():
    grids = new_sheet(["a", "b", "c"])
    plan = sync(
        grids, {"c": {"final_loss": 3.0}, "zz": {"final_loss": 9.0}, "a": {"final_loss": 1.0}}
    )
    assert [(c.key, c.row) for c in plan.changes] == [("a", 2), ("c", 4)]


def test_an_empty_value_for_an_empty_cell_never_written_plans_nothing():
    grids = new_sheet(["a"])
    plan = sync(grids, {"a": {"final_loss": None, "tokens": "  "}})
    assert plan.empty and plan.conflicts == []


def test_a_checkbox_is_not_the_number_one():
    """TRUE in a result cell where sheetsync wrote 1 is a person's edit (cell values say the
    same thing only when `same` says so: a boolean is not a number)."""
    grids = new_sheet(["a"])
    sync(grids, {"a": {"tokens": 1}})
    grid = grids[RUNS.tab]
    col = grid[0].index("tokens")
    grid[1][col] = True
    plan = sync(grids, {"a": {"tokens": 1}})
    assert plan.changes == []
    assert [(c.sheet, c.tool, c.kind) for c in plan.conflicts] == [(True, 1, "edited by a person")]


def test_a_launch_cell_turned_into_a_checkbox_is_reported():
    grids = new_sheet([])
    grid = grids[RUNS.tab]
    header = read_header(grid, RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    rows = [{"run": "a", "question": "q", "baseline": "b", "fingerprint": 1}]
    apply(grids, finish(Plan(plan_append(grid, header, rows, state)), state, [header]).writes())
    grid[1][grid[0].index("config fingerprint")] = True
    plan = sync(grids, {"a": {"final_loss": 2.0}})
    assert [(c.header, c.sheet, c.tool) for c in plan.conflicts] == [
        ("config fingerprint", True, 1)
    ]


def test_a_record_of_a_checkbox_is_refreshed_when_the_cell_shows_the_number():
    """The state tab says sheetsync wrote TRUE; the cell now shows 1, which is what sheetsync
    wants: the record is refreshed to 1, so the next change of the value is an update."""
    grids = new_sheet(["a"])
    sync(grids, {"a": {"tokens": True}})
    grid = grids[RUNS.tab]
    col = grid[0].index("tokens")
    grid[1][col] = 1
    plan = sync(grids, {"a": {"tokens": 1}})
    assert plan.changes == [] and plan.state_writes
    again = sync(grids, {"a": {"tokens": 2}})
    assert [(c.reason, c.new) for c in again.changes] == [("update", 2)]
    assert again.conflicts == []


def test_a_cell_showing_the_value_with_no_record_of_it_is_adopted():
    """A person typed the very value sheetsync wants into a cell it never wrote: the record
    takes it (a state write), so sheetsync's next value is an update, not a conflict."""
    grids = new_sheet(["a"])
    grid = grids[RUNS.tab]
    col = grid[0].index("final loss")
    grid[1] += [None] * (col + 1 - len(grid[1]))
    grid[1][col] = 2.0
    plan = sync(grids, {"a": {"final_loss": 2.0}})
    assert plan.changes == [] and plan.state_writes
    again = sync(grids, {"a": {"final_loss": 1.5}})
    assert [(c.reason, c.new) for c in again.changes] == [("update", 1.5)]
    assert again.conflicts == []


def test_a_cleared_cell_sheetsync_also_wants_empty_forgets_its_record():
    """sheetsync wrote 2.0, a person cleared it and sheetsync has nothing there now: the
    record forgets the 2.0, so a 2.0 the person types later is theirs, never overwritten."""
    grids = new_sheet(["a"])
    sync(grids, {"a": {"final_loss": 2.0}})
    grid = grids[RUNS.tab]
    col = grid[0].index("final loss")
    grid[1][col] = None
    plan = sync(grids, {"a": {"final_loss": None}})
    assert plan.changes == [] and plan.state_writes
    grid[1][col] = 2.0
    later = sync(grids, {"a": {"final_loss": 3.0}})
    assert later.changes == []
    assert [(c.sheet, c.resolved) for c in later.conflicts] == [(2.0, "kept")]
    assert grid[1][col] == 2.0
