"""OLMES output folders: per-task `task-<idx>-<task>-metrics.json` and the summary
`metrics.json`, with `primary_score`, regimes (`:mc`, `:rc`) and subsampled tasks."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from sheetsync.science.evals import EvalSpec, eval_cells
from sheetsync.sheet.evals import read_choices, read_scores
from tests.evalfixtures import DATA


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "prores-600m"
    shutil.copytree(DATA / "olmes", folder / "olmes")
    return folder


def test_the_primary_metric_shots_model_and_date_come_from_the_task_file(run):
    score = read_scores(run, [EvalSpec("eval:hs", "hellaswag", limit=1000)])["eval:hs"]
    assert (score.metric, score.value, score.shots, score.documents) == (
        "acc_per_char",
        0.5471,
        5,
        1000,
    )
    assert score.model == "/checkpoints/prores-600m/final"
    assert score.sources == (run / "olmes" / "task-002-hellaswag-metrics.json",)
    raw, choices = read_choices(run, [EvalSpec("eval:hs", "hellaswag")])
    newest = choices["eval:hs"].newest
    assert newest.when == datetime(2024, 7, 3, 12, tzinfo=UTC).timestamp()


def test_a_subsampled_task_is_limited_unless_the_column_pins_the_limit(run):
    specs = [EvalSpec("eval:hs", "hellaswag")]
    cells = eval_cells(specs, read_scores(run, specs))
    assert cells["eval:hs"] == "0.547 (limit 1000)"
    assert cells["eval_avg"] is None
    pinned = [EvalSpec("eval:hs", "hellaswag", limit=1000)]
    assert eval_cells(pinned, read_scores(run, pinned))["eval_avg"] == 0.5471


def test_two_regimes_of_one_task_are_ambiguous_until_the_column_names_one(run):
    scores = read_scores(
        run,
        [
            EvalSpec("eval:arc", "arc_challenge"),
            EvalSpec("eval:mc", "arc_challenge:mc::olmes"),
            EvalSpec("eval:rc", "arc_challenge:rc::olmes"),
        ],
    )
    assert scores["eval:arc"] == (
        "ambiguous: arc_challenge:mc::olmes, arc_challenge:rc::olmes; name one as the column's task"
    )
    assert (scores["eval:mc"].metric, scores["eval:mc"].value) == ("acc_raw", 0.2901)
    assert (scores["eval:rc"].metric, scores["eval:rc"].value) == ("acc_uncond", 0.3507)


def test_the_summary_beside_per_task_files_is_not_read_twice(run):
    _, choices = read_choices(run, [EvalSpec("eval:mc", "arc_challenge:mc::olmes")])
    choice = choices["eval:mc"]
    assert [r.source.name for r in choice.used] == ["task-000-arc_challenge-metrics.json"]
    assert all(u.source.name != "metrics.json" or "per-task" in u.reason for u in choice.unused)


def test_the_summary_alone_is_read_with_olmes_defaults(run):
    for path in (run / "olmes").glob("task-*"):
        path.unlink()
    scores = read_scores(
        run,
        [EvalSpec("eval:mc", "arc_challenge:mc::olmes"), EvalSpec("eval:hs", "hellaswag")],
    )
    mc = scores["eval:mc"]
    assert (mc.value, mc.shots, mc.limit, mc.model) == (
        0.2901,
        5,
        None,
        "/checkpoints/prores-600m/final",
    )
    assert (scores["eval:hs"].value, scores["eval:hs"].limit) == (0.5471, 1000)
