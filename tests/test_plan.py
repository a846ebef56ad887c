"""The sync plan's promises, on plain grids: rows by run id, columns by header, no clobbering."""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetsync.errors import SheetError
from sheetsync.layout import load_layout
from sheetsync.sheet.grid import CellWrite, Grid, cell, is_empty, same
from sheetsync.sheet.header import index_rows, read_header
from sheetsync.sheet.plan import Plan, State, finish, plan_append, plan_header, plan_update

LAYOUT = load_layout()
RUNS = LAYOUT.runs
RESULT_KEYS = [c.key for c in RUNS.owned("result")]
PERSON = [c for c in RUNS.columns if c.owner == "person"]


def apply(grids: dict[str, Grid], writes: list[CellWrite]) -> None:
    """What a backend does with a plan: set each cell (growing the grid as needed)."""
    for w in writes:
        grid = grids.setdefault(w.tab, [])
        while len(grid) < w.row:
            grid.append([])
        row = grid[w.row - 1]
        while len(row) < w.col:
            row.append(None)
        row[w.col - 1] = w.value


def new_sheet(run_ids: list[str]) -> dict[str, Grid]:
    grids: dict[str, Grid] = {RUNS.tab: [], LAYOUT.state_tab: []}
    apply(grids, Plan(plan_header([], RUNS)).writes())
    header = read_header(grids[RUNS.tab], RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    rows = [
        {"run": r, "question": f"q {r}", "baseline": "b", "fingerprint": f"fp-{r}"} for r in run_ids
    ]
    plan = finish(Plan(plan_append(grids[RUNS.tab], header, rows, state)), state, [header])
    apply(grids, plan.writes())
    return grids


def sync(grids: dict[str, Grid], desired, overwrite: bool = False) -> Plan:
    grid = grids[RUNS.tab]
    header = read_header(grid, RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    changes, conflicts = plan_update(grid, header, desired, state, overwrite)
    plan = finish(Plan(changes, conflicts), state, [header])
    apply(grids, plan.writes())
    return plan


def values_by_header(grid: Grid, run_id: str) -> dict[str, object]:
    header = grid[0]
    for row in grid[1:]:
        if row and run_id in row:
            return {str(h): (row[i] if i < len(row) else None) for i, h in enumerate(header) if h}
    raise AssertionError(run_id)


def results(seed: int, run_ids: list[str]) -> dict[str, dict[str, object]]:
    return {
        r: {
            "status": "finished" if (seed + i) % 3 else f"running {seed}",
            "tokens": 1000 * (seed + i + 1),
            "final_loss": 2.0 + 0.01 * ((seed * 7 + i) % 50),
            "progress": ((seed + i) % 10) / 10,
        }
        for i, r in enumerate(run_ids)
    }


def test_second_sync_plans_nothing():
    ids = ["a", "b", "c"]
    grids = new_sheet(ids)
    first = sync(grids, results(1, ids))
    assert len(first.changes) == 12
    again = sync(grids, results(1, ids))
    assert again.empty and not again.conflicts


def test_changed_result_is_updated_old_to_new():
    grids = new_sheet(["a"])
    sync(grids, results(1, ["a"]))
    plan = sync(grids, {"a": {"final_loss": 1.5}})
    [change] = plan.changes
    assert (change.header, change.reason, change.new) == ("final loss", "update", 1.5)
    assert values_by_header(grids[RUNS.tab], "a")["final loss"] == 1.5


def test_person_edit_of_result_cell_is_reported_and_kept():
    grids = new_sheet(["a"])
    sync(grids, results(1, ["a"]))
    grid = grids[RUNS.tab]
    col = grid[0].index("final loss")
    grid[1][col] = 9.99
    plan = sync(grids, {"a": {"final_loss": 1.5}})
    assert plan.changes == []
    [conflict] = plan.conflicts
    assert (conflict.header, conflict.sheet, conflict.tool, conflict.resolved) == (
        "final loss",
        9.99,
        1.5,
        "kept",
    )
    assert grid[1][col] == 9.99


def test_overwrite_replaces_person_edit_and_says_so():
    grids = new_sheet(["a"])
    sync(grids, results(1, ["a"]))
    grid = grids[RUNS.tab]
    col = grid[0].index("final loss")
    grid[1][col] = "looks wrong"
    plan = sync(grids, {"a": {"final_loss": 1.5}}, overwrite=True)
    assert [c.reason for c in plan.changes] == ["overwrite"]
    assert plan.conflicts[0].resolved.startswith("overwritten")
    assert grid[1][col] == 1.5


def test_launch_cell_edit_is_reported_never_rewritten():
    grids = new_sheet(["a"])
    grid = grids[RUNS.tab]
    col = grid[0].index("config fingerprint")
    grid[1][col] = "cfg-edited"
    plan = sync(grids, results(1, ["a"]))
    assert all(c.header != "config fingerprint" for c in plan.changes)
    assert [(c.header, c.sheet, c.tool) for c in plan.conflicts] == [
        ("config fingerprint", "cfg-edited", "fp-a")
    ]
    assert grid[1][col] == "cfg-edited"


def test_cleared_result_cell_is_filled_again():
    grids = new_sheet(["a"])
    sync(grids, results(1, ["a"]))
    grid = grids[RUNS.tab]
    col = grid[0].index("tokens")
    grid[1][col] = None
    plan = sync(grids, results(1, ["a"]))
    assert [(c.header, c.reason) for c in plan.changes] == [("tokens", "fill")]
    assert not plan.conflicts


def test_duplicate_run_id_names_both_rows():
    grids = new_sheet(["a", "b"])
    grids[RUNS.tab][2][0] = "a"
    try:
        index_rows(grids[RUNS.tab], read_header(grids[RUNS.tab], RUNS))
    except SheetError as exc:
        assert str(exc) == (
            "Runs tab: run 'a' appears in rows 2 and 3; each must be unique (delete or rename one)"
        )
    else:
        raise AssertionError("duplicate run id accepted")


def test_missing_owned_header_names_column():
    grids = new_sheet(["a"])
    grid = grids[RUNS.tab]
    grid[0][grid[0].index("tokens")] = "toks"
    try:
        read_header(grid, RUNS)
    except SheetError as exc:
        assert "column 'tokens' is missing from the header row" in str(exc)
    else:
        raise AssertionError("missing header accepted")


def test_header_added_only_for_missing_owned_columns_at_right_end():
    grids = new_sheet(["a"])
    grid = grids[RUNS.tab]
    grid[0].append("my column")
    del_col = grid[0].index("gain")
    grid[0][del_col] = None
    changes = plan_header(grid, RUNS)
    assert [(c.header, c.col) for c in changes] == [("gain", len(grid[0]) + 1)]


def test_formula_looking_text_is_planned_verbatim():
    grids = new_sheet(["a"])
    plan = sync(grids, {"a": {"status": '=HYPERLINK("x")', "final_loss": 2.0}})
    assert {c.new for c in plan.changes} == {'=HYPERLINK("x")', 2.0}


# --- property: random human edits between syncs -----------------------------------------

EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("sort"), st.randoms(use_true_random=False)),
        st.tuples(st.just("blank_row"), st.integers(0, 50)),
        st.tuples(st.just("move_column"), st.integers(0, 40), st.integers(0, 40)),
        st.tuples(st.just("own_column"), st.text(min_size=1, max_size=8)),
        st.tuples(st.just("edit_person"), st.integers(0, 50), st.text(max_size=10)),
        st.tuples(st.just("clear_result"), st.integers(0, 50), st.sampled_from(RESULT_KEYS)),
        st.tuples(
            st.just("edit_result"),
            st.integers(0, 50),
            st.sampled_from(RESULT_KEYS),
            st.one_of(st.text(min_size=1, max_size=6), st.floats(-1e6, 1e6)),
        ),
    ),
    max_size=12,
)


