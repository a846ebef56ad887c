"""A demo project: two dated baselines, a scaling ladder, feature runs (one killed early,
one whose config was edited after launch), all recorded and synced into a local workbook.

Losses follow a known law L(C) = E + A * C^-alpha, so a feature run built to need k times
less compute than the baseline shows gain k once the ladder is fitted. Every run at the 600m
size shares a data-order effect (its loss 0.3% above the law, as runs of one size and one data
order do): the plain gain books it as the feature's, the gain anchored to the ladder's own
600m run does not.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import UsageError
from sheetsync.records.names import BaselineRef

LAW = {"E": 1.70, "A": 1145.0, "alpha": 0.155}
TOKENS_PER_PARAM = 20
BASELINE = "4b-moe"
FIRST, SECOND = "2026-06-01", "2026-09-01"
FIRST_REF, SECOND_REF = BaselineRef.of(BASELINE, FIRST), BaselineRef.of(BASELINE, SECOND)
SHARED_OFFSET = {6.0e8: 1.003}  # size -> loss factor every run at that size shares
TARGET_COMPUTE = "1e23"

BASE_CONFIG: dict[str, Any] = {
    "model": {
        "family": "moe",
        "d_model": 2048,
        "n_layers": 24,
        "n_heads": 16,
        "n_experts": 64,
        "experts_per_token": 8,
        "sliding_window": 4096,
        "qk_norm": False,
        "prores": False,
        "layernorm_scaling": False,
    },
    "optim": {"name": "adamw", "lr": 3.0e-4, "warmup_steps": 2000, "schedule": "cosine"},
    "data": {"mixture": "web-v3", "seq_len": 4096, "global_batch_size": 512},
    "parallel": {"tp": 2, "pp": 1, "ep": 8},
    "train": {"seed": 1234},
}


def loss_at(compute: float) -> float:
    """The demo baseline's true loss at a compute budget (FLOPs)."""
    return LAW["E"] + LAW["A"] * compute ** -LAW["alpha"]


@dataclass(frozen=True)
class DemoRun:
    run_id: str
    question: str
    baseline: str
    params: float
    gain: float = 1.0
    role: str = "feature"
    changes: dict[str, Any] = field(default_factory=dict)
    stop_at: float | None = None


def _runs() -> list[DemoRun]:
    ladder = [1.0e8, 1.5e8, 2.5e8, 4.0e8, 6.0e8, 1.0e9, 1.6e9]
    runs = [
        DemoRun(
            f"ladder-{int(n / 1e6)}m",
            "Scaling ladder for 4b-moe@2026-06-01",
            FIRST_REF,
            n,
            role="ladder",
            changes={"model.d_model": int(n / 3e5)},
        )
        for n in ladder
    ]
    methods = [  # a method's runs: name, research question, its config switch, (size, gain)
        (
            "prores",
            "Does ProRes (progressive residual warm-up) make training more compute efficient?",
            "model.prores",
            [(1.5e8, 1.10), (4.0e8, 1.14), (1.0e9, 1.18)],
        ),
        (
            "lns",
            "Does LayerNorm scaling (Curse of Depth) still help at larger scale?",
            "model.layernorm_scaling",
            [(1.5e8, 1.12), (4.0e8, 1.03), (1.0e9, 0.94)],
        ),
    ]
    for name, question, switch, points in methods:
        runs += [
            DemoRun(
                f"{name}-{int(n / 1e6)}m",
                question,
                FIRST_REF,
                n,
                k,
                changes={switch: True, "model.d_model": int(n / 3e5)},
            )
            for n, k in points
        ]
    runs += [
        DemoRun(
            "qk-norm-600m",
            "Does QK-norm let us keep the learning rate with fewer spikes?",
            FIRST_REF,
            6.0e8,
            1.04,
            changes={"model.qk_norm": True},
        ),
        DemoRun(
            "swa-512-600m",
            "Is a 512-token sliding window viable for most layers?",
            FIRST_REF,
            6.0e8,
            0.97,
            changes={"model.sliding_window": 512},
            stop_at=0.6,
        ),
        DemoRun(
            "baseline-600m-sep",
            "The 2026-09-01 baseline's own run (ProRes promoted).",
            SECOND_REF,
            6.0e8,
            1.15,
            role="baseline",
        ),
    ]
    return runs


