"""Runs end the way real runs end: a run that goes silent is stalled, the scheduler's word
(Slurm's sacct, a stand-in on the PATH) is the status of a job that ended, and a run resumed
from its checkpoint keeps its one row and goes back to running, then to its real end."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheetsync.errors import ConfigError
from sheetsync.records import endings
from sheetsync.records.liveness import parse_duration
from sheetsync.records.runlog import RunLog
from sheetsync.records.runs import read_run
from tests import sacct_standin
from tests.test_engine_both import add, cli, sheet  # noqa: F401 (a fixture)

HOURS = 3600


def utc(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def age(folder: Path, hours: float) -> float:
    """The run's progress and result files last written `hours` ago; that moment."""
    then = time.time() - hours * HOURS
    for name in ("progress.json", "results.json"):
        if (folder / name).exists():
            os.utime(folder / name, (then, then))
    return then


def slurm(folder: Path, job: str, array: tuple[int, int] | None = None) -> None:
    """The run recorded the Slurm job it ran in, as RunLog writes it."""
    path = folder / "launch.json"
    data = json.loads(path.read_text())
    data["slurm_job_id"] = job
    if array:
        data["slurm_array_job_id"], data["slurm_array_task_id"] = array
    path.write_text(json.dumps(data))


@pytest.fixture
def sacct(tmp_path, monkeypatch) -> Path:
    """The stand-in sacct on the PATH; the file its calls are written to."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "sacct"
    script.write_text(f"#!{sys.executable}\n" + Path(sacct_standin.__file__).read_text())
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    calls = tmp_path / "sacct-calls"
    monkeypatch.setenv("SACCT_CALLS", str(calls))
    return calls


def test_a_run_silent_longer_than_stalled_after_is_stalled_and_unfinished_everywhere(sheet):  # noqa: F811
    runs = sheet.project.runs_dir
    add(sheet, "quiet", step=3433, steps_planned=5722, state="running")
    add(sheet, "going", step=3433, steps_planned=5722, state="running")
    add(sheet, "done", loss=2.4)
    then = age(runs / "quiet", 3)
    age(runs / "done", 48)
    result = cli(sheet, "sync")
    assert result.exit_code == 0, result.output
    rows = sheet.rows()
    assert rows["quiet"]["status"] == f"stalled: no progress since {utc(then)} (step 3,433/5,722)"
    assert rows["quiet"]["final loss"] == "unfinished" and rows["quiet"]["gain"] == "unfinished"
    assert rows["going"]["status"] == "running"
    assert rows["done"]["status"] == "finished" and rows["done"]["final loss"] == 2.4
    # the stalled run writes again: running again
    (runs / "quiet" / "progress.json").write_text(
        json.dumps({"step": 3500, "steps_planned": 5722, "state": "running"})
    )
    assert cli(sheet, "sync").exit_code == 0
    assert sheet.rows()["quiet"]["status"] == "running"
    assert sheet.rows()["quiet"]["final loss"] == "running"


@pytest.mark.parametrize(("setting", "status"), [("6h", "running"), ("30m", "stalled")])
def test_stalled_after_is_read_from_sheetsync_yaml(sheet, setting, status):  # noqa: F811
    config = sheet.project.path
    config.write_text(config.read_text() + f"stalled_after: {setting}\n")
    add(sheet, "quiet", step=10, steps_planned=100, state="running")
    age(sheet.project.runs_dir / "quiet", 3)
    assert cli(sheet, "sync").exit_code == 0
    assert sheet.rows()["quiet"]["status"].split(":")[0] == status


@pytest.mark.parametrize("value", ["2 hours", "0h", "-1h", "90", "h", "1w"])
def test_a_bad_stalled_after_is_one_line_naming_the_file_and_key(tmp_path, value):
    with pytest.raises(ConfigError) as caught:
        parse_duration(value, f"{tmp_path}/sheetsync.yaml: stalled_after")
    assert str(caught.value) == (
        f"{tmp_path}/sheetsync.yaml: stalled_after must be a duration such as 30m, 2h or 6h "
        f"(s, m, h or d), not {value!r}"
    )
    assert parse_duration("30m", "x") == 1800 and parse_duration("6h", "x") == 6 * HOURS


SLURM_RUNS = {  # run -> (job, array, status)
    "timeout": ("4242", None, "unfinished: timeout (slurm job 4242) at step 3,433/5,722"),
    "oom": ("4243", None, "unfinished: out of memory (slurm job 4243) at step 3,433/5,722"),
    "preempted": ("4244", None, "unfinished: preempted (slurm job 4244) at step 3,433/5,722"),
    "scancel": ("4245", None, "unfinished: cancelled (slurm job 4245) at step 3,433/5,722"),
    "lost-node": ("4246", None, "unfinished: node failure (slurm job 4246) at step 3,433/5,722"),
    "crashed": ("4247", None, "unfinished: failed (exit 1:0) (slurm job 4247) at step 3,433/5,722"),
    "long-job": ("4248", None, "running"),
    "waiting": ("4249", None, "queued"),
    "array-task": ("4251", (4250, 7), "unfinished: timeout (slurm job 4250_7) at step 3,433/5,722"),
    "old-oom": ("4252", None, "unfinished: out of memory (slurm job 4252) at step 3,433/5,722"),
    "no-finish": ("4253", None, "unfinished: job ended (slurm job 4253) at step 3,433/5,722"),
}


def test_the_scheduler_s_word_is_the_status_of_an_unfinished_run(sheet, sacct):  # noqa: F811
    runs = sheet.project.runs_dir
    for run_id, (job, array, _) in SLURM_RUNS.items():
        add(sheet, run_id, step=3433, steps_planned=5722, state="running")
        slurm(runs / run_id, job, array)
        age(runs / run_id, 5)  # older than stalled_after: the scheduler's word wins
    add(sheet, "finished", loss=2.4)
    slurm(runs / "finished", "4242")
    add(sheet, "sigterm", step=3433, steps_planned=5722, state="killed")  # RunLog's word
    slurm(runs / "sigterm", "4242")  # ... for the SIGTERM Slurm sends at the time limit
    result = cli(sheet, "sync")
    assert result.exit_code == 0, result.output
    assert "note:" not in result.output
    rows = sheet.rows()
    assert {r: rows[r]["status"] for r in SLURM_RUNS} == {
        r: s for r, (_, _, s) in SLURM_RUNS.items()
    }
    assert rows["timeout"]["final loss"] == "unfinished" and rows["timeout"]["gain"] == "unfinished"
    assert rows["finished"]["status"] == "finished"
    assert rows["sigterm"]["status"] == SLURM_RUNS["timeout"][2]
    asked = sacct.read_text().splitlines()
    assert asked == [
        "--parsable2 --noheader -j 4242,4243,4244,4245,4246,4247,4248,4249,4251,4252,4253 "
        "--format=JobIDRaw,State,ExitCode,End"
    ]  # once, for the unfinished runs only (the finished one's job is not asked)


def test_a_failing_sacct_is_one_note_and_the_files_decide(sheet, sacct, monkeypatch):  # noqa: F811
    runs = sheet.project.runs_dir
    add(sheet, "timeout", step=3433, steps_planned=5722, state="running")
    slurm(runs / "timeout", "4242")
    then = age(runs / "timeout", 5)
    monkeypatch.setenv("SACCT_FAIL", "1")
    result = cli(sheet, "sync")
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: sacct failed (sacct: error: Problem talking to the database: Connection refused): "
        "the scheduler's word is not shown"
    ]
    status = f"stalled: no progress since {utc(then)} (step 3,433/5,722)"
    assert sheet.rows()["timeout"]["status"] == status


def test_without_sacct_on_the_path_one_note_and_the_sync_goes_on(sheet, tmp_path, monkeypatch):  # noqa: F811
    runs = sheet.project.runs_dir
    add(sheet, "timeout", step=3433, steps_planned=5722, state="running")
    slurm(runs / "timeout", "4242")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("sacct") is None
    result = cli(sheet, "sync")
    assert result.exit_code == 0, result.output
    assert (
        "note: 1 unfinished run(s) name a Slurm job, but sacct is not on the PATH: "
        "the scheduler's word is not shown"
    ) in result.output
    assert sheet.rows()["timeout"]["status"] == "running"


def test_runlog_records_the_slurm_job_it_runs_in(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "4251")
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "4250")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "7")
    log = RunLog(tmp_path / "r1", steps_planned=100)
    log.config({"model": {"d_model": 8}}, git_commit="abc")
    launch = json.loads((tmp_path / "r1" / "launch.json").read_text())
    assert launch["slurm_job_id"] == "4251"
    assert (launch["slurm_array_job_id"], launch["slurm_array_task_id"]) == (4250, 7)
    assert read_run(tmp_path / "r1").launch.slurm_job == "4250_7"


TRAIN = """
import os, signal, sys
from sheetsync.records.runlog import RunLog

