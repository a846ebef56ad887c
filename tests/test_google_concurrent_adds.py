"""Two `sheetsync add --yes` at the same moment on a Google Sheet both land: 20 rounds, no
row lost, none doubled, each reporting the row it really landed in."""

from __future__ import annotations

import threading

from sheetsync.sheet.add import commit_add, prepare_add
from tests.helpers import write_run
from tests.test_google_backend import emulator, gproject, tab  # noqa: F401 - fixtures

ROUNDS = 20


def test_twenty_rounds_of_two_concurrent_adds_lose_no_row(gproject, emulator):  # noqa: F811
    landed: dict[str, int] = {}
    errors: list[BaseException] = []

    def add(run_id: str) -> None:
        try:
            pending = prepare_add(gproject, gproject.runs_dir / run_id, "Does it help?", "b")
            plan = commit_add(gproject, pending)
            landed[run_id] = plan.landed.get(run_id, plan.changes[0].row)
        except BaseException as exc:  # reported below, with the round
            errors.append(exc)

    for i in range(ROUNDS):
        pair = [f"r{i}-a", f"r{i}-b"]
        for run_id in pair:
            write_run(gproject, run_id, changes={"model.prores": True})
        threads = [threading.Thread(target=add, args=(run_id,)) for run_id in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], f"round {i}: {errors}"
    ids = [row[0] for row in tab(emulator).grid()[1:] if row and row[0]]
    assert sorted(ids) == sorted(f"r{i}-{s}" for i in range(ROUNDS) for s in "ab")
    assert len(ids) == len(set(ids)) == 2 * ROUNDS
    for run_id, row in landed.items():
        assert tab(emulator).grid()[row - 1][0] == run_id
