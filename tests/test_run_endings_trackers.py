"""Tracker runs that end without a word, as the real libraries leave them: a W&B offline run
killed with SIGKILL or SIGTERM (no exit record), a W&B log cut in half, a TensorBoard run
that stopped writing; each is stalled once silent for `stalled_after`, and resumed with the
same run id (a new W&B process with `resume`, a second TensorBoard event file) it keeps its
one row, is running again, then reaches its real end."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from openpyxl import load_workbook

from sheetsync.records import endings
from tests.helpers import cli
from tests.sources_helpers import BASE, git_repo, run_script, source_project

HOURS = 3600
PLAN = {**BASE, "train": {"max_steps": 3500, "seed": 1}}
WANDB_ENV = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_CODE": "true"}

WANDB_KILLED = """
import os, signal, wandb

def train(name, first, last, end):
    resume = "allow" if first > 1 else None
    run = wandb.init(project="ladder", name=name, id=name, resume=resume, config={plan!r})
    for step in range(first, last + 1):
        run.log({{"loss": 4.0 - step / 1000, "tokens": step * 4096}}, step=step)
    if end == "finish":
        run.finish()
    else:  # the scheduler's signal, or the OOM killer's: nothing writes an exit record
        os.kill(os.getpid(), getattr(signal, end))

pid = os.fork()
if pid == 0:
    train({name!r}, {first}, {last}, {end!r})
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(status)
"""


def _rows(project):
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    return {
        r[0]: dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)
    }


def _wandb(repo, name, first, last, end):
    code = WANDB_KILLED.format(plan=PLAN, name=name, first=first, last=last, end=end)
    run_script(code, repo, {**WANDB_ENV, "WANDB_DIR": str(repo)})


def _later(monkeypatch, hours):
    """The sync's clock `hours` from now (the tracker's own times cannot be set back)."""
    moment = time.time() + hours * HOURS
    monkeypatch.setattr(endings, "clock", lambda: moment)


STALLED = re.compile(
    r"stalled: no progress since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(step ([\d,]+)/3,500\)"
)


@pytest.mark.parametrize("signal", ["SIGKILL", "SIGTERM"])
def test_a_killed_wandb_run_stalls_then_resumed_reaches_its_end_on_one_row(
    tmp_path, monkeypatch, signal
):
    pytest.importorskip("wandb", reason="needs `pip install wandb`")
    repo = tmp_path / "trainer"
    git_repo(repo)
    name = f"{signal.lower()}-600m"
    _wandb(repo, name, 1, 3000, signal)
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(repo)}, PLAN)
    added = cli(project, "add", name, "-q", "q", "-b", "b", "--yes")
    assert added.exit_code == 0, added.output
    assert cli(project, "sync").exit_code == 0
    assert _rows(project)[name]["status"] == "running"  # silent only a moment
    _later(monkeypatch, 3)
    assert cli(project, "sync").exit_code == 0
    row = _rows(project)[name]
    found = STALLED.fullmatch(row["status"])
    assert found, row["status"]
    assert 0 < int(found[1].replace(",", "")) <= 3000  # as far as the log was written
    assert row["final loss"] == "unfinished"
    monkeypatch.undo()
    # a new process resumes the run with the same id: a second folder in wandb/
    _wandb(repo, name, 3001, 3200, "SIGKILL")
    assert cli(project, "sync").exit_code == 0
    assert _rows(project)[name]["status"] == "running"
    _wandb(repo, name, 3201, 3500, "finish")
    assert cli(project, "sync").exit_code == 0
    rows = _rows(project)
    assert [r for r in rows if r] == [name]
    assert rows[name]["status"] == "finished"
    assert rows[name]["final loss"] == pytest.approx(4.0 - 3500 / 1000)


def test_a_wandb_log_cut_in_half_is_said_in_the_status_not_read_as_live(tmp_path):
    pytest.importorskip("wandb", reason="needs `pip install wandb`")
    repo = tmp_path / "trainer"
    git_repo(repo)
    _wandb(repo, "cut-600m", 1, 3000, "finish")
    log = next((repo / "wandb").glob("offline-run-*/run-*.wandb"))
    whole = log.read_bytes()
    # wandb writes whole 32 KiB blocks while it runs: a log ending inside a record was cut
    log.write_bytes(whole[: len(whole) // 2 + 5])  # the exit record is gone too
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(repo)}, PLAN)
    assert cli(project, "add", "cut-600m", "-q", "q", "-b", "b", "--yes").exit_code == 0
    assert cli(project, "sync").exit_code == 0  # just now: still not read as a live run
    status = _rows(project)["cut-600m"]["status"]
    name = re.escape(log.name)
    assert re.fullmatch(rf"unfinished: {name} cut short at step [\d,]+/3,500", status), status
    # a log that fails its checksum before its end is no live run's either
    broken = bytearray(whole)
    broken[len(whole) // 3] ^= 0xFF
    log.write_bytes(bytes(broken))
    assert cli(project, "sync").exit_code == 0
    status = _rows(project)["cut-600m"]["status"]
    expected = rf"unfinished: {name} unreadable after byte [\d,]+ at step [\d,]+/3,500"
    assert re.fullmatch(expected, status), status
    # the whole log again (the copy completed): its own end
    log.write_bytes(whole)
    assert cli(project, "sync").exit_code == 0
    assert (
        _rows(project)["cut-600m"]["status"]
        == "unfinished: stopped before its plan at step 3,000/3,500"
    )


TENSORBOARD = """
import time, yaml
from tensorboardX import SummaryWriter

