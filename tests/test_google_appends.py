"""New rows on Google cannot collide: appendCells lets the server place each row, and a
re-read proves it landed exactly once (the backend side of `add --yes` run concurrently)."""

from __future__ import annotations

import json
import threading

import pytest

from sheetsync.errors import BackendError, StaleSheet
from sheetsync.sheet.backends.google import GoogleBackend
from sheetsync.sheet.grid import CellWrite
from tests.sheets_emulator import Emulator

KEY = "appends-key"
KEYS = {"Runs": (1,), "_state": (1, 2)}


@pytest.fixture
def emulator(monkeypatch):
    emu = Emulator()
    book = emu.create(KEY)
    runs = book.add_sheet("Runs")
    for c, h in enumerate(["run", "question", "loss"], 1):
        runs.put(1, c, h)
    state = book.add_sheet("_state", hidden=True)
    for c, h in enumerate(["tab", "key", "written"], 1):
        state.put(1, c, h)
    monkeypatch.setenv("SHEETSYNC_SHEETS_API", emu.base)
    yield emu
    emu.close()


def planned(snapshot, run_id: str) -> list[CellWrite]:
    """What the planner writes for a new run: its row below the last one, and a state row."""
    row = len(snapshot.grid("Runs")) + 1
    srow = len(snapshot.grid("_state")) + 1
    return [
        CellWrite("Runs", row, 1, run_id),
        CellWrite("Runs", row, 2, f"why {run_id}"),
        CellWrite("_state", srow, 1, "Runs"),
        CellWrite("_state", srow, 2, run_id),
        CellWrite("_state", srow, 3, json.dumps({"question": f"why {run_id}"})),
    ]


def runs(emulator) -> list[str]:
    return [r[0] for r in emulator.books[KEY].sheet("Runs").grid()[1:]]


def state_keys(emulator) -> list[str]:
    return [r[1] for r in emulator.books[KEY].sheet("_state").grid()[1:]]


def test_plain_write_loses_a_row_added_meanwhile_but_append_rows_does_not(emulator):
    backend = GoogleBackend(KEY, retry_budget=1)

    def other_writer(emu):  # another `add` lands its row between check-read and write
        emu.books[KEY].sheet("Runs").put(2, 1, "theirs")

    snapshot = backend.read(["Runs", "_state"])
    emulator.on_request(2, other_writer)  # the check-read is request 1 of write()
    backend.write(snapshot, planned(snapshot, "mine"))
    assert runs(emulator) == ["mine"]  # "theirs" was overwritten: why appends exist

    for tab in ("Runs", "_state"):  # start again, with the header rows only
        sheet = emulator.books[KEY].sheet(tab)
        sheet.cells = {k: v for k, v in sheet.cells.items() if k[0] == 1}
    snapshot = backend.read(["Runs", "_state"])
    emulator.on_request(2, other_writer)
    landed = backend.append_rows(snapshot, planned(snapshot, "mine"), KEYS)
    assert runs(emulator) == ["theirs", "mine"]
    assert landed["Runs"] == {("mine",): 3}


def test_twenty_rounds_of_two_concurrent_appends_lose_no_row(emulator):
    backends = [GoogleBackend(KEY, retry_budget=5), GoogleBackend(KEY, retry_budget=5)]
    for round_ in range(20):
        planned_together = threading.Barrier(2)
        errors: list[BaseException] = []

        def add(i: int, round_: int = round_, barrier=planned_together, errors=errors) -> None:
            try:
                snapshot = backends[i].read(["Runs", "_state"])
                writes = planned(snapshot, f"run-{round_}-{i}")
                barrier.wait(timeout=10)  # both planned the same row number
                backends[i].append_rows(snapshot, writes, KEYS)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
    expected = sorted(f"run-{r}-{i}" for r in range(20) for i in range(2))
    assert sorted(runs(emulator)) == expected
    assert sorted(state_keys(emulator)) == expected


def test_append_whose_reply_was_lost_lands_once(emulator):
    backend = GoogleBackend(KEY, retry_budget=5, sleep=lambda s: None)
    snapshot = backend.read(["Runs", "_state"])
    emulator.fail_next(None, drop=True, after_apply=True, kind="batchUpdate")
    landed = backend.append_rows(snapshot, planned(snapshot, "r1"), KEYS)
    assert runs(emulator) == ["r1"] and state_keys(emulator) == ["r1"]
    assert landed == {"Runs": {("r1",): 2}, "_state": {("Runs", "r1"): 2}}
    assert backend.retries == 1


def test_append_after_a_429_is_sent_again_and_lands_once(emulator):
    backend = GoogleBackend(KEY, retry_budget=5, sleep=lambda s: None)
    snapshot = backend.read(["Runs", "_state"])
    emulator.fail_next(429, kind="batchUpdate")
    backend.append_rows(snapshot, planned(snapshot, "r1"), KEYS)
    assert runs(emulator) == ["r1"]


def test_the_same_run_added_twice_at_once_is_reported(emulator):
    backend = GoogleBackend(KEY, retry_budget=1)
    first = backend.read(["Runs", "_state"])
    second = backend.read(["Runs", "_state"])
    backend.append_rows(first, planned(first, "r1"), KEYS)
    with pytest.raises(BackendError, match=r"holds 'r1' in rows 2 and 3: it was added twice"):
        backend.append_rows(second, planned(second, "r1"), KEYS)


def test_append_refuses_when_a_person_moved_the_columns(emulator):
    backend = GoogleBackend(KEY, retry_budget=1)
    snapshot = backend.read(["Runs", "_state"])
    sheet = emulator.books[KEY].sheet("Runs")
    sheet.put(1, 2, "loss")
    sheet.put(1, 3, "question")
    with pytest.raises(StaleSheet, match="header of 'Runs' changed"):
        backend.append_rows(snapshot, planned(snapshot, "r1"), KEYS)
    assert runs(emulator) == []


def test_append_lands_below_a_persons_far_row_and_says_where(emulator):
    sheet = emulator.books[KEY].sheet("Runs")
    sheet.put(40, 3, "a person's total")
    backend = GoogleBackend(KEY, retry_budget=1)
    snapshot = backend.read(["Runs", "_state"])
    landed = backend.append_rows(snapshot, planned(snapshot, "r1"), KEYS)
    assert landed["Runs"] == {("r1",): 41} and sheet.get(41, 1) == "r1"
