"""What a Google sync reads, against the strict emulator: the state tab's JSON only for rows a
person changed (the digest vouches for the rest), people's own columns never, and the same
cells written as when everything was read."""

from __future__ import annotations

import json

import pytest

from sheetsync.sheet.grid import column_letter
from sheetsync.sheet.state import DIGEST, WRITTEN, digest, parse_written
from tests import test_google_backend as google
from tests.test_google_backend import add, cli, rows, tab

STATE = "_sheetsync"
emulator = google.emulator  # fixtures
gproject = google.gproject


def _state_rows(emulator) -> dict[str, int]:
    grid = tab(emulator, STATE).grid()
    return {r[1]: i for i, r in enumerate(grid, 1) if i > 1 and len(r) > 1 and r[0] == "Runs"}


def _columns_read(emulator, title: str) -> list[str]:
    return [a1.split("!", 1)[1] for a1 in emulator.ranges_read if a1.startswith(f"'{title}'!")]


def _synced(gproject, emulator, n: int = 4) -> None:
    for i in range(n):
        add(gproject, f"r{i}", loss=2.0 + i / 10)
    assert cli(gproject, "sync").exit_code == 0
    sheet = tab(emulator)
    width = len(sheet.grid()[0])
    sheet.cols = max(sheet.cols, width + 1)
    sheet.put(1, width + 1, "my notes")  # a person's own column
    for r in range(2, n + 2):
        sheet.put(r, width + 1, "x" * 500)


def _new_loss(gproject, run: str, loss: float) -> None:
    (gproject.runs_dir / run / "results.json").write_text(json.dumps({"final_loss": loss}))


def test_sync_reads_neither_state_json_nor_people_columns(gproject, emulator):
    _synced(gproject, emulator)
    assert cli(gproject, "sync").exit_code == 0  # learns the header with the person's column
    _new_loss(gproject, "r1", 1.5)
    emulator.reset_counts()
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    assert rows(emulator)["r1"]["final loss"] == 1.5
    assert emulator.counts["values.batchGet"] == 2  # the read, and the write's proof
    row = _state_rows(emulator)["r1"]
    # the read: header, keys and digests; the check before writing: r1's state row, by key;
    # the proof after it: the key column
    assert _columns_read(emulator, STATE) == [
        "1:1",
        "A2:B",
        "D2:Z",
        "1:1",
        f"B{row}:D{row}",
        "B:B",
    ]
    runs = _columns_read(emulator, "Runs")
    header = tab(emulator).grid()[0]
    assert runs[:2] == ["1:1", f"A2:{column_letter(header.index('my notes'))}"]  # not theirs


def test_a_person_edit_fetches_only_that_rows_state_and_is_kept(gproject, emulator):
    _synced(gproject, emulator)
    loss = tab(emulator).grid()[0].index("final loss") + 1
    tab(emulator).put(3, loss, 9.9)  # r1's loss, typed by a person
    _new_loss(gproject, "r1", 1.5)
    _new_loss(gproject, "r2", 1.6)
    emulator.reset_counts()
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    assert "edited by a person" in result.output
    got = rows(emulator)
    assert (got["r1"]["final loss"], got["r2"]["final loss"]) == (9.9, 1.6)
    row = _state_rows(emulator)["r1"]
    fetched = [r for r in _columns_read(emulator, STATE) if r.startswith("C")]
    assert fetched == [f"C{row}:C{row}"]


def test_state_without_digests_still_tells_people_from_sheetsync_and_gains_digests(
    gproject, emulator
):
    _synced(gproject, emulator)
    state = tab(emulator, STATE)
    where = _state_rows(emulator)
    for r in where.values():
        state.put(r, DIGEST, None)  # a state tab written before digests were kept
    loss = tab(emulator).grid()[0].index("final loss") + 1
    tab(emulator).put(2, loss, 7.7)  # r0: a person's value
    _new_loss(gproject, "r0", 1.4)
    _new_loss(gproject, "r3", 1.7)
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    got = rows(emulator)
    assert (got["r0"]["final loss"], got["r3"]["final loss"]) == (7.7, 1.7)
    grid = state.grid()
    for run, r in where.items():
        written = parse_written(grid[r - 1][WRITTEN - 1])
        assert grid[r - 1][DIGEST - 1] == digest(written), run
    emulator.reset_counts()
    assert "up to date" in cli(gproject, "sync").output
    fetched = [r for r in _columns_read(emulator, STATE) if r.startswith("C")]
    assert fetched == [f"C{where['r0']}:C{where['r0']}"]  # only the row a person changed


def test_a_column_moved_since_the_last_read_is_read_again_by_its_new_header(gproject, emulator):
    _synced(gproject, emulator)
    sheet = tab(emulator)
    grid = sheet.grid()
    width = len(grid[0])
    moved = [[*row[width - 1 : width], *row[: width - 1]] for row in grid]  # notes first
    sheet.cells.clear()
    for r, values in enumerate(moved, 1):
        for c, v in enumerate(values, 1):
            sheet.put(r, c, v)
    _new_loss(gproject, "r2", 1.2)
    emulator.reset_counts()
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    # the old header's columns, then the new; then the write's proof
    assert emulator.counts["values.batchGet"] == 3
    got = rows(emulator)
    assert got["r2"]["final loss"] == 1.2
    assert all(v["my notes"] == "x" * 500 for v in got.values())
    emulator.reset_counts()
    assert "up to date" in cli(gproject, "sync").output
    assert emulator.counts["values.batchGet"] == 1


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ({"tokens": 2_000_000_000}, {"tokens": 2e9}, True),  # a sheet reads numbers as floats
        ({"loss": 2.5, "note": None}, {"loss": 2.5}, True),  # empty cells are left out
        ({"loss": 2.5, "note": ""}, {"loss": 2.5}, True),
        ({"ok": True}, {"ok": 1}, False),
        ({"run": "1"}, {"run": 1}, False),
        ({"loss": 2.5}, {"loss": 2.5000001}, False),
        ({"a": "x", "b": "y"}, {"b": "y", "a": "x"}, True),
    ],
)
def test_digest_matches_exactly_what_a_sheet_reads_back(a, b, equal):
    assert (digest(a) == digest(b)) is equal


@pytest.mark.parametrize(
    "text",
    ["[" * 5000 + "]" * 5000, '{"a": {"b": 1}}', '{"a": [1]}', '{"a": 1e400}', "[1]", "x", 5],
)
def test_mangled_state_json_counts_as_nothing_recorded(text):
    assert parse_written(text) == {}


def test_state_json_keeps_plain_values_and_drops_empties():
    assert parse_written('{"a": 1, "b": "x", "c": null, "d": true, "e": ""}') == {
        "a": 1,
        "b": "x",
        "d": True,
    }


@pytest.mark.parametrize("garbage", ["{not json", '{"x": {"y": 1}}', "[1, 2]", "\0" * 10])
def test_a_damaged_header_cache_costs_one_read_and_is_written_anew(gproject, emulator, garbage):
    _synced(gproject, emulator)
    cache = gproject.root / ".sheetsync" / "google-headers.json"
    assert cache.is_file()
    cache.write_text(garbage)
    _new_loss(gproject, "r3", 1.1)
    emulator.reset_counts()
    result = cli(gproject, "sync")
    assert result.exit_code == 0, result.output
    assert rows(emulator)["r3"]["final loss"] == 1.1
    # row 1 first, then the columns it names; then the write's proof
    assert emulator.counts["values.batchGet"] == 3
    assert "my notes" in json.loads(cache.read_text())[f"{google.KEY}/Runs"]