with open("tb/resumed-600m/config.yaml", "w") as fh:
    yaml.safe_dump({plan!r}, fh)
# each process its own file, as processes seconds apart get (the name holds the second)
writer = SummaryWriter("tb/resumed-600m", filename_suffix=".{first}")
for step in range({first}, {last} + 1, 10):
    writer.add_scalar("loss", 4.0 - step / 1000, step, walltime=time.time() - {ago})
    writer.add_scalar("tokens", step * 4096, step, walltime=time.time() - {ago})
writer.close()
"""


def test_a_tensorboard_run_that_stopped_writing_stalls_and_a_second_event_file_resumes_it(
    tmp_path,
):
    pytest.importorskip("tensorboardX", reason="the tests write events with tensorboardX")
    (tmp_path / "tb" / "resumed-600m").mkdir(parents=True)
    then = time.time() - 3 * HOURS
    run_script(TENSORBOARD.format(plan=PLAN, first=10, last=2000, ago=3 * HOURS), tmp_path)
    project = source_project(tmp_path / "proj", {"source": "tensorboard", "path": "../tb"}, PLAN)
    assert cli(project, "add", "resumed-600m", "-q", "q", "-b", "b", "--yes").exit_code == 0
    assert cli(project, "sync").exit_code == 0
    status = _rows(project)["resumed-600m"]["status"]
    when = dt.datetime.fromtimestamp(then, dt.UTC)
    assert status.startswith(f"stalled: no progress since {when:%Y-%m-%d %H}:")
    assert status.endswith(" UTC (step 2,000/3,500)")
    run_script(TENSORBOARD.format(plan=PLAN, first=2010, last=2500, ago=0), tmp_path)
    assert cli(project, "sync").exit_code == 0
    assert _rows(project)["resumed-600m"]["status"] == "running"
    run_script(TENSORBOARD.format(plan=PLAN, first=2510, last=3500, ago=0), tmp_path)
    assert cli(project, "sync").exit_code == 0
    rows = _rows(project)
    assert [r for r in rows if r] == ["resumed-600m"]
    assert rows["resumed-600m"]["status"] == "finished"
    assert len(list((tmp_path / "tb" / "resumed-600m").glob("events.out.tfevents.*"))) == 3


def test_a_wandb_run_under_slurm_names_its_job_and_gets_the_scheduler_s_word(tmp_path, monkeypatch):
    pytest.importorskip("wandb", reason="needs `pip install wandb`")
    import os
    import sys
    from pathlib import Path

    from tests import sacct_standin

    repo = tmp_path / "trainer"
    git_repo(repo)
    slurm = {"SLURM_JOB_ID": "4251", "SLURM_ARRAY_JOB_ID": "4250", "SLURM_ARRAY_TASK_ID": "7"}
    code = WANDB_KILLED.format(plan=PLAN, name="array-600m", first=1, last=3000, end="SIGKILL")
    run_script(code, repo, {**WANDB_ENV, "WANDB_DIR": str(repo), **slurm})
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "sacct").write_text(
        f"#!{sys.executable}\n" + Path(sacct_standin.__file__).read_text()
    )
    (folder / "sacct").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    project = source_project(tmp_path / "proj", {"source": "wandb", "path": str(repo)}, PLAN)
    assert cli(project, "add", "array-600m", "-q", "q", "-b", "b", "--yes").exit_code == 0
    assert cli(project, "sync").exit_code == 0
    status = _rows(project)["array-600m"]["status"]
    assert re.fullmatch(r"unfinished: timeout \(slurm job 4250_7\) at step [\d,]+/3,500", status)


MLFLOW_KILLED = """
import os, time, mlflow

