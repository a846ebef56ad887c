"""Local workbook at scale: a sync that changes 1% of the cells of a 10,000-run x 40-column
workbook, against openpyxl's own load + save of that workbook (the floor for this backend);
and a sync that changes nothing, which must not save the file.

    python -m benchmarks.bench_local [RUNS]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

from sheetsync.project import load_project
from sheetsync.sheet.init import init_sheet, write_project_files
from sheetsync.sheet.sync import sync_runs

BASE = {
    "model": {"d_model": 1024, "n_layers": 16, "prores": False},
    "optim": {"lr": 3e-4},
    "data": {"global_batch_size": 256},
}
EXTRA_COLUMNS = 11  # people's own columns: 40 columns with the layout's 29


def build(root: Path, runs: int) -> object:
    """A project whose workbook already holds `runs` synced rows."""
    from openpyxl import load_workbook

    from sheetsync.records.runs import read_run
    from sheetsync.sheet.backends import open_backend
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
        (folder / "progress.json").write_text(
            json.dumps({"step": 1000, "steps_planned": 1000, "tokens": 10**9, "state": "finished"})
        )
        (folder / "results.json").write_text(json.dumps({"final_loss": 2.5, "flops": 6e18}))
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
    wb = load_workbook(project.sheet_target)
    ws = wb[layout.runs.tab]
    width = ws.max_column
    for j in range(EXTRA_COLUMNS):
        ws.cell(1, width + 1 + j).value = f"person {j}"
        for r in range(2, runs + 2):
            ws.cell(r, width + 1 + j).value = f"note {r}"
    wb.save(project.sheet_target)
    sync_runs(project)  # first full sync: everything sheetsync owns is now current
    return project


def floor_seconds(path: Path) -> float:
    from openpyxl import load_workbook

    start = time.perf_counter()
    wb = load_workbook(path)
    wb.save(path.with_suffix(".floor.xlsx"))
    return time.perf_counter() - start


def main(runs: int = 10_000) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        project = build(Path(tmp) / "proj", runs)
        path = Path(project.sheet_target)
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True)["Runs"]
        cols = ws.max_column
        cells = runs * cols
        changed_runs = cells // 100 // 2  # 1% of cells: loss and status of this many runs
        for i in range(changed_runs):
            folder = project.runs_dir / f"run-{i * (runs // changed_runs):05d}"
            (folder / "results.json").write_text(json.dumps({"final_loss": 2.25, "flops": 6e18}))
            (folder / "progress.json").write_text(
                json.dumps(
                    {"step": 1000, "steps_planned": 1000, "tokens": 2 * 10**9, "state": "finished"}
                )
            )
        floor = floor_seconds(path)
        start = time.perf_counter()
        result = sync_runs(project)
        changed = time.perf_counter() - start
        mtime = path.stat().st_mtime_ns
        start = time.perf_counter()
        idle = sync_runs(project)
        nochange = time.perf_counter() - start
        saved = path.stat().st_mtime_ns != mtime
    figures = {
        "runs": runs,
        "columns": cols,
        "cells_written": len(result.plan.changes),
        "floor_s": floor,
        "sync_1pct_s": changed,
        "ratio": changed / floor,
        "nochange_s": nochange,
        "nochange_saved_file": float(saved),
        "nochange_planned": len(idle.plan.changes),
    }
    print(
        f"local: {runs:,} runs x {cols} columns; openpyxl load+save {floor:.2f}s; "
        f"sync writing {len(result.plan.changes):,} cells (1%) {changed:.2f}s = "
        f"{changed / floor:.2f}x the floor (goal <= 1.3x); no-change sync {nochange:.2f}s, "
        f"saved the file: {'yes' if saved else 'no'}"
    )
    return figures


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
