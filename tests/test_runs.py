"""The run-folder contract: the shipped example reads cleanly; bad files are named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sheetsync.errors import RunError
from sheetsync.records.runs import read_run

EXAMPLE = Path(__file__).parent.parent / "templates" / "example-run"


def test_shipped_example_run_folder_reads_as_finished():
    run = read_run(EXAMPLE)
    assert run.finished and run.status == "finished"
    assert run.results.final_loss == 2.9471
    assert run.config["model"]["prores"] is True
    assert run.launch.git_commit == "3f9c2e1a7b44"


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "r"
    shutil.copytree(EXAMPLE, target)
    return target


def test_lr_decay_not_completed_is_unfinished(tmp_path):
    run_dir = copy_example(tmp_path)
    progress = json.loads((run_dir / "progress.json").read_text())
    progress["lr_schedule"]["decay_end_step"] = 5000
    (run_dir / "progress.json").write_text(json.dumps(progress))
    run = read_run(run_dir)
    assert not run.finished
    assert run.status == "unfinished: lr decay incomplete at step 3,814/3,814"


def test_tokens_plan_counts_when_steps_are_not_recorded(tmp_path):
    run_dir = copy_example(tmp_path)
    (run_dir / "progress.json").write_text(
        json.dumps({"tokens": 6_000_000_000, "tokens_planned": 8_000_000_000, "state": "timeout"})
    )
    run = read_run(run_dir)
    assert run.status == "unfinished: timeout at 6,000,000,000/8,000,000,000 tokens"
    assert run.progress.fraction == 0.75


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("progress.json", '{"step": 10, "steps_planned": 5}', "step 10 is beyond steps_planned 5"),
        ("progress.json", '{"state": "exploded"}', "state must be one of running, finished"),
        ("progress.json", '{"step": 1.5}', "step must be a whole number, not 1.5"),
        ("results.json", '{"final_loss": 2.0', "invalid JSON"),
        ("results.json", '{"final_loss": "low"}', "final_loss must be a number, not 'low'"),
        ("launch.json", '{"seed": "x"}', "seed must be an integer, not 'x'"),
        ("config.yaml", "a: 1\na: 2\n", "config.yaml:2: duplicate key 'a'"),
        ("config.yaml", "- just\n- a list\n", "expected a mapping at the top level, found list"),
    ],
)
def test_bad_files_give_one_line_naming_file(tmp_path, name, text, message):
    run_dir = copy_example(tmp_path)
    (run_dir / name).write_text(text)
    with pytest.raises(RunError) as info:
        read_run(run_dir)
    assert message in str(info.value)
    assert str(run_dir / name) in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_config_is_named(tmp_path):
    run_dir = copy_example(tmp_path)
    (run_dir / "config.yaml").unlink()
    with pytest.raises(RunError, match="no config.yaml or config.json in the run folder"):
        read_run(run_dir)


def test_git_commit_of_the_run_folder_is_recorded_and_marked_dirty(tmp_path):
    import subprocess

    from sheetsync.records.git import git_commit

    repo = tmp_path / "repo"
    run_dir = repo / "runs" / "r"
    shutil.copytree(EXAMPLE, run_dir)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    head = subprocess.run(
        [*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_commit(run_dir) == head
    (run_dir / "config.yaml").write_text("changed: true\n")
    assert git_commit(run_dir) == head + "-dirty"
    assert git_commit(tmp_path) is None
