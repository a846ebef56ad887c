"""Local workbook at scale: for 1,000 / 10,000 / 50,000 runs x 40 columns, a sync that
changes 1% of the cells (with the run-folder cache warm, then cold), a sync that changes
nothing (it must not save the file), `ls` and `check`, each beside openpyxl's own load + save
of the same workbook; and how the cost grows with runs.

    python -m benchmarks.bench_local [RUNS ...]

CPU seconds of this process (time.process_time), best of REPEAT (one at 50,000 runs): the
machine's two cores are shared, and CPU time is what other programs do not blur. Every step
here reads or writes local files only, so little of its wall time is waiting.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from sheetsync.project import Project, load_project
from sheetsync.records.runcache import CACHE_FILE
from sheetsync.sheet.init import init_sheet, write_project_files
from sheetsync.sheet.sync import sync_runs

BASE = {
    "model": {"d_model": 1024, "n_layers": 16, "prores": False},
    "optim": {"lr": 3e-4},
    "data": {"global_batch_size": 256},
}
EXTRA_COLUMNS = 11  # people's own columns: 40 columns with the layout's 29
SIZES = (1_000, 10_000, 50_000)
REPEAT = 3
LONG_AGO = time.time() - 86_400  # run files older than the cache's "too new to trust"


def _results(
    folder: Path, loss: float, tokens: int, when: float, step: int = 1000, state: str = "finished"
) -> None:
    (folder / "results.json").write_text(json.dumps({"final_loss": loss, "flops": 6e18}))
    (folder / "progress.json").write_text(
        json.dumps({"step": step, "steps_planned": 1000, "tokens": tokens, "state": state})
    )
    for name in ("results.json", "progress.json"):
        os.utime(folder / name, (when, when))


def build(root: Path, runs: int) -> Project:
    """A project whose workbook holds `runs` synced rows and 11 columns of people's notes."""
    from sheetsync.records.runs import read_run
    from sheetsync.sheet.backends import open_backend
    from sheetsync.sheet.backends.xlsx import patch_cells
    from sheetsync.sheet.cells import launch_cells, progress_cells
    from sheetsync.sheet.header import read_header
    from sheetsync.sheet.plan import Plan, State, finish, plan_append

    write_project_files(root)
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    project = load_project(root / "sheetsync.yaml")
    init_sheet(project)
    baseline = project.registry().resolve("b")
    rows = []
    for i in range(runs):
        folder = project.runs_dir / f"run-{i:05d}"
        folder.mkdir(parents=True)
        config = json.loads(json.dumps(BASE))
        config["model"]["d_model"] = 256 + i % 64
        (folder / "config.yaml").write_text(yaml.safe_dump(config))
        os.utime(folder / "config.yaml", (LONG_AGO, LONG_AGO))
        _results(folder, 2.5, 10**9, LONG_AGO)
        run = read_run(folder)
        cells = launch_cells(run, baseline, f"question {i % 50}", person="bench")
        cells.update(progress_cells(run, {}))
        rows.append(cells)
    backend = open_backend(project)
    layout = project.layout()
    snapshot = backend.read([layout.runs.tab, layout.state_tab])
    grid = snapshot.grid(layout.runs.tab)
    header = read_header(grid, layout.runs)
    state = State(layout.state_tab, snapshot.grid(layout.state_tab))
    plan = finish(Plan(plan_append(grid, header, rows, state)), state, [header])
    backend.write(snapshot, plan.writes())
    width = len(layout.runs.columns)
    notes: dict[tuple[int, int], object] = {}
    for j in range(EXTRA_COLUMNS):
        notes[(1, width + 1 + j)] = f"person {j}"
        for r in range(2, runs + 2):
            notes[(r, width + 1 + j)] = f"note {r}"
    book = Path(project.sheet_target)
    patch_cells(book, book, {layout.runs.tab: notes})
    sync_runs(project)  # first full sync: everything sheetsync owns is current, cache warm
    return project


def cpu(
    fn: Callable[[], object], repeat: int, before: Callable[[], object] = lambda: None
) -> float:
    """Least CPU seconds of `repeat` calls of `fn`, each after an untimed `before()`."""
    best = float("inf")
    for _ in range(repeat):
        before()
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def floor_seconds(path: Path, repeat: int) -> float:
    from openpyxl import load_workbook

    return cpu(lambda: load_workbook(path).save(path.with_suffix(".floor.xlsx")), repeat)


