"""The run-folder cache: a folder is parsed again whenever one of its files changes (mtime or
size), files too new to trust are never kept, and a damaged or deleted cache costs nothing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sheetsync.records import evals as eval_files
from sheetsync.records import runcache
from sheetsync.records.evals import read_raw
from sheetsync.records.runcache import RunCache
from sheetsync.records.runs import read_run
from tests.helpers import cli, write_run

HOUR_AGO = time.time() - 3600


def _age(folder: Path, when: float = HOUR_AGO) -> None:
    """Make every file in the folder look written `when` (older than RECENT_NS)."""
    for path in folder.rglob("*"):
        os.utime(path, (when, when))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every folder the cache actually parses (runs and evals)."""
    seen: list[str] = []
    real_run, real_raw = runcache.read_run, eval_files.read_raw

    def read_run(folder: Path, within=(), config=None):
        seen.append(f"run {folder.name}" + (" (config kept)" if config is not None else ""))
        return real_run(folder, within, config)

    def read_raw(folder: Path):
        seen.append(f"evals {folder.name}")
        return real_raw(folder)

    monkeypatch.setattr(runcache, "read_run", read_run)
    monkeypatch.setattr(runcache, "read_raw", read_raw, raising=False)  # what _evals calls
    return seen


def _evals(cache: RunCache, folder: Path) -> int:
    """A value kept with the folder's eval files: how many results they hold."""
    return cache.memo(folder, ("evals",), lambda: len(runcache.read_raw(folder).results),
                      runcache.EVAL_FILES)  # fmt: skip


def test_an_unchanged_folder_is_read_once_across_commands(project, reads, tmp_path):
    folder = write_run(project, "r1", loss=2.5)
    _age(folder)
    store = tmp_path / "runs.cache"
    first = RunCache(store)
    assert first.run(folder).results.final_loss == 2.5
    _evals(first, folder)
    first.save()
    second = RunCache(store)
    assert second.run(folder).results.final_loss == 2.5
    _evals(second, folder)
    assert reads == ["run r1", "evals r1"]


AGAIN = {  # what a change reads again: the run (its config only when that changed), evals
    "rewrite": ["run r1 (config kept)"],
    "same size, new time": ["run r1 (config kept)"],
    "eval file": ["run r1 (config kept)", "evals r1"],
    "config": ["run r1"],
}


@pytest.mark.parametrize("change", list(AGAIN))
def test_a_changed_file_makes_what_it_feeds_read_again(project, reads, tmp_path, change):
    folder = write_run(project, "r1", loss=2.5)
    _age(folder)
    store = tmp_path / "runs.cache"
    cache = RunCache(store)
    cache.run(folder)
    _evals(cache, folder)
    cache.save()
    if change == "rewrite":
        (folder / "results.json").write_text(json.dumps({"final_loss": 1.75, "flops": 6e18}))
    elif change == "same size, new time":
        (folder / "results.json").write_text(json.dumps({"final_loss": 2.4, "flops": 6e18}))
    elif change == "eval file":
        (folder / "lm_eval").mkdir()
        (folder / "lm_eval" / "results.json").write_text("{}")
    else:
        (folder / "config.json").write_text("{}")  # config.yaml still wins: read, same run
    for path in folder.rglob("*"):  # the new or rewritten files only
        if path.stat().st_mtime > HOUR_AGO + 1:
            os.utime(path, (HOUR_AGO + 60, HOUR_AGO + 60))
    again = RunCache(store)
    run = again.run(folder)
    raw = _evals(again, folder)
    assert reads == ["run r1", "evals r1", *AGAIN[change]]
    assert run.results.final_loss == {"rewrite": 1.75, "same size, new time": 2.4}.get(change, 2.5)
    assert run.fingerprint == read_run(folder).fingerprint
    assert raw == len(read_raw(folder).results)
    again.save()
    RunCache(store).run(folder)  # kept again as read
    assert len(reads) == 2 + len(AGAIN[change])


def test_files_written_just_now_are_never_kept(project, reads, tmp_path):
    folder = write_run(project, "r1")  # mtimes of now: a second write may share the tick
    store = tmp_path / "runs.cache"
    cache = RunCache(store)
    cache.run(folder)
    cache.save()
    RunCache(store).run(folder)
    assert reads == ["run r1", "run r1"]


def test_a_damaged_cache_is_ignored_and_rewritten(project, tmp_path):
    folder = write_run(project, "r1", loss=2.5)
    _age(folder)
    store = tmp_path / "runs.cache"
    store.write_bytes(b"not a run cache")
    cache = RunCache(store)
    assert cache.run(folder).results.final_loss == 2.5
    cache.save()
    assert RunCache(store).run(folder).results.final_loss == 2.5


def test_sync_with_a_warm_cache_still_sees_new_results(project):
    folder = write_run(project, "r1", loss=2.5)
    assert cli(project, "add", str(folder), "-q", "q", "-b", "b", "--yes").exit_code == 0
    _age(folder)
    assert cli(project, "sync").exit_code == 0
    assert (project.root / runcache.CACHE_FILE).is_file()
    (folder / "results.json").write_text(json.dumps({"final_loss": 1.5, "flops": 6e18}))
    _age(folder, HOUR_AGO + 60)
    synced = cli(project, "sync")
    assert synced.exit_code == 0, synced.output
    assert "2.5 -> 1.5" in synced.output
    (project.root / runcache.CACHE_FILE).unlink()  # safe to delete
    assert "up to date" in cli(project, "sync").output


def _checks_cell(project) -> str:
    from openpyxl import load_workbook

    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    return ws.cell(2, header.index("checks") + 1).value


def _added_and_synced(project):
    """Run r1 added and synced, its files old enough for the cache to trust."""
    folder = write_run(project, "r1", {"model.prores": True})
    assert cli(project, "add", str(folder), "-q", "q", "-b", "b", "--yes").exit_code == 0
    _age(folder)
    assert cli(project, "sync").exit_code == 0
    return folder


def test_kept_checks_follow_a_new_baseline_date_and_the_row(project):
    import yaml

    from tests.helpers import BASE

    _added_and_synced(project)
    assert "stale" not in _checks_cell(project)
    newer = dict(BASE, optim={"lr": 1e-4, "warmup_steps": 1000})
    (project.baselines_dir / "b@2026-07-01.yaml").write_text(yaml.safe_dump(newer))
    assert cli(project, "sync").exit_code == 0
    assert "stale" in _checks_cell(project)  # the run folder is unchanged: the baseline is not


def test_kept_checks_follow_the_runs_progress_while_its_config_is_kept(project):
    folder = _added_and_synced(project)
    assert "unfinished" not in _checks_cell(project)
    for state, step, when in (("killed", 400, HOUR_AGO + 60), ("finished", 1000, HOUR_AGO + 120)):
        progress = {"step": step, "steps_planned": 1000, "tokens": 10**6, "state": state}
        (folder / "progress.json").write_text(json.dumps(progress))
        os.utime(folder / "progress.json", (when, when))  # config and launch facts unchanged
        assert cli(project, "sync").exit_code == 0
        assert ("unfinished" in _checks_cell(project)) == (state == "killed")
        (project.root / runcache.CACHE_FILE).unlink()  # read cold, the cell is the same
        assert "up to date" in cli(project, "sync").output