run_dir, start, stop, how = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with RunLog(run_dir, steps_planned=100, min_interval=0) as log:
    log.config({{"model": {{"d_model": 1024, "n_layers": 16, "prores": False}},
                "optim": {{"lr": 3.0e-4, "warmup_steps": 1000}},
                "data": {{"global_batch_size": 256}}}}, git_commit="abc123", seed=1)
    for step in range(start, stop + 1, 10):
        log.progress(step=step, tokens=step * 4096)
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    log.finish(final_loss=2.5, params=6e8)
"""


def _train(folder: Path, start: int, stop: int, how: str) -> int:
    import subprocess

    script = folder.parent / "train.py"
    script.write_text(TRAIN.format())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, str(script), str(folder), str(start), str(stop), how],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode


def test_a_runlog_killed_with_sigkill_stalls_then_resumes_on_its_row_to_its_end(sheet):  # noqa: F811
    folder = sheet.project.runs_dir / "killed"
    assert _train(folder, 10, 40, "sigkill") == -9  # nothing could write a final state
    result = cli(sheet, "add", str(folder), "-q", "q", "-b", "b", "--yes")
    assert result.exit_code == 0, result.output
    assert cli(sheet, "sync").exit_code == 0
    assert sheet.rows()["killed"]["status"] == "running"  # its files cannot tell yet
    then = age(folder, 3)
    assert cli(sheet, "sync").exit_code == 0
    stalled = f"stalled: no progress since {utc(then)} (step 40/100)"
    assert sheet.rows()["killed"]["status"] == stalled
    # restarted from its checkpoint: RunLog reopened on the same folder
    assert _train(folder, 50, 60, "sigkill") == -9
    assert cli(sheet, "sync").exit_code == 0
    assert sheet.rows()["killed"]["status"] == "running"
    assert sheet.rows()["killed"]["progress"] == 0.6
    assert _train(folder, 70, 100, "finish") == 0
    assert cli(sheet, "sync").exit_code == 0
    rows = sheet.rows()
    assert list(rows) == ["killed"]  # one row throughout
    assert rows["killed"]["status"] == "finished" and rows["killed"]["final loss"] == 2.5
    assert json.loads((folder / "launch.json").read_text())["launched_at"]


def _slurm_run(folder, state: str):
    """A run at step 3 of 5 in `state` under Slurm job 4242, and a stand-in sacct (counting its
    calls) that says the job timed out."""
    from sheetsync.records.runs import Launch, Progress, Run

    calls: list[list[str]] = []

    def runner(args):
        calls.append(list(args))
        return "4242|TIMEOUT|0:0|2026-12-05T16:02:11\n"

    run = Run(
        "r", folder, {}, folder / "config.yaml",
        Progress(step=3, steps_planned=5, state=state), launch=Launch(slurm_job_id="4242"),
    )  # fmt: skip
    return run, runner, calls


def test_judge_asks_sacct_once_however_often_a_plan_is_made(tmp_path):
    run, runner, calls = _slurm_run(tmp_path, "running")
    judge = endings.Judge(runner=runner, now=0)
    for _ in range(3):
        judged, notes = judge([run])
        assert judged[0].status == "unfinished: timeout (slurm job 4242) at step 3/5"
        assert notes == []
    assert len(calls) == 1


def test_check_fails_a_stalled_run_and_passes_it_again_once_it_writes(sheet):  # noqa: F811
    add(sheet, "quiet", step=3433, steps_planned=5722, state="running")
    then = age(sheet.project.runs_dir / "quiet", 3)
    result = cli(sheet, "check", "quiet")
    assert result.exit_code == 1, result.output
    assert f"stalled: no progress since {utc(then)} (step 3,433/5,722)" in result.output
    (sheet.project.runs_dir / "quiet" / "progress.json").write_text(
        json.dumps({"step": 3500, "steps_planned": 5722, "state": "running"})
    )
    result = cli(sheet, "check", "quiet")
    assert "stalled" not in result.output and "not finished yet (running)" in result.output


def test_a_diverged_run_keeps_its_own_word_and_is_not_asked_about(tmp_path):
    run, runner, calls = _slurm_run(tmp_path, "diverged")
    judged, _ = endings.judge([run], runner=runner, now=10**10)
    assert judged[0].status == "diverged at step 3/5" and calls == []


def test_a_diverged_a_stalled_a_timed_out_and_a_malformed_run_leave_the_rest_written(
    sheet,  # noqa: F811
    sacct,
):
    runs = sheet.project.runs_dir
    add(sheet, "diverged", step=2113, steps_planned=5722, state="running")
    (runs / "diverged" / "results.json").write_text('{"final_loss": NaN}')
    add(sheet, "stalled", step=3433, steps_planned=5722, state="running")
    then = age(runs / "stalled", 3)
    add(sheet, "timed-out", step=3433, steps_planned=5722, state="running")
    slurm(runs / "timed-out", "4242")
    age(runs / "timed-out", 5)
    add(sheet, "malformed", step=100, steps_planned=5722, state="running")
    (runs / "malformed" / "progress.json").write_text('{"step": 200, "tokens": -1}')
    add(sheet, "done", loss=2.4)
    add(sheet, "going", step=100, steps_planned=5722, state="running")
    (runs / "going" / "progress.json").write_text(
        json.dumps({"step": 200, "steps_planned": 5722, "tokens": 819200, "state": "running"})
    )
    result = cli(sheet, "sync")
    assert result.exit_code == 1  # one run's files are malformed: said, and the exit code
    assert f"{runs / 'malformed' / 'progress.json'}: tokens is negative (-1)" in result.output
    rows = sheet.rows()
    assert rows["diverged"]["status"] == "diverged at step 2,113/5,722"
    assert rows["diverged"]["final loss"] == "diverged" and rows["diverged"]["gain"] == "diverged"
    assert rows["stalled"]["status"] == (
        f"stalled: no progress since {utc(then)} (step 3,433/5,722)"
    )
    assert rows["timed-out"]["status"] == SLURM_RUNS["timeout"][2]
    assert rows["malformed"]["status"] == "error: progress.json: tokens is negative (-1)"
    assert rows["done"]["status"] == "finished" and rows["done"]["final loss"] == 2.4
    assert rows["going"]["status"] == "running" and rows["going"]["tokens"] == 819200
    for run_id in ("stalled", "timed-out"):
        assert rows[run_id]["final loss"] == "unfinished" and rows[run_id]["gain"] == "unfinished"


@given(st.text(alphabet=st.sampled_from("4242|.:_ABCDEFGNORTUby\n0-+"), max_size=300))
def test_any_sacct_output_is_read_without_an_error_and_only_for_the_jobs_asked(text):
    from sheetsync.records.slurm import parse

    jobs = parse(text, ["4242", "42"])
    assert set(jobs) <= {"4242", "42"}
    for job in jobs.values():
        assert job.reason is None or isinstance(job.reason, str)


def test_a_long_lived_command_asks_sacct_again_only_after_a_while_or_for_a_new_job():
    from sheetsync.records import slurm

    calls: list[str] = []

    def runner(args):
        calls.append(args[4])  # the -j list
        return "4242|TIMEOUT|0:0|2026-12-05T16:02:11\n4250|RUNNING|0:0|Unknown\n"

    now = [0.0]
    with slurm.remembered(300, clock=lambda: now[0]):
        jobs, note = slurm.ask(["4242"], runner)
        assert jobs["4242"].reason == "timeout" and note is None
        now[0] = 299.0
        assert slurm.ask(["4242"], runner)[0]["4242"].state == "TIMEOUT"
        assert calls == ["4242"]  # remembered
        assert set(slurm.ask(["4250", "4242"], runner)[0]) == {"4242", "4250"}
        assert calls == ["4242", "4242,4250"]  # a job not asked about: asked again
        assert set(slurm.ask(["4250"], runner)[0]) == {"4250"}  # only what was asked
        now[0] = 299.0 + 300.0
        slurm.ask(["4250"], runner)
        assert calls == ["4242", "4242,4250", "4250"]  # the answer grew old
    slurm.ask(["4250"], runner)
    slurm.ask(["4250"], runner)
    assert len(calls) == 5  # outside the block every command asks


def test_watch_remembers_sacct_s_answer_between_its_syncs(monkeypatch, tmp_path):
    import threading

    from sheetsync.records import slurm
    from sheetsync.sheet import watch as watching

    seen = []
    monkeypatch.setattr(watching, "_watch", lambda *a: seen.append(slurm._memory) or 0)
    assert watching.watch(None, 1.0, threading.Event(), print) == 0  # type: ignore[arg-type]
    assert seen and seen[0] is not None and seen[0].seconds == slurm.REMEMBER
    assert slurm._memory is None  # forgotten when watch ends
