"""The second example: `sheetsync demo --source wandb` logs the demo's runs to W&B (offline,
with the real wandb), reads them from there, and fills the same results, fit and gains as the
run-folder demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
SAME = ("status", "progress", "tokens", "compute (FLOPs)", "final loss", "gain", "gain 90%")


def _demo(folder: Path, *args: str) -> dict[str, dict]:
    subprocess.run(
        [sys.executable, "-m", "sheetsync", "demo", str(folder), *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(folder.parent), "WANDB_MODE": "offline"},
        check=True,
        capture_output=True,
        timeout=600,
    )
    grid = list(load_workbook(folder / "experiments.xlsx")["Runs"].iter_rows(values_only=True))
    return {r[0]: dict(zip(grid[0], r, strict=False)) for r in grid[1:] if r[0]}


def test_the_wandb_demo_fills_the_same_results_and_gains_as_the_folder_demo(tmp_path):
    pytest.importorskip("wandb", reason="`demo --source wandb` needs `pip install wandb`")
    from_wandb = _demo(tmp_path / "wandb-demo", "--source", "wandb")
    from_folders = _demo(tmp_path / "folder-demo")
    assert sorted(from_wandb) == sorted(from_folders) and len(from_wandb) == 16
    for run_id, row in from_wandb.items():
        assert {k: row[k] for k in SAME} == {k: from_folders[run_id][k] for k in SAME}, run_id
    assert from_wandb["prores-1000m"]["gain"] > 1.1
    assert from_wandb["swa-512-600m"]["status"] == "unfinished: killed at step 3,433/5,722"
    assert from_wandb["ladder-400m"]["git commit"] == "3f9c2e1a7b44"
    assert "stale" in from_wandb["prores-400m"]["checks"]
    assert (tmp_path / "wandb-demo" / "wandb").is_dir()
    assert not (tmp_path / "wandb-demo" / "runs").exists() or not any(
        (tmp_path / "wandb-demo" / "runs").iterdir()
    )