def human_edit(grid: Grid, edit: tuple, touched: dict[tuple[str, str], object]) -> None:
    """One edit a person might make; records result cells a person wrote in `touched`."""
    kind = edit[0]
    header, body = grid[0], grid[1:]
    width = max(len(r) for r in grid)
    for r in grid:
        r.extend([None] * (width - len(r)))
    run_col = header.index("run")
    data = [r for r in body if r[run_col]]
    if kind == "sort":
        edit[1].shuffle(body)
        grid[1:] = body
    elif kind == "blank_row":
        grid.insert(1 + edit[1] % (len(body) + 1), [None] * width)
    elif kind == "move_column":
        a, b = edit[1] % width, edit[2] % width
        for r in grid:
            r.insert(b, r.pop(a))
    elif kind == "own_column":
        name = "mine " + edit[1]
        if any(str(h).strip().casefold() == name.strip().casefold() for h in header if h):
            return
        for i, r in enumerate(grid):
            r.append(name if i == 0 else None)
    elif data and kind == "edit_person":
        row = data[edit[1] % len(data)]
        row[header.index(PERSON[edit[1] % len(PERSON)].header)] = edit[2] or None
    elif data and kind in ("clear_result", "edit_result"):
        row = data[edit[1] % len(data)]
        col = header.index(RUNS.column(edit[2]).header)
        value = None if kind == "clear_result" else edit[3]
        row[col] = value
        touched[(row[run_col], edit[2])] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 8),
    edits=EDITS,
    seed=st.integers(0, 1000),
)
def test_sync_after_human_edits_writes_right_cells_and_nothing_else(n, edits, seed):
    ids = [f"run-{i}" for i in range(n)]
    grids = new_sheet(ids)
    sync(grids, results(seed, ids))
    grid = grids[RUNS.tab]
    touched: dict[tuple[str, str], object] = {}
    for edit in edits:
        human_edit(grid, edit, touched)
    before = copy.deepcopy(grid)
    desired = results(seed + 1, ids)
    header = read_header(grid, RUNS)
    state = State(LAYOUT.state_tab, grids[LAYOUT.state_tab])
    changes, conflicts = plan_update(grid, header, desired, state)
    plan = finish(Plan(changes, conflicts), state, [header])
    result_headers = {c.header for c in RUNS.owned("result")}
    for w in plan.writes():
        if w.tab == RUNS.tab:
            assert grid[0][w.col - 1] in result_headers
            assert cell(grid, w.row, grid[0].index("run") + 1) == w.row_key
            assert same(cell(grid, w.row, w.col), w.expect)
    apply(grids, plan.writes())
    run_col = grid[0].index("run")
    for r, (old, new) in enumerate(zip(before, grid, strict=True)):
        for c, (a, b) in enumerate(zip(old, new, strict=False)):
            if a != b:
                assert r > 0 and grid[0][c] in result_headers, (r, c, a, b)
    for run_id in ids:
        row = next(x for x in grid[1:] if x[run_col] == run_id)
        for key, want in desired[run_id].items():
            got = row[grid[0].index(RUNS.column(key).header)]
            person_value = touched.get((run_id, key))
            if (
                (run_id, key) in touched
                and not is_empty(person_value)  # a blank (even " ") cell is filled again
                and not same(person_value, results(seed, ids)[run_id][key])
                and not same(person_value, want)
            ):
                assert got == person_value
                assert any(
                    c.key == run_id and c.header == RUNS.column(key).header for c in conflicts
                )
            else:
                assert same(got, want), (run_id, key, got, want)
    again = sync(grids, desired)
    assert again.empty


