"""The writer for training scripts: what it writes is a run folder sheetsync reads, and a run
that stops (an exception, SIGTERM, SIGINT) is recorded as stopped, never as running or done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import sheetsync
from sheetsync.errors import RunError
from sheetsync.records.runs import read_run

ROOT = Path(__file__).resolve().parent.parent


def test_a_training_loop_written_by_runlog_reads_as_a_finished_run(tmp_path):
    run_dir = tmp_path / "prores-600m"
    with sheetsync.RunLog(run_dir, steps_planned=100, min_interval=0) as log:
        log.config({"model": {"d_model": 1024}, "optim": {"lr": 3e-4}, "train": {"seed": 7}})
        for step in range(1, 101):
            log.progress(step=step, tokens=step * 4096)
        log.finish(final_loss=2.91, params=6.0e8)
    run = read_run(run_dir)
    assert run.config == {"model": {"d_model": 1024}, "optim": {"lr": 3e-4}, "train": {"seed": 7}}
    assert run.status == "finished"
    assert run.progress.step == 100 and run.progress.tokens == 409_600
    assert run.results.final_loss == 2.91 and run.results.params == 6.0e8
    assert run.launch.seed == 7 and run.launch.launched_by


def test_an_exception_in_the_loop_records_failed_at_the_last_step(tmp_path):
    run_dir = tmp_path / "diverged"
    with pytest.raises(ZeroDivisionError), sheetsync.RunLog(run_dir, steps_planned=50) as log:
        log.config({"optim": {"lr": 1.0}})
        for step in range(1, 51):
            log.progress(step=step)
            if step == 20:
                1 / 0  # noqa: B018
    run = read_run(run_dir)
    assert run.status == "unfinished: failed at step 20/50"
    assert not (run_dir / "results.json").exists()


def test_a_block_that_ends_without_finish_is_not_taken_for_a_running_run(tmp_path):
    with sheetsync.RunLog(tmp_path / "r", steps_planned=10) as log:
        log.config({})
        log.progress(step=3)
    assert read_run(tmp_path / "r").status == "unfinished: failed at step 3/10"


def test_finish_refuses_a_step_past_the_plan(tmp_path):
    log = sheetsync.RunLog(tmp_path / "r", steps_planned=10)
    log.config({})
    with pytest.raises(RunError, match="step 11 is beyond steps_planned 10"):
        log.progress(step=11)


def test_a_nan_final_loss_records_a_diverged_run_in_strict_json(tmp_path):
    with sheetsync.RunLog(tmp_path / "r", steps_planned=10, min_interval=0) as log:
        log.config({})
        for step in range(1, 11):
            log.progress(step=step, loss=3.0 - step / 10)
        log.finish(final_loss=float("nan"), params=6e8)
    results = json.loads((tmp_path / "r" / "results.json").read_text())  # no bare NaN in it
    assert results == {"final_loss": "nan", "params": 6e8}
    run = read_run(tmp_path / "r")
    assert run.status == "diverged at step 10/10" and not run.finished
    assert run.results.final_loss is None


def test_a_nan_loss_given_to_progress_records_diverged_and_the_loop_goes_on(tmp_path):
    with sheetsync.RunLog(tmp_path / "r", steps_planned=5722, min_interval=60) as log:
        log.config({})
        for step in range(1, 3000):
            loss = float("inf") if step >= 2113 else 3.0
            log.progress(step=step, loss=loss)  # never raises: the trainer is not interrupted
    progress = json.loads((tmp_path / "r" / "progress.json").read_text())
    assert progress["state"] == "diverged" and progress["loss"] == "inf"
    assert read_run(tmp_path / "r").status == "diverged at step 2,113/5,722"


def test_a_finite_loss_given_to_progress_is_kept_as_the_last_logged(tmp_path):
    log = sheetsync.RunLog(tmp_path / "r", steps_planned=10, min_interval=0)
    log.config({})
    log.progress(step=4, loss=2.75)
    assert json.loads((tmp_path / "r" / "progress.json").read_text())["loss"] == 2.75
    assert read_run(tmp_path / "r").status == "running"


def test_progress_is_written_at_most_every_min_interval_and_flushed_at_the_end(tmp_path):
    log = sheetsync.RunLog(tmp_path / "r", steps_planned=1000, min_interval=3600)
    log.config({})
    for step in range(1, 1001):
        log.progress(step=step)
    assert "step" not in json.loads((tmp_path / "r" / "progress.json").read_text())
    log.finish(final_loss=2.5)
    assert read_run(tmp_path / "r").progress.step == 1000


def test_a_reader_never_sees_half_a_file(tmp_path, monkeypatch):
    # What a reader sees depends on the rename alone; the fsyncs (for a power cut, which no
    # test makes) only cost 2,000 waits on a shared disk here.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    log = sheetsync.RunLog(tmp_path / "r", steps_planned=2000, min_interval=0)
    log.config({})
    seen, bad = [], []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                seen.append(
                    json.loads((tmp_path / "r" / "progress.json").read_text()).get("step", 0)
                )
            except (ValueError, KeyError) as exc:
                bad.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    for step in range(1, 2001):
        log.progress(step=step)
    done.set()
    thread.join()
    assert bad == [] and seen == sorted(seen)
    assert not list((tmp_path / "r").glob(".*.tmp"))


TRAINER = textwrap.dedent(
    """
    import sys, time
    import sheetsync

    with sheetsync.RunLog(sys.argv[1], steps_planned=100, min_interval=0) as log:
        log.config({"optim": {"lr": 0.001}})
        for step in range(1, 101):
            log.progress(step=step, tokens=step * 1000)
            if step == 40:
                print("at 40", flush=True)
                time.sleep(60)
        log.finish(final_loss=2.0)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_training_process_sent_a_signal_is_recorded_killed(tmp_path, sig):
    script = tmp_path / "train.py"
    script.write_text(TRAINER)
    run_dir = tmp_path / "killed-run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(run_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        # a trainer started as a person starts one: pytest run as a shell's background job
        # passes SIGINT on ignored, and RunLog rightly leaves an ignored signal alone
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout.readline().strip() == "at 40"
    proc.send_signal(sig)
    proc.wait(timeout=30)
    if sig == signal.SIGTERM:
        assert proc.returncode == -signal.SIGTERM  # the process still dies of the signal
    else:
        assert proc.returncode != 0
    run = read_run(run_dir)
    assert run.progress.state == "killed"
    assert run.status == "unfinished: killed at step 40/100"
    assert run.progress.tokens == 40_000