client = mlflow.MlflowClient({uri!r})
experiment = client.create_experiment("ladder")
then = int((time.time() - {ago}) * 1000)  # the run started, and last logged, this long ago
run = client.create_run(experiment, start_time=then, run_name="lost-600m").info.run_id
client.log_param(run, "train.max_steps", 3500)
for step in range(10, 401, 10):
    client.log_metric(run, "loss", 4.0 - step / 1000, timestamp=then, step=step)
os._exit(0)  # the process is gone; nothing ends the run: MLflow keeps it RUNNING
"""


def test_an_mlflow_run_whose_process_died_is_stalled_by_its_last_logged_time(tmp_path):
    pytest.importorskip("mlflow", reason="needs `pip install mlflow`")
    pytest.importorskip("sqlalchemy", reason="MLflow's SQLite store needs sqlalchemy")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    then = time.time() - 3 * HOURS
    run_script(
        MLFLOW_KILLED.format(uri=uri, ago=3 * HOURS), tmp_path, {"GIT_PYTHON_REFRESH": "quiet"}
    )
    project = source_project(tmp_path / "proj", {"source": "mlflow", "path": uri}, PLAN)
    assert cli(project, "add", "lost-600m", "-q", "q", "-b", "b", "--yes").exit_code == 0
    assert cli(project, "sync").exit_code == 0
    status = _rows(project)["lost-600m"]["status"]
    when = dt.datetime.fromtimestamp(then, dt.UTC)
    assert status.startswith(f"stalled: no progress since {when:%Y-%m-%d %H}:"), status
    assert status.endswith(" UTC (step 400/3,500)")


def test_a_tensorboard_event_file_cut_in_half_is_said_in_the_stalled_status(tmp_path):
    pytest.importorskip("tensorboardX", reason="the tests write events with tensorboardX")
    (tmp_path / "tb" / "resumed-600m").mkdir(parents=True)
    run_script(TENSORBOARD.format(plan=PLAN, first=10, last=3500, ago=3 * HOURS), tmp_path)
    events = next((tmp_path / "tb" / "resumed-600m").glob("events.out.tfevents.*"))
    whole = events.read_bytes()
    events.write_bytes(whole[: len(whole) // 2 + 3])  # its end, and its last steps, are gone
    project = source_project(tmp_path / "proj", {"source": "tensorboard", "path": "../tb"}, PLAN)
    assert cli(project, "add", "resumed-600m", "-q", "q", "-b", "b", "--yes").exit_code == 0
    assert cli(project, "sync").exit_code == 0
    status = _rows(project)["resumed-600m"]["status"]
    tail = rf"\(step [\d,]+/3,500; {re.escape(events.name)} cut short\)"
    assert re.fullmatch(rf"stalled: no progress since .* UTC {tail}", status), status
