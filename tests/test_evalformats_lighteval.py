"""lighteval results files: `suite|task|shots` keys, `config_general`, `config_tasks`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sheetsync.records.evals import read_raw
from sheetsync.science.evals import EvalSpec, eval_cells
from sheetsync.sheet.evals import explain, read_scores
from tests.evalfixtures import LIGHTEVAL, LIGHTEVAL_NEW, place


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "prores-600m"
    place(folder, LIGHTEVAL, "evals/results/prores-600m/results_2024-05-10T08-15-30.123456.json")
    return folder


def test_tasks_shots_metric_and_model_come_from_the_file(run):
    scores = read_scores(
        run, [EvalSpec("eval:arc", "arc_challenge"), EvalSpec("eval:hs", "hellaswag")]
    )
    arc, hs = scores["eval:arc"], scores["eval:hs"]
    assert (arc.metric, arc.value, arc.stderr, arc.shots) == ("acc_norm", 0.3362, 0.0138, 25)
    assert (hs.value, hs.shots, hs.documents) == (0.5312, 10, 10042)
    assert (arc.model, arc.fmt, arc.limit) == ("/checkpoints/prores-600m/final", "lighteval", None)


def test_the_date_is_read_from_the_file_name(run):
    (result,) = [r for r in read_raw(run).results if r.task == "hellaswag"]
    assert result.when == datetime(2024, 5, 10, 8, 15, 30, 123456, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("task", ["arc_challenge", "arc:challenge", "leaderboard|arc:challenge"])
def test_a_column_may_name_the_task_as_the_harness_or_lighteval_does(run, task):
    assert read_scores(run, [EvalSpec("eval:x", task)])["eval:x"].value == 0.3362


def test_a_group_average_is_read_as_the_group_marked_unweighted(run):
    mmlu = read_scores(run, [EvalSpec("eval:mmlu", "mmlu")])["eval:mmlu"]
    assert (mmlu.value, mmlu.shots) == (0.3, 5)
    assert mmlu.note == "unweighted mean of 2 subtasks (lighteval's _average)"


def test_the_all_line_is_no_task(run):
    records = explain(run, [EvalSpec("eval:hs", "hellaswag")])
    assert records[-1]["not_in_layout"] == [
        "arc_challenge",
        "mmlu",
        "mmlu_abstract_algebra",
        "mmlu_anatomy",
    ]


def test_max_samples_is_a_limited_run_and_the_configs_metric_is_primary(tmp_path):
    run = tmp_path / "prores-600m"
    place(run, LIGHTEVAL_NEW, "lighteval/results/x/results_2025-10-05T14-34-11.098252.json")
    specs = [EvalSpec("eval:gsm8k", "gsm8k", kind="generative")]
    score = read_scores(run, specs)["eval:gsm8k"]
    assert (score.metric, score.value, score.limit, score.documents) == (
        "extractive_match",
        0.2,
        10,
        10,
    )
    assert eval_cells(specs, {"eval:gsm8k": score})["eval:gsm8k"] == "0.200 (limit 10)"


def test_shots_pinned_by_the_layout_pick_the_matching_key(run):
    specs = [EvalSpec("eval:hs", "hellaswag", shots=0)]
    assert read_scores(run, specs)["eval:hs"] == ("only 10-shot results (the column pins 0-shot)")
