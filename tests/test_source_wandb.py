"""Runs logged to Weights & Biases, read as the real wandb library leaves them on disk (offline
runs written by wandb in a separate process), synced into the sheet like run folders."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from sheetsync.errors import ConfigError, RunError
from sheetsync.sheet.sync import sync_runs
from tests.helpers import cli
from tests.sources_helpers import BASE_WITH_PLAN, git_repo, run_script, source_project

WRITER = """
import copy, math, wandb

BASE = {base!r}

def train(name, changes=None, stop_at=None, final_loss=None, keys=("loss", "tokens"), crash=False):
    config = copy.deepcopy(BASE)
    for dotted, value in (changes or {{}}).items():
        section, key = dotted.split(".")
        config[section][key] = value
    run = wandb.init(project="ladder", name=name, config=config)
    last = stop_at or 100
    for step in range(10, last + 1, 10):
        loss = 3.0 - step / 200 if final_loss is None or step < last else final_loss
        run.log({{keys[0]: loss, keys[1]: step * 4096}}, step=step)
    run.summary["params"] = 6.0e8
    if crash:
        run.finish(exit_code=1)
    else:
        run.finish()

train("base-600m")
train("prores-600m", {{"model.prores": True}})
train("diverged-600m", {{"optim.lr": 0.003}}, stop_at=40, crash=True)
train("renamed-600m", keys=("val/loss", "seen_tokens"))
long_config = {{**BASE, "train": {{"max_steps": 3000}}}}
run = wandb.init(project="ladder", name="long-600m", config=long_config)
for step in range(1, 3001):  # a log of many 32 KiB blocks, records split across them
    note = "x" * (step % 300)
    run.log({{"loss": 4.0 - step / 1000, "tokens": step * 4096, "note": note}}, step=step)
run.finish()
"""
WANDB_ENV = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_CODE": "true"}


@pytest.fixture(scope="module")
def wandb_runs(tmp_path_factory):
    """Four offline runs in a git repository, written by the real wandb."""
    pytest.importorskip("wandb", reason="the W&B reader's tests need `pip install wandb`")
    repo = tmp_path_factory.mktemp("trainer")
    commit = git_repo(repo)
    run_script(WRITER.format(base=BASE_WITH_PLAN), repo, {**WANDB_ENV, "WANDB_DIR": str(repo)})
    return repo, commit


def _rows(project):
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    return {
        r[0]: dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)
    }


def _add(project, run_id):
    return cli(project, "add", run_id, "-q", "Does it help?", "-b", "b", "--yes")


def test_wandb_offline_runs_are_added_by_name_and_synced_like_run_folders(tmp_path, wandb_runs):
    repo, commit = wandb_runs
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(repo)})
    for run_id in ("base-600m", "prores-600m", "diverged-600m"):
        added = _add(project, run_id)
        assert added.exit_code == 0, added.output
    synced = cli(project, "sync")
    assert synced.exit_code == 0, synced.output
    rows = _rows(project)
    base, prores, diverged = rows["base-600m"], rows["prores-600m"], rows["diverged-600m"]
    assert base["status"] == "finished"
    assert base["final loss"] == pytest.approx(2.5)
    assert base["tokens"] == 409_600
    assert base["compute (FLOPs)"] == pytest.approx(6 * 6.0e8 * 409_600)
    assert base["git commit"] == commit
    assert prores["changes vs baseline"] == "model.prores: false -> true"
    assert prores["checks"] == "ok", prores["checks"]
    assert diverged["status"] == "unfinished: failed at step 40/100"
    assert diverged["final loss"] == "unfinished"


def test_tracker_names_are_mapped_in_sheetsync_yaml(tmp_path, wandb_runs):
    repo, _ = wandb_runs
    runs = {
        "source": "wandb",
        "path": str(repo),
        "map": {"loss": "val/loss", "tokens": "seen_tokens"},
    }
    project = source_project(tmp_path / "proj", runs)
    assert _add(project, "renamed-600m").exit_code == 0
    sync_runs(project)
    row = _rows(project)["renamed-600m"]
    assert row["final loss"] == pytest.approx(2.5) and row["tokens"] == 409_600


def test_without_a_mapping_an_unknown_loss_name_leaves_the_loss_empty(tmp_path, wandb_runs):
    repo, _ = wandb_runs
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(repo)})
    assert _add(project, "renamed-600m").exit_code == 0
    sync_runs(project)
    row = _rows(project)["renamed-600m"]
    assert row["status"] == "finished" and row["final loss"] is None and row["tokens"] is None


def test_a_run_not_in_the_wandb_folder_is_one_line_naming_the_runs_there(tmp_path, wandb_runs):
    repo, _ = wandb_runs
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(repo)})
    result = _add(project, "nope")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: W&B runs in {repo / 'wandb'}: no run named 'nope' "
        "(runs: base-600m, diverged-600m, long-600m, prores-600m, renamed-600m)"
    )


CTRL_C = """
import os, signal, wandb

BASE = {base!r}
run = wandb.init(project="ladder", name="ctrlc-600m", config=BASE)
for step in range(10, 101, 10):
    run.log({{"loss": 3.0 - step / 200, "tokens": step * 4096}}, step=step)
    if step == 40:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: Python raises KeyboardInterrupt here
"""


TERM_HANDLED = """
import os, signal, sys, wandb