def _set(config: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        config = config.setdefault(key, {})
    config[last] = value


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    import yaml

    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _write_run(folder: Path, spec: DemoRun, base: dict[str, Any], rng: random.Random) -> None:
    from sheetsync.records.runs import write_json

    folder.mkdir(parents=True)
    config = copy.deepcopy(base)
    for key, value in spec.changes.items():
        _set(config, key, value)
    _write_yaml(folder / "config.yaml", config)
    tokens_planned = int(spec.params * TOKENS_PER_PARAM)
    steps_planned = max(1000, tokens_planned // (512 * 4096))
    fraction = spec.stop_at or 1.0
    step = int(steps_planned * fraction)
    tokens = int(tokens_planned * fraction)
    compute = 6.0 * spec.params * tokens
    loss = loss_at(compute * spec.gain) * (1 + rng.gauss(0, 0.0003))
    if spec.stop_at is None:
        loss *= SHARED_OFFSET.get(spec.params, 1.0)
    state = "finished" if spec.stop_at is None else "killed"
    write_json(
        folder / "progress.json",
        {
            "step": step,
            "steps_planned": steps_planned,
            "tokens": tokens,
            "tokens_planned": tokens_planned,
            "state": state,
            "lr_schedule": {"name": "cosine", "decay_end_step": steps_planned},
        },
    )
    write_json(
        folder / "results.json",
        {
            "final_loss": round(loss, 5),
            "params": spec.params,
            "active_params": spec.params,
            "flops": compute,
        },
    )
    write_json(
        folder / "launch.json",
        {
            "git_commit": "3f9c2e1a7b44",
            "git_dirty": False,
            "seed": 1234,
            "launched_by": "demo",
            "launched_at": f"2026-10-0{1 + len(spec.run_id) % 9} 09:00",
        },
    )
    if spec.stop_at is None:
        write_json(folder / "evals.json", _evals(loss, spec, rng))


def _evals(loss: float, spec: DemoRun, rng: random.Random) -> dict[str, Any]:
    """Eval scores that improve as loss falls; gsm8k has repeated samples; one run lacks mmlu."""
    skill = max(0.0, 3.2 - loss)
    evals: dict[str, Any] = {
        "hellaswag": {"acc_norm": round(0.30 + 0.35 * skill, 4), "acc_norm_stderr": 0.004},
        "arc_challenge": {"acc_norm": round(0.22 + 0.25 * skill, 4), "acc_norm_stderr": 0.012},
        "mmlu": {"acc": round(0.25 + 0.12 * skill, 4), "acc_stderr": 0.004},
        "gsm8k": {
            "exact_match": {
                "samples": [
                    round(max(0.0, 0.02 + 0.10 * skill + rng.gauss(0, 0.01)), 4) for _ in range(4)
                ]
            }
        },
    }
    if spec.run_id == "qk-norm-600m":
        del evals["mmlu"]
    return evals


def _verdicts(project: Any) -> list[str]:
    """What the meeting reads: each method's verdict, and one run's plain and anchored gain."""
    from sheetsync.sheet.read import read_rows
    from sheetsync.sheet.verdicts import method_trends

    rows = read_rows(project)
    out = []
    for t in method_trends(rows.records, rows.fits, project):
        beside = [t.trend.flag, t.projection.text() if t.projection else ""]
        extra = "".join(f"; {b}" for b in beside if b)
        out.append(f"scaling: {t.method}: slope {t.trend.slope_text()}: {t.verdict}{extra}")
    for r in rows.records:
        if r.get("run") == "qk-norm-600m":
            out.append(
                f"gain: qk-norm-600m {r.get('gain')}x against the law, "
                f"{r.get('gain_anchored')}x anchored ({r.get('gain_anchored_interval')})"
            )
    return out


CONCLUSIONS = {  # what the team wrote in the Runs tab after the meeting before this one
    "prores-1000m": "helps at every budget: promoted into 4b-moe@2026-09-01",
    "lns-1000m": "the gain shrinks with scale: not promoted",
}


def _review(project: Any, workbook: Path) -> list[str]:
    """People write their conclusions in the Runs tab (by hand, as in LibreOffice); the next
    sync reads them into the Review tab, beside the verdicts and the chart, and never writes
    them."""
    from sheetsync.sheet.backends.xlsx import patch_cells, read_sheets
    from sheetsync.sheet.sync import sync_runs

    tab = project.layout().runs.tab
    grid = read_sheets(workbook, [tab])[tab]
    col = grid[0].index("conclusion") + 1
    rows = {str(r[0]): i for i, r in enumerate(grid, 1) if r and r[0]}
    edits = {(rows[run], col): text for run, text in CONCLUSIONS.items()}
    patch_cells(workbook, workbook, {tab: edits})
    review = sync_runs(project).review
    if review is None:
        return []
    verdicts = _methods(review.tab.grid)
    chart = "a chart of gain against compute" if review.tab.chart else "no chart"
    return [
        f"review: the Review tab holds {len(review.tab.questions)} questions with their runs, "
        f"{len(verdicts)} verdicts ({', '.join(verdicts.values())}), {chart}, and the "
        f"conclusions of {' and '.join(CONCLUSIONS)} read from the Runs tab"
    ]


def _methods(grid: list[list[Any]]) -> dict[str, str]:
    """Each method's verdict as the Review tab states it (the rows under a `method` header)."""
    found: dict[str, str] = {}
    under = False
    for row in grid:
        first = row[0] if row else None
        if under and first:
            found[str(first)] = str(row[2])
        under = (under and bool(first)) or first == "method"
    return found


@dataclass
class DemoResult:
    folder: Path
    workbook: Path
    log: list[str] = field(default_factory=list)


def build_demo(folder: Path, source: str = "folder") -> DemoResult:
    """Write the demo project into `folder` (new or empty) and run init, add, sync on it.

    `source="wandb"`: the runs are logged to W&B (offline) and read from there.
    """
    from sheetsync.project import load_project
    from sheetsync.records.baselines import new_baseline
    from sheetsync.sheet.add import commit_add, prepare_add
    from sheetsync.sheet.baselines import add_baseline
    from sheetsync.sheet.gains import fit_baseline
    from sheetsync.sheet.init import init_sheet, write_project_files
    from sheetsync.sheet.sync import sync_runs

    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder}: already exists and is not empty; name a new folder")
    write_project_files(folder)
    config = folder / "sheetsync.yaml"  # project each method's gain to the target scale
    config.write_text(config.read_text() + f"\ntarget_compute: {TARGET_COMPUTE}\n")
    if source == "wandb":
        from sheetsync.demo_wandb import log_runs, use_wandb

        use_wandb(folder)
    project = load_project((folder / "sheetsync.yaml").resolve())
    result = DemoResult(folder.resolve(), Path(project.sheet_target))
    first = copy.deepcopy(BASE_CONFIG)
    second = copy.deepcopy(BASE_CONFIG)
    second["model"]["prores"] = True
    init_sheet(project)
    result.log.append(f"init: {result.workbook}")
    configs = folder / "configs"
    configs.mkdir()
    notes = {FIRST: "first dated baseline", SECOND: "ProRes promoted after the 4b ladder"}
    for date, config in ((FIRST, first), (SECOND, second)):
        _write_yaml(configs / f"baseline-{date}.yaml", config)
        file, day = configs / f"baseline-{date}.yaml", dt.date.fromisoformat(date)
        new = new_baseline(project.registry(), BASELINE, file, day, notes[date], person="demo")
        made = add_baseline(project, new)
        result.log.append(f"baseline add: {made.ref} ({notes[date]})")
    rng = random.Random(7)

    def write(run_dir: Path, spec: DemoRun) -> None:
        _write_run(run_dir, spec, first if spec.baseline.endswith(FIRST) else second, rng)

    if source == "wandb":
        log_runs(folder, _runs(), write)
        result.log.append(f"logged {len(_runs())} runs to W&B (offline) in {folder / 'wandb'}")
    for spec in _runs():
        ref = spec.run_id  # a W&B run, by name
        if source == "folder":
            write(project.runs_dir / spec.run_id, spec)
            ref = project.runs_dir / spec.run_id
        pending = prepare_add(project, ref, spec.question, spec.baseline, spec.role)
        commit_add(project, pending)
        result.log.append(
            f"add: {spec.run_id} vs {pending.baseline.ref} ({len(pending.changes)} changes)"
        )
    if source == "folder":  # A config edited after launch: `check` will report the drift.
        drifted = project.runs_dir / "qk-norm-600m" / "config.yaml"
        drifted.write_text(drifted.read_text().replace("lr: 0.0003", "lr: 0.0006"))
        result.log.append("edited qk-norm-600m's config after launch (optim.lr 0.0003 -> 0.0006)")
    synced = sync_runs(project)
    result.log.append(
        f"sync: wrote {len(synced.plan.changes)} cells in {len(synced.plan.by_key())} runs"
    )
    recorded = fit_baseline(project, FIRST_REF)
    p = recorded.fit.params
    result.log.append(
        f"fit: {recorded.fit_name}: L(C) = {p['E']:.3f} + {p['A']:.4g} * C^-{p['alpha']:.4f} "
        f"(true: {LAW['E']} + {LAW['A']} * C^-{LAW['alpha']})"
    )
    synced = sync_runs(project)
    result.log.append(f"sync: gains against the fit in {len(synced.plan.by_key())} runs")
    pinned = fit_baseline(project, FIRST_REF, record=False, floor=LAW["E"])
    p = pinned.fit.params
    result.log.append(
        f"fit --floor {LAW['E']}: L(C) = {p['E']:.2f} (pinned) + {p['A']:.4g} * C^-{p['alpha']:.4f}"
    )
    result.log += _verdicts(project)
    from sheetsync.sheet.checks import check_runs
    from sheetsync.views.report import write_report

    report = check_runs(project)
    for f in report.findings:
        if f.level == "fail":
            result.log.append(f"check: {f.run}: {f.rule}: {f.reason}")
    stale = sorted({f.run for f in report.findings if f.rule == "stale" and f.level != "ok"})
    result.log.append(f"check: {len(stale)} runs compare against a stale baseline")
    from sheetsync.sheet.init import format_sheet

    format_sheet(project)  # once the rows are in: each question's row as tall as its lines
    result.log.append("format: the Runs tab prints landscape at 70%, questions wrapped")
    result.log += _review(project, result.workbook)
    written = write_report(project, out_dir=folder / "report")
    result.log.append(f"report: {written.html}")
    return result