def test_refreshed_state_is_written_when_no_cell_changes():
    """A result cell already showing what sheetsync wants while the state tab holds an older
    value: the state record is refreshed even though no cell is written, so the next real
    update is taken as sheetsync's own (an update), not as a person's edit."""
    grids = new_sheet(["a"])
    sync(grids, {"a": {"final_loss": 2.0}})
    grid = grids[RUNS.tab]
    col = grid[0].index("final loss")
    grid[1][col] = 1.5  # the cell reached the new value another way (a restore, a paste)
    plan = sync(grids, {"a": {"final_loss": 1.5}})
    assert plan.changes == [] and plan.conflicts == []
    assert plan.state_writes and not plan.empty
    again = sync(grids, {"a": {"final_loss": 1.2}})
    assert [(c.reason, c.new) for c in again.changes] == [("update", 1.2)]
    assert again.conflicts == []
    assert grid[1][col] == 1.2


def test_no_change_sync_writes_no_state():
    """The refresh above is the only state write without cell changes: a sync whose cells and
    records all agree plans nothing at all."""
    grids = new_sheet(["a"])
    sync(grids, {"a": {"final_loss": 2.0}})
    plan = sync(grids, {"a": {"final_loss": 2.0}})
    assert plan.empty and plan.state_writes == []
