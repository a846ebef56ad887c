"""Planning does no I/O: everything a plan needs is read before it (the state rows of changed
runs too), and the planning modules import no backend."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sheetsync.sheet.sync as sync_module
from tests.test_engine_both import add, cli, set_loss, sheet  # noqa: F401 (a fixture)


class Guarded:
    """A backend that fails the test when it is asked anything while a plan is being made."""

    def __init__(self, inner: object, planning: list[bool], calls: list[str]):
        self._inner, self._planning, self._calls = inner, planning, calls

    def __getattr__(self, name: str) -> object:
        attr = getattr(self._inner, name)
        if not callable(attr) or name == "describe":
            return attr

        def guarded(*args: object, **kwargs: object) -> object:
            if self._planning[0]:
                raise AssertionError(f"planning called the backend: {name}")
            self._calls.append(name)
            return attr(*args, **kwargs)

        return guarded


@pytest.fixture
def guarded(monkeypatch):
    """Record the backend's calls; mark the planning steps (plan_update, finish)."""
    planning, calls = [False], []
    opened = sync_module.open_backend
    monkeypatch.setattr(
        sync_module, "open_backend", lambda *a, **k: Guarded(opened(*a, **k), planning, calls)
    )
    for name in ("plan_update", "finish"):
        step = getattr(sync_module, name)

        def marked(*args, _step=step, **kwargs):
            planning[0] = True
            try:
                return _step(*args, **kwargs)
            finally:
                planning[0] = False

        monkeypatch.setattr(sync_module, name, marked)
    return calls


def test_sync_reads_a_changed_runs_state_row_before_planning(sheet, guarded):  # noqa: F811
    add(sheet, "a", loss=2.4)
    add(sheet, "b", loss=2.5)
    assert cli(sheet, "sync").exit_code == 0
    sheet.edit(lambda g: g[1].__setitem__(g[0].index("final loss"), 9.9))  # a person's edit
    set_loss(sheet, "a", 2.2)
    set_loss(sheet, "b", 2.3)
    guarded.clear()
    result = sync_module.sync_runs(sheet.project)
    assert result.applied
    assert [c.sheet for c in result.plan.conflicts] == [9.9]
    assert [c.key for c in result.plan.changes] == ["b"]
    if sheet.emulator is not None:  # the state row of the edited run was fetched, before planning
        assert "read_boxes" in guarded


def test_planning_modules_import_no_backend():
    code = (
        "import sys, sheetsync.sheet.plan, sheetsync.sheet.sources\n"
        "print(sorted(m for m in sys.modules if m.startswith('sheetsync.sheet.backends')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
