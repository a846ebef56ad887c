"""Helpers for the run-source tests: a project whose `runs:` names a source, and a script run
in its own process the way a training script runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

from sheetsync.project import Project, load_project
from sheetsync.sheet.init import init_sheet, write_project_files
from tests.helpers import BASE

BASE_WITH_PLAN = {**BASE, "train": {"max_steps": 100, "seed": 1}}


def source_project(root: Path, runs: Any, baseline: dict[str, Any] | None = None) -> Project:
    """An initialised project reading its runs from `runs` (the `runs:` setting)."""
    write_project_files(root)
    config = root / "sheetsync.yaml"
    data = yaml.safe_load(config.read_text())
    data["runs"] = runs
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    (root / "baselines" / "b@2026-06-01.yaml").write_text(
        yaml.safe_dump(baseline or BASE_WITH_PLAN)
    )
    project = load_project(config)
    init_sheet(project)
    return project


def run_script(code: str, cwd: Path, env: dict[str, str] | None = None, timeout: int = 240) -> str:
    """Run `code` with this Python in `cwd`; its output, or an assertion naming what failed."""
    script = cwd / "write_runs.py"
    script.write_text(textwrap.dedent(code))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def git_repo(folder: Path) -> str:
    """A git repository with one commit in `folder`; its commit id."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    (folder / "train.txt").write_text("trainer\n")
    for args in (["init", "-q"], ["add", "train.txt"], ["commit", "-qm", "trainer"]):
        subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, check=True, capture_output=True, text=True
    )
    return head.stdout.strip()
