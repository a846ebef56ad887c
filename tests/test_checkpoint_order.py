"""Which checkpoint's evals fill the row: the furthest-trained, as the files name it; and a
missing metric's error lists what the file has."""

from __future__ import annotations

import json
import shutil

import pytest

from sheetsync.records.evalformats.progress import latest, training_progress
from sheetsync.science.evals import EvalSpec
from sheetsync.sheet.evals import read_choices, read_scores
from tests.evalfixtures import DATA, LIGHTEVAL, place


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/checkpoints/prores-600m/step_1000", ("step", 1000)),
        ("/ckpt/run-a/step-10000/hf", ("step", 10000)),
        ("/ckpt/run-a/global_step5000", ("step", 5000)),
        ("pretrained=EleutherAI/pythia-160m,revision=step143000", ("step", 143000)),
        ("/ckpt/run-a/iter_0001000", ("step", 1000)),
        ("/ckpt/olmo-7b/step20k-tokens84B", ("step", 20000)),
        ("/ckpt/run-a/tokens-50B", ("tokens", 50e9)),
        ("/ckpt/run-a/100b_tokens", ("tokens", 100e9)),
        ("/checkpoints/prores-600m/final", None),
        ("/checkpoints/prores-600m", None),
        ("/checkpoints/llama-3-8b", None),
        ("/checkpoints/stepfun-7b", None),
    ],
)
def test_training_progress_is_read_from_the_checkpoints_name(name, expected):
    assert training_progress(name) == expected


def test_progress_orders_checkpoints_and_the_date_only_those_that_say_nothing():
    def pick(items):
        return latest(items, lambda i: i[0], lambda i: i[1])

    backfill = [("run/step_1000", 1.0), ("run/step_300", 2.0)]  # step 300 evaluated last
    assert pick(backfill)[0] == "run/step_1000"
    ties = [("run/step_1000", 1.0), ("run/step_1000", 3.0), ("run/step_300", 2.0)]
    assert pick(ties) == ("run/step_1000", 3.0)  # the date breaks ties
    silent = [("run/final", 1.0), ("run/latest", 2.0)]
    assert pick(silent)[0] == "run/latest"
    mixed = [("run/step_1000", 1.0), ("run/final", 2.0)]  # one says nothing: by date
    assert pick(mixed)[0] == "run/final"


def _olmes(run, model_path: str, date: str, value: float, idx: int) -> None:
    data = json.loads((DATA / "olmes" / "task-002-hellaswag-metrics.json").read_text())
    data["model_config"]["model_path"] = model_path
    data["current_date"] = date
    data["metrics"]["primary_score"] = value
    data["metrics"]["acc_per_char"] = value
    data["task_idx"] = idx
    folder = run / "olmes" / f"eval-{idx}"
    folder.mkdir(parents=True)
    (folder / f"task-{idx:03d}-hellaswag-metrics.json").write_text(json.dumps(data))


def test_a_backfilled_older_checkpoint_does_not_fill_the_row(tmp_path):
    """OLMES results of step 300 evaluated after those of step 1000 (a backfill)."""
    run = tmp_path / "prores-600m"
    _olmes(run, "/checkpoints/prores-600m/step_1000", "2024-07-01 12:00:00 UTC", 0.531, 1)
    _olmes(run, "/checkpoints/prores-600m/step_300", "2024-07-09 12:00:00 UTC", 0.462, 2)
    spec = EvalSpec("eval:hs", "hellaswag", limit=1000)
    score = read_scores(run, [spec])["eval:hs"]
    assert score.value == 0.531 and score.model == "/checkpoints/prores-600m/step_1000"
    _, choices = read_choices(run, [spec])
    reasons = [u.reason for u in choices["eval:hs"].unused]
    assert "older checkpoint (/checkpoints/prores-600m/step_300)" in reasons


def test_no_metric_lists_the_metrics_the_file_has_for_that_task(tmp_path):
    run = tmp_path / "prores-600m"
    place(run, LIGHTEVAL, "evals/results/prores-600m/results_2024-05-10T08-15-30.123456.json")
    score = read_scores(run, [EvalSpec("eval:arc", "arc_challenge", metric="exact_match")])
    message = score["eval:arc"]
    assert isinstance(message, str)
    assert message.endswith(
        "task 'arc_challenge': no metric 'exact_match' (the file has acc, acc_norm for this task)"
    )
    shutil.rmtree(run)
