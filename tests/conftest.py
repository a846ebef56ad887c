"""Shared fixtures: a sheetsync project in tmp_path with a dated baseline and run folders."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sheetsync.project import Project, load_project
from sheetsync.sheet.init import init_sheet, write_project_files

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


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """An initialised project: sheetsync.yaml, layout, baseline b@2026-06-01, empty sheet."""
    root = tmp_path / "proj"
    write_project_files(root)
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    proj = load_project(root / "sheetsync.yaml")
    init_sheet(proj)
    return proj


@pytest.fixture
def run_factory(project: Project) -> Callable[..., Path]:
    return lambda run_id, **kw: write_run(project, run_id, **kw)
