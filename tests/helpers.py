"""Helpers the test files share: a run folder as a trainer writes it, and the CLI on a project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result

from sheetsync.cli import main
from sheetsync.project import Project

BASE = {
    "model": {"d_model": 1024, "n_layers": 16, "prores": False},
    "optim": {"lr": 3.0e-4, "warmup_steps": 1000},
    "data": {"global_batch_size": 256},
}


def write_run(
    project: Project,
    run_id: str,
    changes: dict[str, Any] | None = None,
    step: int = 1000,
    steps_planned: int = 1000,
    loss: Any = 2.5,
    state: str = "finished",
    tokens: int = 1_000_000,
) -> Path:
    """A run folder as a trainer writes it."""
    folder = project.runs_dir / run_id
    folder.mkdir(parents=True, exist_ok=True)
    config = json.loads(json.dumps(BASE))
    for dotted, value in (changes or {}).items():
        *parents, last = dotted.split(".")
        node = config
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / "progress.json").write_text(
        json.dumps({"step": step, "steps_planned": steps_planned, "tokens": tokens, "state": state})
    )
    (folder / "results.json").write_text(json.dumps({"final_loss": loss, "flops": 6e18}))
    (folder / "launch.json").write_text(
        json.dumps(
            {
                "git_commit": "abc123",
                "git_dirty": False,
                "seed": 1,
                "launched_by": "tester",
                "launched_at": "2026-11-01 10:00",
            }
        )
    )
    return folder


def cli(project: Project, *args: str, input: str | None = None) -> Result:
    """`sheetsync --config <project> ARGS`, through click's test runner."""
    return CliRunner().invoke(main, ["--config", str(project.path), *args], input=input)


PUBLISHED = Path(__file__).resolve().parents[2] / "shared" / "data" / "chinchilla_ladder.csv"


def published_ladder() -> Path:
    """The published Chinchilla ladder (shared/data, beside the repository). In CI it must be
    there (the known-answer tests must run); elsewhere, without it, those tests skip."""
    import os

    import pytest

    if not PUBLISHED.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"{PUBLISHED}: CI runs the published-ladder tests")
        pytest.skip(f"published ladder not provided at {PUBLISHED}")
    return PUBLISHED