BASE = {base!r}
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the trainer's handler: 128 + 15
run = wandb.init(project="ladder", name="term-600m", config=BASE)
for step in range(10, 101, 10):
    run.log({{"loss": 3.0 - step / 200, "tokens": step * 4096}}, step=step)
    if step == 50:
        os.kill(os.getpid(), signal.SIGTERM)  # the scheduler's cancel
"""


def _ended_by_signal(script: str, folder, env) -> str:
    path = folder / "signalled.py"
    path.write_text(script.format(base=BASE_WITH_PLAN))
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=folder,
        env={**os.environ, **env},
        capture_output=True,
        timeout=240,
        check=False,
    )
    return done.stderr.decode()


def test_wandb_nan_loss_is_diverged_and_ctrl_c_or_a_handled_sigterm_is_killed(tmp_path):
    pytest.importorskip("wandb", reason="needs `pip install wandb`")
    env = {**WANDB_ENV, "WANDB_DIR": str(tmp_path)}
    writer = WRITER.split('train("base-600m")')[0] + 'train("nan-600m", final_loss=math.nan)\n'
    writer += 'train("inf-600m", stop_at=60, final_loss=math.inf, crash=True)\n'
    run_script(writer.format(base=BASE_WITH_PLAN), tmp_path, env)
    stderr = _ended_by_signal(CTRL_C, tmp_path, env)
    assert "KeyboardInterrupt" in stderr  # wandb's log records exit code 255
    _ended_by_signal(TERM_HANDLED, tmp_path, env)  # wandb's log records exit code 143
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(tmp_path)})
    for run_id in ("nan-600m", "inf-600m", "ctrlc-600m", "term-600m"):
        added = _add(project, run_id)  # a diverged run is a result: added like any other
        assert added.exit_code == 0, added.output
    synced = cli(project, "sync")
    assert synced.exit_code == 0, synced.output
    rows = _rows(project)
    assert rows["nan-600m"]["status"] == "diverged at step 100/100"
    assert rows["inf-600m"]["status"] == "diverged at step 60/100"
    assert rows["ctrlc-600m"]["status"] == "unfinished: killed at step 40/100"
    assert rows["term-600m"]["status"] == "unfinished: killed at step 50/100"
    for run_id in ("nan-600m", "inf-600m"):
        assert rows[run_id]["final loss"] == "diverged" and rows[run_id]["gain"] == "diverged"
    assert rows["ctrlc-600m"]["final loss"] == "unfinished"


RESUMED_BADLY = """
import wandb

run = wandb.init(project="ladder", name="bad-600m", id="bad600m", resume="allow")
run.log({"loss": 2.4, "tokens": -5}, step=100)  # a counter that wrapped around
run.finish()
"""


def test_a_wandb_run_with_a_bad_value_says_so_in_its_row_and_the_others_sync(tmp_path):
    pytest.importorskip("wandb", reason="needs `pip install wandb`")
    env = {**WANDB_ENV, "WANDB_DIR": str(tmp_path)}
    writer = WRITER.split('train("base-600m")')[0] + 'train("base-600m")\n'
    writer += 'train("bad-600m")\n'
    with_ids = "name=name, id=name.replace('-', ''),"  # resumable by id: base600m, bad600m
    run_script(writer.format(base=BASE_WITH_PLAN).replace("name=name,", with_ids), tmp_path, env)
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(tmp_path)})
    for run_id in ("base-600m", "bad-600m"):
        assert _add(project, run_id).exit_code == 0
    run_script(RESUMED_BADLY, tmp_path, env)  # the newest folder of bad-600m is read
    synced = cli(project, "sync")
    assert synced.exit_code == 1
    errors = [line for line in synced.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].endswith(".wandb: tokens is negative (-5)")
    rows = _rows(project)
    assert rows["bad-600m"]["status"].startswith("error: ")
    assert rows["bad-600m"]["status"].endswith(".wandb: tokens is negative (-5)")
    assert rows["base-600m"]["status"] == "finished"
    assert rows["base-600m"]["final loss"] == pytest.approx(2.5)


def test_a_missing_wandb_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "wandb" or m.startswith("wandb.")] + ["wandb"]:
        monkeypatch.setitem(sys.modules, name, None)
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": "wandb"})
    with pytest.raises(ConfigError) as caught:
        project.run_source()
    assert str(caught.value) == (
        "a W&B run source needs the 'wandb' package: pip install 'sheetsync[wandb]'"
    )


def test_a_long_log_is_read_across_its_blocks_to_the_last_value(tmp_path, wandb_runs):
    repo, _ = wandb_runs
    long_log = max(
        (repo / "wandb").glob("offline-run-*/run-*.wandb"), key=lambda p: p.stat().st_size
    )
    assert long_log.stat().st_size > 4 * 32 * 1024
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(repo)})
    run = project.run_source().read("long-600m")
    assert run.progress.step == 3000 and run.progress.tokens == 3000 * 4096
    assert run.results.final_loss == pytest.approx(1.0)


def test_a_torn_log_tail_is_read_up_to_the_last_whole_record(tmp_path, wandb_runs):
    pytest.importorskip("wandb")
    from sheetsync.records.sources.wandb import records

    repo, _ = wandb_runs
    log = sorted((repo / "wandb").glob("offline-run-*/run-*.wandb"))[0]
    whole = list(records(log))
    torn = tmp_path / "run-x.wandb"
    torn.write_bytes(log.read_bytes()[:-5])
    assert list(records(torn)) == whole[:-1]
    (tmp_path / "bad.wandb").write_bytes(b"not a log")
    with pytest.raises(RunError, match="not a W&B transaction log"):
        list(records(tmp_path / "bad.wandb"))