def measure(runs: int) -> dict[str, float]:
    from click.testing import CliRunner

    from sheetsync.cli import main as cli
    from sheetsync.sheet.checks import check_runs

    repeat = 1 if runs >= 50_000 else REPEAT
    with tempfile.TemporaryDirectory() as tmp:
        project = build(Path(tmp) / "proj", runs)
        book = Path(project.sheet_target)
        cache = project.root / CACHE_FILE
        # 1% of the cells: 8% of the runs move between running and finished, which changes
        # their status, progress, tokens, loss and checks cells (5 each)
        changed = [project.runs_dir / f"run-{i:05d}" for i in range(0, runs, 12)][: runs // 12]
        flips = iter(range(1, 1000))

        def change() -> None:
            k = next(flips)
            for folder in changed:
                if k % 2:
                    _results(folder, 2.6, 5 * 10**8, LONG_AGO + k, 500, "running")
                else:
                    _results(folder, 2.5, 10**9, LONG_AGO + k)

        def change_cold() -> None:
            change()
            cache.unlink(missing_ok=True)

        floor = floor_seconds(book, repeat)
        warm = cpu(lambda: sync_runs(project), repeat, change)
        change()
        result = sync_runs(project)
        cells = len(result.plan.changes)
        cold = cpu(lambda: sync_runs(project), repeat, change_cold)
        mtime = book.stat().st_mtime_ns
        idle = cpu(lambda: sync_runs(project), repeat)
        saved = book.stat().st_mtime_ns != mtime
        args = ["--config", str(project.path)]
        ls = cpu(lambda: CliRunner().invoke(cli, [*args, "ls"]), repeat)
        check_runs(project)  # untimed: fills the cache's findings, as the syncs above filled theirs
        check = cpu(lambda: check_runs(project), repeat)
        check_cold = cpu(lambda: check_runs(project), 1, lambda: cache.unlink(missing_ok=True))
    figures = {
        "runs": runs, "cells": cells, "floor": floor, "warm": warm, "cold": cold,
        "idle": idle, "saved": float(saved), "ls": ls, "check": check, "check_cold": check_cold,
    }  # fmt: skip
    print(
        f"local, {runs:,} runs x 40 columns (CPU s, best of {repeat}): openpyxl load+save "
        f"{floor:.2f}s; sync writing {cells:,} cells (1%): cache warm {warm:.2f}s = "
        f"{warm / floor:.3f}x (goal <= 0.35x), cold {cold:.2f}s = {cold / floor:.3f}x; "
        f"no-change sync {idle:.2f}s = {idle / floor:.3f}x (goal <= 0.25x), saved the file: "
        f"{'yes' if saved else 'no'}; ls {ls:.2f}s = {ls / floor:.3f}x; check {check:.2f}s = "
        f"{check / floor:.3f}x (cold cache {check_cold:.2f}s)",
        flush=True,
    )
    return figures


def growth(all_figures: list[dict[str, float]]) -> None:
    """Milliseconds per 1,000 runs at each size: flat when the cost is linear in runs."""
    if len(all_figures) < 2:
        return
    for key, label in (("floor", "openpyxl load+save"), ("warm", "1% sync, warm"),
                       ("cold", "1% sync, cold"), ("idle", "no-change sync"), ("ls", "ls"),
                       ("check", "check")):  # fmt: skip
        per = [f[key] / f["runs"] * 1e6 for f in all_figures]
        sizes = " / ".join(f"{f['runs']:,.0f}" for f in all_figures)
        shown = " / ".join(f"{p:.0f}" for p in per)
        print(f"local growth, {label}: {shown} ms per 1,000 runs at {sizes} runs "
              f"(largest over smallest {per[-1] / per[0]:.2f}; 1.00 is linear)")  # fmt: skip


def main(sizes: tuple[int, ...] | int = SIZES) -> list[dict[str, float]]:
    from threadpoolctl import threadpool_limits

    sizes = (sizes,) if isinstance(sizes, int) else sizes
    with threadpool_limits(1):
        figures = [measure(runs) for runs in sizes]
    growth(figures)
    return figures


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
