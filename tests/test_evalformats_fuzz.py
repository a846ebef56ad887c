"""Every reader takes any JSON in its shape's outline without a traceback: a broken file or
task is a one-line error, never an exception from inside sheetsync."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.errors import SheetsyncError
from sheetsync.records.evals import read_raw
from sheetsync.science.evals import EvalSpec
from sheetsync.sheet.evals import read_scores

ANY = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True)
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.sampled_from(
        ["hellaswag", "mmlu", "acc_norm,none", "N/A", "samples", "leaderboard|mmlu:_average|5"]
    )
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
SPECS = [
    EvalSpec("eval:hellaswag", "hellaswag"),
    EvalSpec("eval:mmlu", "mmlu", shots=5, limit=2),
    EvalSpec("eval:gsm8k", "gsm8k", "exact_match", "generative"),
]


@settings(max_examples=150, deadline=None)
@given(ANY, ANY, ANY, ANY)
def test_readers_never_raise_on_arbitrary_json_in_each_formats_outline(
    tmp_path_factory, a, b, c, d
):
    run = tmp_path_factory.mktemp("fuzz")
    files = {
        "lm_eval/r04.json": {
            "results": {"hellaswag": a, "mmlu": {"acc,none": 0.5}},
            "groups": b,
            "configs": {"hellaswag": c, "mmlu": d},
            "n-shot": b,
            "n-samples": {"hellaswag": c},
            "group_subtasks": {"mmlu": a, "x": b},
            "higher_is_better": d,
            "config": {"model_args": a, "limit": b, "gen_kwargs": c, "random_seed": d},
            "date": a,
        },
        "lm_eval/r03.json": {"results": {"hellaswag": a, "hendrycksTest-x": b}, "config": c},
        "lighteval/l.json": {
            "config_general": {"model_name": a, "max_samples": b, "generation_parameters": c},
            "results": {"leaderboard|hellaswag|10": a, "x|y": b, "all": c},
            "config_tasks": {"leaderboard|hellaswag": d},
        },
        "olmes/task-000-hellaswag-metrics.json": {
            "task_name": "hellaswag",
            "metrics": {"primary_score": a, "acc": b},
            "task_config": {"num_shots": c, "limit": d, "metadata": a, "generation_kwargs": b},
            "model_config": c,
            "num_instances": d,
            "current_date": a,
        },
        "olmes/metrics.json": {"tasks": [{"alias": "mmlu:mc", "metrics": a, "task_config": b}]},
        "evals.json": {"hellaswag": a, "gsm8k": b},
    }
    for name, data in files.items():
        path = run / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    try:
        read_raw(run)
        read_scores(run, SPECS)
    except SheetsyncError:
        pass


def test_a_fifo_among_eval_files_is_reported_not_waited_on(tmp_path):
    import os

    run = tmp_path / "r1"
    (run / "lm_eval").mkdir(parents=True)
    os.mkfifo(run / "lm_eval" / "results_2026-01-01.json")
    raw = read_raw(run)  # returns: nothing opened the FIFO for reading
    assert any("not a file" in m for m in raw.errors.values())
