"""Shared fixtures: a sheetsync project in tmp_path with a dated baseline and run folders."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from sheetsync.project import Project, load_project
from sheetsync.sheet.init import init_sheet, write_project_files
from tests.helpers import BASE, write_run


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): two processes for the whole suite, one for chosen
    files, where starting a second one costs more than it saves."""
    if config.args_source is not pytest.Config.ArgsSource.TESTPATHS:
        return 0
    return min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


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


@pytest.fixture(scope="session")
def office_profile(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A LibreOffice user profile of its own, so tests never touch (or wait on) a person's."""
    return (tmp_path_factory.mktemp("lo-profile")).as_uri()
