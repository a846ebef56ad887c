"""Evals: lm-evaluation-harness and native files read exactly; averages that mean one thing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from sheetsync.cli import main
from sheetsync.errors import ConfigError, SheetsyncError
from sheetsync.records.evals import read_raw
from sheetsync.science.evals import EvalSpec, Score, eval_cells, parse_eval_spec
from sheetsync.sheet.evals import read_scores
from tests.helpers import write_run

SPECS = [
    EvalSpec("eval:hellaswag", "hellaswag", None, "likelihood", "knowledge"),
    EvalSpec("eval:arc_challenge", "arc_challenge", None, "likelihood", "reasoning"),
    EvalSpec("eval:mmlu", "mmlu", None, "likelihood", "knowledge"),
    EvalSpec("eval:gsm8k", "gsm8k", None, "generative", "reasoning"),
]


def harness_file(
    folder: Path, name: str, tasks: dict[str, dict], date: float, model_args: str, seed: int = 0
) -> Path:
    """A results file of the shape lm-evaluation-harness 0.4 writes."""
    results = {}
    groups = {}
    for task, metrics in tasks.items():
        entry = {"alias": task}
        for key, value in metrics.items():
            entry[key] = value
        (groups if task == "mmlu" else results)[task] = entry
        if task == "mmlu":
            results["mmlu"] = dict(entry)
            results["mmlu_stem"] = {"alias": " - stem", "acc,none": 0.2, "acc_stderr,none": 0.01}
    data = {
        "results": results,
        "groups": groups,
        "group_subtasks": {"mmlu": ["mmlu_stem"]} if "mmlu" in tasks else {},
        "configs": {t: {"task": t} for t in tasks},
        "versions": {t: 1.0 for t in tasks},
        "n-shot": {t: 0 for t in tasks},
        "n-samples": {t: {"original": 100, "effective": 100} for t in tasks},
        "config": {"model": "hf", "model_args": model_args, "random_seed": seed},
        "git_hash": "abc1234",
        "date": date,
    }
    path = folder / "lm_eval" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_harness_files_two_checkpoints_newest_wins_with_group_and_stderr(tmp_path):
    harness_file(
        tmp_path,
        "results_2026-10-01.json",
        {"hellaswag": {"acc,none": 0.40, "acc_norm,none": 0.50, "acc_norm_stderr,none": 0.005}},
        1_790_000_000.0,
        "pretrained=ckpt-5000",
    )
    harness_file(
        tmp_path,
        "results_2026-10-02.json",
        {
            "hellaswag": {"acc,none": 0.41, "acc_norm,none": 0.52, "acc_norm_stderr,none": 0.004},
            "mmlu": {"acc,none": 0.31, "acc_stderr,none": 0.003},
            "arc_challenge": {
                "acc,none": 0.30,
                "acc_norm,none": 0.33,
                "acc_norm_stderr,none": "N/A",
            },
        },
        1_790_100_000.0,
        "pretrained=ckpt-10000",
    )
    scores = read_scores(tmp_path, SPECS)
    hs = scores["eval:hellaswag"]
    assert isinstance(hs, Score)
    assert (hs.metric, hs.value, hs.stderr) == ("acc_norm,none", 0.52, 0.004)
    assert hs.sources[0].name == "results_2026-10-02.json"
    assert scores["eval:mmlu"].value == 0.31  # the group's number, not a subtask's
    assert scores["eval:arc_challenge"].stderr is None  # the harness wrote N/A
    assert scores["eval:gsm8k"] is None


def test_generative_repeats_of_one_checkpoint_are_averaged_first(tmp_path):
    for seed, value in enumerate([0.30, 0.36, 0.33]):
        harness_file(
            tmp_path,
            f"results_seed{seed}.json",
            {"gsm8k": {"exact_match,strict-match": value, "exact_match,flexible-extract": 0.9}},
            1_790_000_000.0 + seed,
            "pretrained=final",
            seed,
        )
    score = read_scores(tmp_path, SPECS)["eval:gsm8k"]
    assert score.metric == "exact_match,strict-match"
    assert score.samples == (0.30, 0.36, 0.33)
    assert score.value == pytest.approx(0.33)
    assert score.spread == pytest.approx(0.03)


def test_native_file_with_samples_and_stderr(tmp_path):
    (tmp_path / "evals.json").write_text(
        json.dumps(
            {
                "hellaswag": {"acc_norm": 0.6, "acc_norm_stderr": 0.004},
                "gsm8k": {"exact_match": {"samples": [0.2, 0.4]}},
            }
        )
    )
    scores = read_scores(tmp_path, SPECS)
    assert (scores["eval:hellaswag"].value, scores["eval:hellaswag"].stderr) == (0.6, 0.004)
    assert scores["eval:gsm8k"].value == pytest.approx(0.3)


def test_group_only_in_groups_as_older_harness_versions_write_it(tmp_path):
    data = {
        "results": {
            "mmlu_stem": {"alias": " - stem", "acc,none": 0.2, "acc_stderr,none": 0.01},
            "mmlu_humanities": {"alias": " - humanities", "acc,none": 0.3},
        },
        "groups": {"mmlu": {"alias": "mmlu", "acc,none": 0.27, "acc_stderr,none": 0.004}},
        "group_subtasks": {"mmlu": ["mmlu_humanities", "mmlu_stem"]},
        "date": 1_790_000_000.5,
    }
    (tmp_path / "evals" / "job1").mkdir(parents=True)
    (tmp_path / "evals" / "job1" / "results_2026-10-01T12-00-00.json").write_text(json.dumps(data))
    mmlu = read_scores(tmp_path, SPECS)["eval:mmlu"]
    assert (mmlu.value, mmlu.stderr) == (0.27, 0.004)


def test_a_bare_metric_in_the_layout_takes_the_tasks_default_filter(tmp_path):
    harness_file(
        tmp_path,
        "results_a.json",
        {"gsm8k": {"exact_match,flexible-extract": 0.4, "exact_match,strict-match": 0.3}},
        1_790_000_000.0,
        "pretrained=final",
    )
    spec = EvalSpec("eval:gsm8k", "gsm8k", "exact_match", "generative")
    score = read_scores(tmp_path, [spec])["eval:gsm8k"]
    assert (score.metric, score.value) == ("exact_match,strict-match", 0.3)
    flexible = EvalSpec("eval:gsm8k", "gsm8k", "exact_match,flexible-extract", "generative")
    assert read_scores(tmp_path, [flexible])["eval:gsm8k"].value == 0.4


@pytest.mark.parametrize(
    ("task", "metric"),
    [
        ("hellaswag", "acc_norm,none"),
        ("winogrande", "acc,none"),
        ("gsm8k", "exact_match,strict-match"),
        ("gpqa_diamond_n_shot", "acc_norm,none"),
        ("gpqa_diamond_cot_n_shot", "exact_match,flexible-extract"),
        ("gpqa_extended_generative_n_shot", "exact_match,flexible-extract"),
        ("some_new_task", "acc,none"),
    ],
)
def test_a_column_without_a_metric_shows_the_tasks_usual_one(task, metric):
    assert EvalSpec("eval:x", task).wanted_metric == metric


def test_a_broken_newest_file_shows_its_error_not_an_older_checkpoints_value(tmp_path):
    harness_file(
        tmp_path, "results_1.json", {"hellaswag": {"acc_norm,none": 0.5}}, 1_790_000_000.0, "ck=1"
    )
    path = harness_file(
        tmp_path, "results_2.json", {"arc_challenge": {"acc_norm,none": 0.3}}, 1.7901e9, "ck=2"
    )
    data = json.loads(path.read_text())
    data["results"]["hellaswag"] = {"acc_norm,none": "oops"}
    path.write_text(json.dumps(data))
    scores = read_scores(tmp_path, SPECS)
    assert (
        "results_2.json: task 'hellaswag': acc_norm,none must be a number"
        in (scores["eval:hellaswag"])
    )
    assert scores["eval:arc_challenge"].value == 0.3


def test_native_repeats_alias_is_averaged_with_its_spread(tmp_path):
    (tmp_path / "evals.json").write_text(
        json.dumps({"gsm8k": {"exact_match": {"repeats": [0.25, 0.35, 0.30]}}})
    )
    score = read_scores(tmp_path, SPECS)["eval:gsm8k"]
    assert score.value == pytest.approx(0.30)
    assert score.spread == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"hellaswag": {"acc_norm": 1' + "0" * 400 + "}}", "acc_norm is inf"),
        ('{"hellaswag": {"acc_norm": 1' + "0" * 5000 + "}}", "unreadable JSON (Exceeds the limit"),
        ("[" * 100_000 + "]" * 100_000, "unreadable JSON"),
    ],
)
def test_absurd_numbers_and_nesting_are_one_line_errors(tmp_path, content, message):
    (tmp_path / "evals.json").write_text(content)
    score = read_scores(tmp_path, SPECS)["eval:hellaswag"]
    assert message in score and "\n" not in score


def test_a_date_that_is_no_time_falls_back_to_the_files_mtime(tmp_path):
    path = harness_file(
        tmp_path, "results_a.json", {"hellaswag": {"acc_norm,none": 0.5}}, 0.0, "pretrained=x"
    )
    path.write_text(path.read_text().replace('"date": 0.0', '"date": 1' + "0" * 400))
    assert read_scores(tmp_path, SPECS)["eval:hellaswag"].value == 0.5


def test_average_complete_partial_empty_and_groups():
    def s(v: float) -> Score:
        return Score("t", "acc", v, None, (v,), ())

    full = {
        "eval:hellaswag": s(0.5),
        "eval:arc_challenge": s(0.3),
        "eval:mmlu": s(0.4),
        "eval:gsm8k": s(0.2),
    }
    groups = ["eval_avg:knowledge", "eval_avg:reasoning"]
    cells = eval_cells(SPECS, full, "fraction", groups)
    assert cells["eval_avg"] == pytest.approx(0.35)
    assert cells["eval_avg:knowledge"] == pytest.approx(0.45)
    assert cells["eval_avg:reasoning"] == pytest.approx(0.25)
    partial = dict(full, **{"eval:mmlu": None})
    cells = eval_cells(SPECS, partial, "fraction", groups)
    assert cells["eval_avg"] == "0.333 (3/4)"  # (0.5+0.3+0.2)/3, marked
    assert cells["eval_avg:knowledge"] == "0.500 (1/2)"
    assert cells["eval:mmlu"] is None
    empty = eval_cells(SPECS, {}, "fraction", groups)
    assert empty["eval_avg"] is None and empty["eval_avg:knowledge"] is None
    assert eval_cells(SPECS, partial, "percent", groups)["eval_avg"] == "33.3 (3/4)"
    percent = eval_cells(SPECS, full, "percent")
    assert percent["eval_avg"] == pytest.approx(35.0)
    assert percent["eval:hellaswag"] == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"hellaswag": {"acc_norm": 0.5', "evals.json:1: invalid JSON"),
        (
            '{"hellaswag": {"acc_norm": NaN}}',
            "task 'hellaswag': acc_norm is nan (not a finite number)",
        ),
        ('{"hellaswag": {"acc": 0.5}}', "task 'hellaswag': no metric 'acc_norm'"),
        (
            '{"hellaswag": {"acc_norm": 61.2}}',
            "task 'hellaswag': acc_norm = 61.2 is out of range [0, 1]",
        ),
        (
            '{"hellaswag": {"acc_norm": {"samples": []}}}',
            "task 'hellaswag': acc_norm must be a number or",
        ),
    ],
)
def test_malformed_native_file_names_file_and_task(tmp_path, content, message):
    (tmp_path / "evals.json").write_text(content)
    score = read_scores(tmp_path, SPECS)["eval:hellaswag"]
    assert isinstance(score, str)
    assert message in score and str(tmp_path / "evals.json") in score


@pytest.mark.parametrize(
    ("message", "cell"),
    [
        (
            "/r/evals.json:3: invalid JSON (Expecting value)",
            "error: invalid JSON (Expecting value)",
        ),
        (
            "/r/lm_eval/a/results_1.json: task 'hellaswag': acc_norm,none is nan (not a finite "
            "number)",
            "error: acc_norm,none is nan (not a finite number)",
        ),
        ("/r/evals.json: task 'mmlu': no metric 'acc'", "error: no metric 'acc'"),
    ],
)
def test_an_eval_cell_says_why_it_is_empty_without_the_path(message, cell):
    spec = EvalSpec("eval:x", "x")
    assert eval_cells([spec], {"eval:x": message})["eval:x"] == cell


def test_layout_eval_spec_errors_name_the_column():
    with pytest.raises(ConfigError, match="layout.yaml: column 'x': eval kind must be"):
        parse_eval_spec("eval:x", {"task": "x", "kind": "sampled"}, "layout.yaml: column 'x'")
    with pytest.raises(ConfigError, match="eval needs a 'task'"):
        parse_eval_spec("eval:x", {"metric": "acc"}, "where")


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.floats(allow_nan=True)
        | st.integers()
        | st.integers(min_value=10**300, max_value=10**400)
        | st.sampled_from(["hellaswag", "mmlu", "acc_norm,none", "N/A", "samples"])
        | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=12,
    )
)
def test_readers_never_raise_on_arbitrary_json(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "evals.json").write_text(json.dumps(data))
    (folder / "lm_eval").mkdir()
    (folder / "lm_eval" / "results_x.json").write_text(json.dumps({"results": data}))
    (folder / "lm_eval" / "results_y.json").write_text(
        json.dumps({"results": {"hellaswag": data}, "groups": data, "date": data})
    )
    try:
        read_raw(folder)
        read_scores(folder, SPECS)
    except SheetsyncError:
        pass


def test_sync_fills_eval_cells_marks_unfinished_and_survives_a_broken_file(project):
    runner = CliRunner()
    cfg = ["--config", str(project.path)]
    good = write_run(project, "good")
    harness_file(
        good,
        "results_a.json",
        {
            "hellaswag": {"acc_norm,none": 0.5},
            "arc_challenge": {"acc_norm,none": 0.3},
            "mmlu": {"acc,none": 0.4},
            "gsm8k": {"exact_match,strict-match": 0.2},
        },
        1_790_000_000.0,
        "pretrained=final",
    )
    broken = write_run(project, "broken")
    (broken / "evals.json").write_text('{"hellaswag": {"acc_norm": 0.5')
    killed = write_run(project, "killed", step=600, state="killed")
    (killed / "evals.json").write_text('{"hellaswag": {"acc_norm": 0.5}}')
    for run_id in ("good", "broken", "killed"):
        result = runner.invoke(
            main, [*cfg, "add", str(project.runs_dir / run_id), "-q", "q", "-b", "b", "--yes"]
        )
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, [*cfg, "sync"])
    assert result.exit_code == 0, result.output
    assert "evals of broken:" in result.output and "invalid JSON" in result.output
    ws = load_workbook(project.sheet_target)["Runs"]
    grid = list(ws.iter_rows(values_only=True))
    rows = {r[0]: dict(zip(grid[0], r, strict=False)) for r in grid[1:]}
    assert rows["good"]["hellaswag"] == 0.5
    assert rows["good"]["eval avg (0-1)"] == pytest.approx(0.35)
    assert rows["good"]["reasoning avg"] == pytest.approx(0.25)
    assert rows["broken"]["hellaswag"] == ("error: invalid JSON (Expecting ',' delimiter)")
    assert rows["broken"]["eval avg (0-1)"] is None
    assert rows["killed"]["hellaswag"] == "unfinished"
    assert rows["killed"]["eval avg (0-1)"] == "unfinished"
    assert runner.invoke(main, [*cfg, "sync"]).output.count("up to date") == 1
    shown = runner.invoke(main, [*cfg, "evals", str(good), "--json"])
    records = json.loads(shown.output)
    assert records[0]["sources"][0].endswith("results_a.json")


def _four(hs: float, arc: float, mmlu: float, gsm: float) -> dict[str, dict]:
    return {
        "hellaswag": {"acc_norm,none": hs, "acc_norm_stderr,none": 0.005},
        "arc_challenge": {"acc_norm,none": arc},
        "mmlu": {"acc,none": mmlu, "acc_stderr,none": 0.004},
        "gsm8k": {"exact_match,strict-match": gsm},
    }


def test_sync_writes_the_eval_avg_delta_against_the_baselines_run_at_the_same_size(project):
    runner = CliRunner()
    cfg = ["--config", str(project.path)]
    base = write_run(project, "base")
    for seed, gsm in enumerate([0.2, 0.3]):  # one checkpoint, two seeds: gsm8k is 0.25
        harness_file(
            base,
            f"results_s{seed}.json",
            _four(0.5, 0.3, 0.4, gsm),
            1.79e9 + seed,
            "ckpt=final",
            seed,
        )
    feat = write_run(project, "feat", {"model.prores": True})
    harness_file(feat, "results_old.json", _four(0.1, 0.1, 0.1, 0.1), 1.78e9, "ckpt=5000")
    harness_file(feat, "results_new.json", _four(0.6, 0.35, 0.45, 0.3), 1.79e9, "ckpt=final")
    wide = write_run(project, "wide", {"model.d_model": 2048})
    harness_file(wide, "results_a.json", _four(0.7, 0.4, 0.5, 0.4), 1.79e9, "ckpt=final")
    part = write_run(project, "part", {"model.prores": True})
    (part / "evals.json").write_text(json.dumps({"hellaswag": {"acc_norm": 0.6}}))
    for run_id, role in (("base", "baseline"), ("feat", "feature"), ("wide", "feature")):
        args = [*cfg, "add", str(project.runs_dir / run_id), "-q", "q", "-b", "b", "--yes"]
        result = runner.invoke(main, [*args, "--role", role])
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, [*cfg, "add", str(part), "-q", "q", "-b", "b", "--yes"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, [*cfg, "sync"])
    assert result.exit_code == 0, result.output
    grid = list(load_workbook(project.sheet_target)["Runs"].iter_rows(values_only=True))
    rows = {r[0]: dict(zip(grid[0], r, strict=False)) for r in grid[1:]}
    assert rows["base"]["gsm8k"] == pytest.approx(0.25)
    assert rows["base"]["eval avg (0-1)"] == pytest.approx(0.3625)  # (.5+.3+.4+.25)/4
    assert rows["base"]["eval avg vs baseline"] is None  # the baseline's own run
    assert rows["feat"]["eval avg (0-1)"] == pytest.approx(0.425)  # the final checkpoint
    assert rows["feat"]["eval avg vs baseline"] == pytest.approx(0.0625)
    assert rows["wide"]["eval avg vs baseline"] is None  # no baseline run at its size
    assert rows["part"]["eval avg (0-1)"] == "0.600 (1/4)"
    assert rows["part"]["eval avg vs baseline"] is None  # partial: never compared
