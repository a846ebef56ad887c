"""The run-folder contract at its edges: when a run has reached its plan (exactly at the step or
token budget, with half a plan, with no progress at all), what its status says, the numbers a
record may hold, the launch copy, and when two runs are one model size."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sheetsync.errors import RunError
from sheetsync.records.runs import (
    LAUNCH_COPY,
    Launch,
    Progress,
    Results,
    Run,
    error_status,
    launch_copy,
    launch_copy_text,
    read_run,
    same_size,
    write_json,
)
from sheetsync.vocab import STATES

MAX_INT = 2**63 - 1


def folder(tmp_path: Path, name: str = "r", **files: object) -> Path:
    """A run folder with a config and each of `files` (progress=..., results=..., launch=...)
    as JSON (a str is written as it is)."""
    path = tmp_path / name
    path.mkdir()
    (path / "config.yaml").write_text("model:\n  d_model: 512\n  n_layers: 8\n")
    for stem, data in files.items():
        target = path / f"{stem}.json"
        if isinstance(data, str):
            target.write_text(data)
        else:
            write_json(target, data)  # type: ignore[arg-type]
    return path


def run_with(**progress: object) -> Run:
    return Run("r", Path("r"), {}, Path("r/config.yaml"), Progress(**progress))  # type: ignore[arg-type]


# when a run has reached its plan


def test_no_progress_file_has_not_reached_any_plan(tmp_path):
    run = read_run(folder(tmp_path))
    assert run.progress == Progress()
    assert run.progress.reached_plan is False and run.progress.fraction is None
    assert not run.finished and run.status == "launched"


def test_a_progress_file_without_a_plan_has_not_reached_it(tmp_path):
    run = read_run(folder(tmp_path, progress={"step": 500, "tokens": 10**9, "state": "finished"}))
    assert run.progress.reached_plan is False and run.progress.fraction is None
    assert not run.finished
    assert run.status == "unfinished: stopped before its plan"


@pytest.mark.parametrize(
    "half",
    [
        {"step": 100},
        {"steps_planned": 100},
        {"tokens": 100},
        {"tokens_planned": 100},
        {"step": 100, "tokens_planned": 100},
        {"tokens": 100, "steps_planned": 100},
    ],
)
def test_half_a_plan_is_not_a_plan_reached(half):
    assert run_with(**half, state="finished").progress.reached_plan is False
    assert not run_with(**half, state="finished").finished


def test_exactly_at_the_step_budget_is_finished():
    p = Progress(step=100, steps_planned=100)
    assert p.reached_plan and p.fraction == 1.0
    assert not Progress(step=99, steps_planned=100).reached_plan
    assert run_with(step=100, steps_planned=100).status == "finished"


def test_exactly_at_the_token_budget_is_finished():
    p = Progress(tokens=8_000_000_000, tokens_planned=8_000_000_000)
    assert p.reached_plan and p.fraction == 1.0
    assert not Progress(tokens=7_999_999_999, tokens_planned=8_000_000_000).reached_plan
    run = run_with(tokens=8_000_000_000, tokens_planned=8_000_000_000, state="finished")
    assert run.finished and run.status == "finished"


def test_steps_decide_over_tokens_when_both_are_planned():
    assert Progress(step=100, steps_planned=100, tokens=1, tokens_planned=2).reached_plan
    assert not Progress(step=50, steps_planned=100, tokens=2, tokens_planned=2).reached_plan
    assert Progress(step=50, steps_planned=100, tokens=2, tokens_planned=2).fraction == 0.5


def test_fraction_by_tokens_when_steps_are_not_planned():
    assert Progress(step=10, tokens=3, tokens_planned=4).fraction == 0.75
    assert Progress(tokens=3, tokens_planned=0).fraction is None
    assert Progress(step=0, steps_planned=4).fraction == 0.0


def test_the_lr_decay_must_be_reached_exactly_as_well():
    assert Progress(step=100, steps_planned=100, decay_end_step=100).reached_plan
    assert not Progress(step=100, steps_planned=100, decay_end_step=101).reached_plan
    tokens = Progress(step=80, tokens=10, tokens_planned=10, decay_end_step=80)
    assert tokens.reached_plan
    assert not Progress(step=79, tokens=10, tokens_planned=10, decay_end_step=80).reached_plan
    # no step recorded: the decay cannot be checked, the token plan decides
    assert Progress(tokens=10, tokens_planned=10, decay_end_step=80).reached_plan


# what its status says


@pytest.mark.parametrize("state", ["killed", "failed", "timeout"])
def test_a_run_that_reached_its_plan_but_died_is_not_evidence(state):
    run = run_with(step=100, steps_planned=100, state=state)
    assert not run.finished
    assert run.status == f"unfinished: {state} at step 100/100"


def test_a_run_that_reached_its_plan_is_finished_whatever_else_it_says():
    assert run_with(step=100, steps_planned=100).finished
    assert run_with(step=100, steps_planned=100, state="running").status == "finished"


def test_running_and_launched():
    assert run_with(step=10, steps_planned=100).status == "running"
    assert run_with(step=10, steps_planned=100, state="running").status == "running"
    assert run_with(tokens=10, tokens_planned=100).status == "running"
    assert run_with(step=0, steps_planned=100).status == "launched"
    assert run_with(state="running").status == "launched"


def test_where_a_stopped_run_stopped():
    by_step = run_with(step=1_500, steps_planned=3_000, state="finished")
    assert by_step.status == "unfinished: stopped before its plan at step 1,500/3,000"
    by_tokens = run_with(tokens=6_000, tokens_planned=8_000, state="failed")
    assert by_tokens.status == "unfinished: failed at 6,000/8,000 tokens"
    no_plan = run_with(step=5, state="timeout")
    assert no_plan.status == "unfinished: timeout"


def test_lr_decay_incomplete_at_the_end_of_the_plan():
    steps = run_with(step=100, steps_planned=100, decay_end_step=120, state="finished")
    assert steps.status == "unfinished: lr decay incomplete at step 100/100"
    tokens = run_with(step=80, tokens=10, tokens_planned=10, decay_end_step=90, state="finished")
    assert tokens.status == "unfinished: lr decay incomplete at 10/10 tokens"
    # the decay reached exactly, but the run was killed there: it says so
    killed = run_with(step=100, steps_planned=100, decay_end_step=100, state="killed")
    assert killed.status == "unfinished: killed at step 100/100"
    # a run short of its plan is short of its plan, whatever its decay
    short = run_with(step=50, steps_planned=100, decay_end_step=120, state="failed")
    assert short.status == "unfinished: failed at step 50/100"


# the numbers a record may hold


def test_tokens_from_results_when_progress_has_none(tmp_path):
    path = folder(
        tmp_path,
        progress={"tokens_planned": 100, "state": "finished"},
        results={"final_loss": 2.5, "tokens": 100},
    )
    run = read_run(path)
    assert run.progress.tokens == 100 and run.finished
    both = folder(
        tmp_path, "s", progress={"tokens": 50, "tokens_planned": 100}, results={"tokens": 100}
    )
    assert read_run(both).progress.tokens == 50


def test_every_record_read_in_full(tmp_path):
    path = folder(
        tmp_path,
        progress={
            "step": 3,
            "steps_planned": 4,
            "tokens": 30,
            "tokens_planned": 40,
            "state": "running",
            "lr_schedule": {"decay_end_step": 4},
        },
        results={"final_loss": 2, "flops": 1e19, "params": 4e8, "active_params": 1e8, "tokens": 30},
        launch={
            "git_commit": "abc",
            "git_dirty": True,
            "seed": 7,
            "launched_by": "ana",
            "launched_at": "2026-10-03 09:00",
        },
    )
    run = read_run(path)
    assert run.progress == Progress(3, 4, 30, 40, "running", 4)
    assert run.results == Results(2.0, 1e19, 4e8, 1e8, 30)
    assert isinstance(run.results.final_loss, float) and isinstance(run.results.tokens, int)
    assert run.launch.git_dirty is True and run.launch.seed == 7
    assert run.launch.launched_at == "2026-10-03 09:00" and run.launch.git_commit == "abc"
    assert run.run_id == "r" and run.config_file == path / "config.yaml"
    assert run.config == {"model": {"d_model": 512, "n_layers": 8}}


def test_nulls_are_absent(tmp_path):
    path = folder(
        tmp_path,
        progress={"step": None, "state": None, "lr_schedule": None},
        results={"final_loss": None},
        launch={"seed": None, "git_dirty": None, "git_commit": None},
    )
    run = read_run(path)
    assert run.progress == Progress() and run.results == Results()
    assert run.launch.seed is None and run.launch.git_commit is None


def test_zero_is_a_number_and_the_largest_count_is_kept(tmp_path):
    path = folder(
        tmp_path,
        progress={"step": 0, "steps_planned": 5, "tokens": MAX_INT},
        results={"final_loss": 0.0, "flops": 0},
    )
    run = read_run(path)
    assert run.progress.step == 0 and run.progress.tokens == MAX_INT
    assert run.results.final_loss == 0.0 and run.results.flops == 0.0


@pytest.mark.parametrize("key", ["step", "steps_planned", "tokens", "tokens_planned"])
def test_every_count_is_a_whole_number(tmp_path, key):
    path = folder(tmp_path, progress={key: 2.5})
    with pytest.raises(RunError, match=f"progress.json: {key} must be a whole number, not 2.5"):
        read_run(path)


def test_counts_in_results_and_the_lr_schedule_are_whole_numbers(tmp_path):
    with pytest.raises(RunError, match="results.json: tokens must be a whole number, not 2.5"):
        read_run(folder(tmp_path, results={"tokens": 2.5}))
    with pytest.raises(RunError, match="decay_end_step must be a whole number, not 2.5"):
        read_run(folder(tmp_path, "s", progress={"lr_schedule": {"decay_end_step": 2.5}}))
    assert read_run(folder(tmp_path, "t", progress={"step": 3.0})).progress.step == 3


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("progress", {"tokens": 2**63}, "tokens is too large (9.22e+18; at most 9.22e+18)"),
        ("progress", {"step": -1}, "step is negative (-1)"),
        ("progress", {"step": True}, "step must be a number, not True"),
        ("progress", {"step": "10"}, "step must be a number, not '10'"),
        ("progress", {"steps_planned": 0}, "steps_planned is 0"),
        ("progress", {"step": 6, "steps_planned": 5}, "step 6 is beyond steps_planned 5"),
        ("progress", {"lr_schedule": [1]}, "lr_schedule must be a mapping"),
        ("progress", {"state": "done"}, f"state must be one of {', '.join(STATES)}, not 'done'"),
        ("results", {"final_loss": "2.9"}, "final_loss must be a number, not '2.9'"),
        ("results", {"final_loss": -0.5}, "final_loss is negative (-0.5)"),
        ("results", {"flops": [1]}, "flops must be a number, not [1]"),
        ("launch", {"seed": 1.5}, "seed must be an integer, not 1.5"),
        ("launch", {"seed": False}, "seed must be an integer, not False"),
        ("launch", {"git_dirty": "yes"}, "git_dirty must be true or false, not 'yes'"),
        ("launch", {"launched_by": 7}, "launched_by must be text, not 7"),
        ("launch", {"git_commit": ["a"]}, "git_commit must be text, not ['a']"),
    ],
)
def test_a_bad_value_is_named_with_its_file(tmp_path, name, data, message):
    path = folder(tmp_path, **{name: data})
    with pytest.raises(RunError) as info:
        read_run(path)
    assert str(info.value) == f"{path / (name + '.json')}: {message}"


def test_a_steps_planned_alone_is_read(tmp_path):
    run = read_run(folder(tmp_path, progress={"steps_planned": 5}))
    assert run.progress.steps_planned == 5 and run.status == "launched"


def test_a_missing_folder_and_a_file_are_named(tmp_path):
    with pytest.raises(RunError, match="run folder not found"):
        read_run(tmp_path / "nothing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="file: not a folder"):
        read_run(tmp_path / "file")


def test_a_config_already_parsed_is_taken_as_given(tmp_path):
    path = folder(tmp_path, progress={"step": 1, "steps_planned": 2})
    run = read_run(path, config=("config.yaml", {"lr": 0.1}))
    assert run.config == {"lr": 0.1} and run.config_file == path / "config.yaml"
    assert run.progress.step == 1


def test_a_record_linked_from_outside_the_project_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    write_json(outside / "progress.json", {"step": 1})
    project = tmp_path / "project"
    project.mkdir()
    path = folder(project)
    os.symlink(outside / "progress.json", path / "progress.json")
    with pytest.raises(RunError, match="leads outside the project's folders"):
        read_run(path, within=[project])
    assert read_run(path, within=[project, outside]).progress.step == 1


# the launch copy


def test_launch_copy_round_trips_the_config(tmp_path):
    run = read_run(folder(tmp_path))
    text = launch_copy_text(run)
    assert text == b'{\n "model": {\n  "d_model": 512,\n  "n_layers": 8\n }\n}\n'
    assert launch_copy(run) is None
    (run.path / LAUNCH_COPY).write_bytes(text)
    assert launch_copy(run) == run.config


def test_a_launch_copy_that_is_a_link_or_unreadable_is_none(tmp_path):
    run = read_run(folder(tmp_path))
    real = tmp_path / "copy.json"
    real.write_bytes(launch_copy_text(run))
    (run.path / LAUNCH_COPY).symlink_to(real)
    assert launch_copy(run) is None
    (run.path / LAUNCH_COPY).unlink()
    (run.path / LAUNCH_COPY).write_text("{not json")
    assert launch_copy(run) is None
    (run.path / LAUNCH_COPY).unlink()
    (run.path / LAUNCH_COPY).mkdir()
    assert launch_copy(run) is None


def test_write_json_writes_what_a_trainer_would(tmp_path):
    write_json(tmp_path / "x.json", {"a": 1})
    assert (tmp_path / "x.json").read_text() == '{\n  "a": 1\n}\n'
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}


# one model size


def sized(params=None, active=None, model=None) -> Run:
    config = {"model": model if model is not None else {"d_model": 512}}
    return Run(
        "r", Path("r"), config, Path("c"), results=Results(params=params, active_params=active)
    )


def test_same_size_by_parameters_within_five_percent():
    assert same_size(sized(1e9), sized(1.05e9))
    assert same_size(sized(100.0), sized(95.0))  # exactly 5%
    assert not same_size(sized(1e9), sized(1.06e9))
    assert same_size(sized(1e9, model={"d_model": 1}), sized(1.04e9, model={"d_model": 2}))


def test_active_parameters_count_before_total():
    moe = sized(8e9, active=1e9, model={"d_model": 1})
    dense = sized(1e9, model={"d_model": 2})
    assert same_size(moe, dense) and same_size(dense, moe)
    assert not same_size(sized(8e9, model={"d_model": 1}), dense)


def test_without_parameters_on_both_the_shape_decides():
    a = sized(1e9, model={"d_model": 512, "n_layers": 8})
    b = sized(None, model={"d_model": 512, "n_layers": 8})
    c = sized(None, model={"d_model": 512, "n_layers": 12})
    assert same_size(a, b) and same_size(b, a)
    assert not same_size(a, c) and not same_size(c, a)
    assert same_size(sized(), sized())


def test_a_model_that_is_not_a_mapping_is_no_size():
    text = sized(model="gpt-400m")  # type: ignore[arg-type]
    assert not same_size(text, sized()) and not same_size(sized(), text)
    assert not same_size(text, text)


# a run that diverged


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("progress", '{"step": 30, "steps_planned": 100, "loss": NaN}'),
        ("progress", '{"step": 30, "steps_planned": 100, "loss": " -Infinity "}'),
        ("results", '{"final_loss": Infinity}'),
        ("results", '{"final_loss": "nan"}'),
        ("results", '{"final_loss": "+INF"}'),
    ],
)
def test_a_loss_that_is_not_finite_is_a_run_that_diverged(tmp_path, name, text):
    files = {"progress": {"step": 30, "steps_planned": 100}, "results": {"flops": 1e18}}
    files[name] = text
    run = read_run(folder(tmp_path, **files))
    assert run.diverged and run.progress.state == "diverged"
    assert not run.finished and run.results.final_loss is None
    assert run.status == "diverged at step 30/100"


def test_one_diverged_record_is_enough(tmp_path):
    path = folder(
        tmp_path,
        progress='{"step": 100, "steps_planned": 100, "loss": NaN, "state": "finished"}',
        results={"final_loss": 2.5},
    )
    run = read_run(path)
    assert run.diverged and not run.finished and run.results.final_loss is None
    finite = read_run(
        folder(tmp_path, "s", progress={"step": 100, "steps_planned": 100, "loss": 2.6})
    )
    assert not finite.diverged and finite.finished


def test_a_run_that_says_it_diverged_shows_no_loss(tmp_path):
    path = folder(
        tmp_path,
        progress={"tokens": 5, "tokens_planned": 10, "state": "diverged"},
        results={"final_loss": 2.5},
    )
    run = read_run(path)
    assert run.diverged and run.results.final_loss is None
    assert run.status == "diverged at 5/10 tokens"
    assert run_with(state="diverged").status == "diverged"


def test_a_loss_as_text_must_say_nan_or_inf(tmp_path):
    path = folder(tmp_path, results={"final_loss": "2.9"})
    with pytest.raises(RunError, match="final_loss must be a number, not '2.9'"):
        read_run(path)
    path = folder(tmp_path, "s", progress={"loss": "lots"})
    with pytest.raises(RunError, match="progress.json: loss must be a number, not 'lots'"):
        read_run(path)


# what else may end a run, and what its status cell says


def test_an_ending_known_outside_the_files_is_its_status_unless_it_finished_or_diverged():
    stalled = Run(
        "r", Path("r"), {}, Path("c"), Progress(step=5, steps_planned=10), ending="stalled"
    )
    assert stalled.status == "stalled" and not stalled.finished
    done = Run("r", Path("r"), {}, Path("c"), Progress(step=10, steps_planned=10), ending="x")
    assert done.status == "finished"
    gone = Progress(step=5, steps_planned=10, state="diverged")
    assert Run("r", Path("r"), {}, Path("c"), gone, ending="x").status == "diverged at step 5/10"


def test_error_status_names_the_file_inside_its_folder(tmp_path):
    run_dir = tmp_path / "runs" / "r"
    error = RunError(f"{run_dir}/results.json: final_loss\nmust be  a number")
    assert error_status(error, run_dir) == "error: results.json: final_loss must be a number"
    assert error_status(f"{run_dir.resolve()}/x.json: bad", run_dir) == "error: x.json: bad"
    assert error_status(f"{run_dir}/x.json:\n bad") == f"error: {run_dir}/x.json: bad"


# the Slurm job a run ran in


def test_slurm_job_as_people_name_it(tmp_path):
    path = folder(
        tmp_path,
        launch={"slurm_job_id": 4250, "slurm_array_job_id": "4242", "slurm_array_task_id": 0},
    )
    launch = read_run(path).launch
    assert launch.slurm_job_id == "4250"
    assert (launch.slurm_array_job_id, launch.slurm_array_task_id) == (4242, 0)
    assert launch.slurm_job == "4242_0"
    assert Launch(slurm_job_id="4250", slurm_array_job_id=4242).slurm_job == "4250"
    assert Launch(slurm_job_id="4250", slurm_array_task_id=3).slurm_job == "4250"
    assert Launch().slurm_job is None
    plain = read_run(folder(tmp_path, "s", launch={"slurm_job_id": "77"})).launch
    assert plain.slurm_job == "77" and plain.slurm_array_task_id is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"slurm_job_id": "42a"},
            "slurm_job_id must be the job's number (SLURM_JOB_ID, e.g. 4242)",
        ),
        ({"slurm_job_id": True}, "slurm_job_id must be the job's number"),
        ({"slurm_job_id": "\u0664\u0662"}, "slurm_job_id must be the job's number"),
        ({"slurm_job_id": -1}, "slurm_job_id must be the job's number"),
        ({"slurm_array_task_id": -1}, "slurm_array_task_id must be a whole number, not -1"),
        ({"slurm_array_task_id": "x"}, "slurm_array_task_id must be a whole number, not 'x'"),
        ({"slurm_array_job_id": True}, "slurm_array_job_id must be a whole number, not True"),
        ({"slurm_array_job_id": 4.0}, "slurm_array_job_id must be a whole number, not 4.0"),
    ],
)
def test_a_slurm_id_that_is_not_a_number_is_named(tmp_path, data, message):
    path = folder(tmp_path, launch=data)
    with pytest.raises(RunError, match=re.escape(message)):
        read_run(path)
