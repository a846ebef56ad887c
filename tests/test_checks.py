"""`check`, `verify` and dated baselines: what the sheet says was launched is what was launched."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from openpyxl import load_workbook

from sheetsync.project import Project
from sheetsync.sheet.checks import check_runs
from tests.helpers import BASE, cli, write_run


def add(project: Project, run_id: str, role: str = "feature", **kw) -> None:
    write_run(project, run_id, **kw)
    result = cli(
        project,
        "add",
        str(project.runs_dir / run_id),
        "-q",
        f"q {run_id}",
        "-b",
        "b@2026-06-01",
        "--role",
        role,
        "--yes",
    )
    assert result.exit_code == 0, result.output


def new_date(project: Project, date: str, **changes) -> None:
    config = json.loads(json.dumps(BASE))
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        config[section][key] = value
    path = project.root / f"cfg-{date}.yaml"
    path.write_text(yaml.safe_dump(config))
    result = cli(project, "baseline", "add", "b", "--config", str(path), "--date", date)
    assert result.exit_code == 0, result.output


def levels(project: Project, run_id: str, strict: bool = False) -> dict[str, str]:
    return {f.rule: f.level for f in check_runs(project, [run_id], strict).findings}


def test_scenario_reports_exactly_one_drift_the_stale_runs_and_one_unfinished(project):
    add(project, "r1", changes={"model.prores": True})
    add(project, "r2", changes={"model.qk_norm": True})
    add(project, "r3", changes={"model.n_layers": 20}, step=600, state="killed")
    new_date(project, "2026-09-01", **{"model.prores": True})
    config = project.runs_dir / "r2" / "config.yaml"
    config.write_text(config.read_text().replace("warmup_steps: 1000", "warmup_steps: 500"))
    report = check_runs(project)
    problems = sorted((f.run, f.rule, f.level) for f in report.findings if f.level != "ok")
    assert problems == [
        ("r1", "stale", "warn"),
        ("r2", "drift", "fail"),
        ("r2", "stale", "warn"),
        ("r3", "feature", "warn"),  # model.n_layers is guarded: the change is shown as such
        ("r3", "finished", "fail"),
        ("r3", "stale", "warn"),
    ]
    drift = next(f for f in report.findings if f.rule == "drift" and f.level == "fail")
    assert drift.reason.endswith("optim.warmup_steps: 1000 -> 500")
    unfinished = next(f for f in report.findings if f.rule == "finished" and f.level == "fail")
    assert unfinished.reason == "unfinished: killed at step 600/1,000"


def test_check_cli_exit_codes_json_and_strict(project):
    add(project, "ok-run", changes={"model.prores": True})
    result = cli(project, "check")
    assert result.exit_code == 0, result.output
    assert "checked 1 runs: 0 failing, 0 warnings" in result.output
    new_date(project, "2026-09-01", **{"model.prores": True})
    assert cli(project, "check").exit_code == 0
    strict = cli(project, "check", "--strict", "--json")
    assert strict.exit_code == 1
    stale = [f for f in json.loads(strict.output) if f["rule"] == "stale"]
    assert stale == [
        {
            "run": "ok-run",
            "rule": "stale",
            "level": "fail",
            "detail": "",
            "reason": "stale baseline: b@2026-09-01 is newer (model.prores)",
        }
    ]
    assert cli(project, "check", "nope").exit_code == 1


def test_identical_to_baseline_fails_unless_marked_as_baseline_run(project):
    add(project, "same")
    add(project, "base", role="baseline")
    assert levels(project, "same")["feature"] == "fail"
    assert levels(project, "base")["feature"] == "ok"


def test_guarded_key_change_is_reported_and_ladder_size_changes_are_expected(project):
    add(project, "lr", changes={"optim.lr": 1e-3, "model.prores": True})
    add(project, "ladder", role="ladder", changes={"model.d_model": 512})
    assert levels(project, "lr")["feature"] == "warn"
    assert levels(project, "ladder")["feature"] == "ok"


def test_a_feature_run_at_a_ladder_size_does_not_warn_for_the_size_keys(project):
    """The ladder's rungs differ in model.d_model and model.n_layers: a feature run at one of
    those sizes changes them against the baseline config, and says nothing of it; a guarded
    key the ladder does not vary still warns."""
    add(project, "rung-1", role="ladder", changes={"model.d_model": 512, "model.n_layers": 8})
    add(project, "rung-2", role="ladder", changes={"model.d_model": 1024, "model.n_layers": 12})
    add(project, "sized", changes={"model.prores": True, "model.d_model": 512, "model.n_layers": 8})
    add(project, "sized-lr", changes={"model.d_model": 512, "optim.lr": 1e-3})
    assert levels(project, "sized")["feature"] == "ok"
    sized_lr = next(f for f in check_runs(project, ["sized-lr"]).findings if f.rule == "feature")
    assert sized_lr.level == "warn" and sized_lr.detail == "optim.lr"
    checks = runs_checks(project)
    assert checks["sized"] == "ok" and "guarded optim.lr" in checks["sized-lr"]


def runs_checks(project: Project) -> dict[str, str]:
    assert cli(project, "sync").exit_code == 0
    ws = load_workbook(project.sheet_target)["Runs"]
    grid = list(ws.iter_rows(values_only=True))
    col = grid[0].index("checks")
    return {r[0]: r[col] for r in grid[1:] if r[0]}


def test_baseline_date_missing_from_registry_fails(project):
    add(project, "r1", changes={"model.prores": True})
    (project.baselines_dir / "b@2026-06-01.yaml").unlink()
    assert levels(project, "r1")["baseline"] == "fail"


def test_baseline_edited_in_place_is_caught_by_recorded_changes(project):
    add(project, "r1", changes={"model.prores": True})
    path = project.baselines_dir / "b@2026-06-01.yaml"
    path.write_text(path.read_text().replace("n_layers: 16", "n_layers: 12"))
    findings = check_runs(project, ["r1"]).findings
    baseline = next(f for f in findings if f.rule == "baseline")
    assert baseline.level == "fail"
    assert "model.n_layers: 12 -> 16" in baseline.reason


def test_unreproducible_and_questionless_runs(project):
    add(project, "r1", changes={"model.prores": True})
    launch = project.runs_dir / "r1" / "launch.json"
    launch.write_text(json.dumps({"git_commit": "abc", "git_dirty": True}))
    found = {f.rule: f for f in check_runs(project, ["r1"]).findings}
    assert found["reproducible"].level == "warn"
    assert found["reproducible"].reason == "working tree was not clean at launch; no seed recorded"
    wb = load_workbook(project.sheet_target)
    ws = wb["Runs"]
    ws.cell(2, [c.value for c in ws[1]].index("question") + 1).value = None
    wb.save(project.sheet_target)
    assert levels(project, "r1")["question"] == "fail"


def test_running_run_warns_and_lr_decay_incomplete_fails(project):
    add(project, "going", changes={"model.prores": True}, step=500, state="running")
    assert levels(project, "going")["finished"] == "warn"
    progress = project.runs_dir / "going" / "progress.json"
    data = json.loads(progress.read_text())
    data.update(step=1000, state="finished", lr_schedule={"decay_end_step": 1200})
    progress.write_text(json.dumps(data))
    assert levels(project, "going")["finished"] == "fail"


def test_newer_baseline_run_worse_than_previous_is_a_regression(project):
    add(project, "old-base", role="baseline", loss=2.50)
    new_date(project, "2026-09-01", **{"model.prores": True})
    write_run(project, "new-base", changes={"model.prores": True}, loss=2.60)
    result = cli(
        project,
        "add",
        str(project.runs_dir / "new-base"),
        "-q",
        "new baseline run",
        "-b",
        "b",
        "--role",
        "baseline",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    found = {f.rule: f for f in check_runs(project, ["new-base"]).findings}
    assert found["quality"].level == "fail"
    assert found["quality"].reason == (
        "regression: loss 2.6000 vs 2.5000 of b@2026-06-01's run old-base"
    )


def test_sync_writes_checks_summary(project):
    add(project, "r1", changes={"model.prores": True})
    new_date(project, "2026-09-01", **{"model.prores": True})
    config = project.runs_dir / "r1" / "config.yaml"
    config.write_text(config.read_text().replace("lr: 0.0003", "lr: 0.0006"))
    assert cli(project, "sync").exit_code == 0
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("checks") + 1).value == (
        "fail: config drift (optim.lr); warn: stale baseline: b@2026-09-01 is newer"
    )


def test_baseline_lifecycle_add_list_show_diff_and_refusals(project, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(BASE))
    same = cli(project, "baseline", "add", "b", "--config", str(cfg), "--date", "2026-07-01")
    assert same.exit_code == 1
    assert "same config as b@2026-06-01" in same.output
    new_date(project, "2026-09-01", **{"model.prores": True})
    old = cli(project, "baseline", "add", "b", "--config", str(cfg), "--date", "2026-08-01")
    assert old.exit_code == 1 and "pass --backfill" in old.output
    listed = json.loads(cli(project, "baseline", "list", "--json").output)
    assert [(b["baseline"], b["newest"]) for b in listed] == [
        ("b@2026-06-01", False),
        ("b@2026-09-01", True),
    ]
    shown = cli(project, "baseline", "show", "b")
    assert shown.output.startswith("b@2026-09-01")
    diffed = cli(project, "baseline", "diff", "b@2026-06-01", "b@2026-09-01")
    assert "model.prores: false -> true" in diffed.output
    ws = load_workbook(project.sheet_target)["Baselines"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    assert rows[1][:3] == ("b@2026-09-01", "b", "2026-09-01")
    assert rows[1][5] == "model.prores: false -> true"
    other = cli(project, "baseline", "add", "17b", "--config", str(cfg), "--date", "2026-06-01")
    assert other.exit_code == 0  # several baselines side by side, each with its own history


def test_verify_before_launch(project, tmp_path):
    cfg = tmp_path / "launch.yaml"
    config = json.loads(json.dumps(BASE))
    config["optim"]["lr"] = 1e-3
    config["model"]["prores"] = True
    cfg.write_text(yaml.safe_dump(config))
    result = cli(project, "verify", str(cfg), "-b", "b")
    assert result.exit_code == 0, result.output
    assert "! optim.lr: 0.0003 -> 0.001   (guarded)" in result.output
    assert "  model.prores: false -> true" in result.output
    assert cli(project, "verify", str(cfg), "-b", "b", "--strict").exit_code == 1
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(BASE))
    same = cli(project, "verify", str(plain), "-b", "b")
    assert same.exit_code == 1
    assert "the feature is not enabled" in same.output
    assert cli(project, "verify", str(Path("missing.yaml")), "-b", "b").exit_code == 1
