"""The native evals.json: a training script's own numbers, with optional shots and limit."""

from __future__ import annotations

import shutil

import pytest

from sheetsync.errors import ConfigError
from sheetsync.science.evals import EvalSpec, parse_eval_spec
from sheetsync.sheet.evals import read_scores
from tests.evalfixtures import DATA, LM04, place


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "prores-600m"
    folder.mkdir()
    shutil.copy(DATA / "native" / "evals.json", folder / "evals.json")
    return folder


def test_declared_shots_let_a_pinned_column_show_the_value(run):
    scores = read_scores(
        run,
        [
            EvalSpec("eval:hs", "hellaswag", shots=0),
            EvalSpec("eval:gsm8k", "gsm8k", kind="generative", shots=5),
        ],
    )
    assert (scores["eval:hs"].value, scores["eval:hs"].stderr) == (0.52, 0.005)
    assert scores["eval:gsm8k"].value == pytest.approx(0.31)
    assert scores["eval:gsm8k"].samples == (0.31, 0.29, 0.33)


def test_undeclared_shots_never_fill_a_pinned_column(run):
    (run / "evals.json").write_text('{"hellaswag": {"acc_norm": 0.52}}')
    score = read_scores(run, [EvalSpec("eval:hs", "hellaswag", shots=0)])["eval:hs"]
    assert score == "only unknown-shot results (the column pins 0-shot)"


def test_an_evals_json_beside_a_harness_file_of_other_shots_is_ambiguous(run):
    place(run, LM04, "lm_eval/a.json", lambda d: d["n-shot"].update(hellaswag=10))
    score = read_scores(run, [EvalSpec("eval:hs", "hellaswag")])["eval:hs"]
    assert score == "ambiguous: 0-shot and 10-shot results; pin shots in the layout"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"task": "x", "shots": -1}, "eval shots must be a whole number >= 0, not -1"),
        ({"task": "x", "shots": 2.5}, "eval shots must be a whole number >= 0, not 2.5"),
        ({"task": "x", "shots": True}, "eval shots must be a whole number >= 0, not True"),
        ({"task": "x", "limit": 0}, "eval limit must be a number of samples > 0, not 0"),
        ({"task": "x", "limit": "all"}, "eval limit must be a number of samples > 0, not 'all'"),
    ],
)
def test_layout_shots_and_limit_are_checked(mapping, message):
    with pytest.raises(ConfigError, match=f"layout.yaml: column 'x': {message}"):
        parse_eval_spec("eval:x", mapping, "layout.yaml: column 'x'")


def test_layout_shots_and_limit_are_part_of_the_spec():
    spec = parse_eval_spec("eval:x", {"task": "mmlu", "shots": 5, "limit": 100}, "w")
    assert (spec.shots, spec.limit, spec.want.shots, spec.want.limit) == (5, 100.0, 5, 100.0)
