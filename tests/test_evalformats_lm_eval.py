"""lm-evaluation-harness 0.3 and 0.4 files, read as the harness writes them: the task's own
config picks the metric and filter; shots, limit, model and seed make a result what it is."""

from __future__ import annotations

import math

import pytest

from sheetsync.records.evalformats import detect
from sheetsync.records.evalformats.identity import model_family, names_run
from sheetsync.records.evals import read_raw
from sheetsync.science.evals import EvalSpec, eval_cells
from sheetsync.sheet.evals import read_choices, read_scores
from tests.evalfixtures import LM03, LM04, LM04_5SHOT, LM04_GSM8K, LM04_LIMIT, place

RUN = "prores-600m"  # the fixtures' model_args point at /checkpoints/prores-600m/...


def spec(task: str, **kw) -> EvalSpec:
    return EvalSpec(f"eval:{task}", task, **kw)


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / RUN
    folder.mkdir()
    return folder


def test_04_group_value_is_the_files_own_size_weighted_number(run):
    place(run, LM04, "lm_eval/prores-600m/results_2024-06-01T10-00-00.123456.json")
    mmlu = read_scores(run, [spec("mmlu")])["eval:mmlu"]
    # (100*.30 + 135*.40 + 126*.35 + 311*.50) / 672, not the unweighted .3875 of the subjects
    assert mmlu.value == pytest.approx(283.6 / 672, abs=1e-6)
    assert (mmlu.metric, mmlu.shots, mmlu.documents) == ("acc,none", 0, 672)
    assert mmlu.model == "pretrained=/checkpoints/prores-600m/step-10000,dtype=bfloat16"
    assert (mmlu.stderr, mmlu.limit, mmlu.fmt) == (0.0188, None, "lm-eval 0.4")


def test_04_metric_and_filter_come_from_the_tasks_own_config(run):
    place(run, LM04, "lm_eval/a.json")
    scores = read_scores(
        run,
        [
            spec("gsm8k_cot_llama", kind="generative"),
            EvalSpec("eval:bare", "gsm8k_cot_llama", "exact_match", "generative"),
            spec("hellaswag"),
        ],
    )
    # filter_list lists strict-match first; a name-sorted guess would take flexible-extract
    assert (scores["eval:gsm8k_cot_llama"].metric, scores["eval:gsm8k_cot_llama"].value) == (
        "exact_match,strict-match",
        0.3101,
    )
    assert scores["eval:bare"].metric == "exact_match,strict-match"
    # the config lists acc and acc_norm; the usual one of the two is shown
    assert (scores["eval:hellaswag"].metric, scores["eval:hellaswag"].value) == (
        "acc_norm,none",
        0.5234,
    )


def test_04_a_task_unknown_to_the_table_shows_its_configs_first_metric(run):
    def custom(data):
        data["results"] = {"my_qa": {"alias": "my_qa", "f1,none": 0.61, "exact_match,none": 0.44}}
        data["configs"] = {
            "my_qa": {
                "task": "my_qa",
                "metric_list": [
                    {"metric": "f1", "aggregation": "mean", "higher_is_better": True},
                    {"metric": "exact_match", "aggregation": "mean", "higher_is_better": True},
                ],
                "output_type": "generate_until",
            }
        }
        data["group_subtasks"] = {"my_qa": []}

    place(run, LM04, "lm_eval/a.json", custom)
    score = read_scores(run, [spec("my_qa", kind="generative")])["eval:my_qa"]
    assert (score.metric, score.value) == ("f1,none", 0.61)  # not a guessed `acc`


def test_04_nan_stderr_never_blanks_the_value(run):
    place(run, LM04, "lm_eval/a.json")  # arc_challenge acc_norm_stderr is NaN in the file
    arc = read_scores(run, [spec("arc_challenge")])["eval:arc_challenge"]
    assert (arc.value, arc.stderr) == (0.3106, None)


@pytest.mark.parametrize(
    "dest",
    [
        "lm_eval/my_eval_2024-06-01T10-00-00.123456.json",  # --output_path my_eval.json
        "evals/prores-600m/anything.json",
        "eval/nested/deeper/out.json",
    ],
)
def test_04_files_are_found_by_content_whatever_their_name(run, dest):
    place(run, LM04, dest)
    assert read_scores(run, [spec("hellaswag")])["eval:hellaswag"].value == 0.5234


def test_limited_run_is_marked_and_kept_out_of_the_average(run):
    place(run, LM04_LIMIT, "lm_eval/smoke_2024-06-03T10-00-00.000001.json")
    specs = [spec("hellaswag"), spec("arc_challenge")]
    scores = read_scores(run, specs)
    assert scores["eval:hellaswag"].limit == 2 and scores["eval:hellaswag"].documents == 2
    cells = eval_cells(specs, scores)
    assert cells["eval:hellaswag"] == "0.500 (limit 2)"
    assert cells["eval_avg"] is None  # both limited: nothing to average
    assert eval_cells(specs, scores, "percent")["eval:arc_challenge"] == "50.0 (limit 2)"
    pinned = [spec("hellaswag", limit=2.0), spec("arc_challenge")]
    cells = eval_cells(pinned, read_scores(run, pinned))
    assert cells["eval:hellaswag"] == 0.5  # the layout allows limit 2 for this column
    assert cells["eval_avg"] == "0.500 (1/2)"


def test_a_full_evaluation_wins_over_a_newer_limited_one(run):
    place(run, LM04, "lm_eval/full.json")
    place(run, LM04_LIMIT, "lm_eval/smoke_2024-06-03T10-00-00.000001.json")  # two days newer
    _, choices = read_choices(run, [spec("hellaswag")])
    choice = choices["eval:hellaswag"]
    assert choice.values == (0.5234,)
    assert [u.reason for u in choice.unused] == ["limited run; a full evaluation exists"]


def test_zero_and_five_shot_are_different_results_and_a_column_pins_one(run):
    place(run, LM04, "lm_eval/zero.json")
    place(run, LM04_5SHOT, "lm_eval/five.json")  # newer: it used to overwrite the 0-shot cell
    specs = [
        spec("mmlu"),
        EvalSpec("eval:mmlu0", "mmlu", shots=0),
        EvalSpec("eval:mmlu5", "mmlu", shots=5),
        EvalSpec("eval:mmlu10", "mmlu", shots=10),
    ]
    scores = read_scores(run, specs)
    assert scores["eval:mmlu"] == "ambiguous: 0-shot and 5-shot results; pin shots in the layout"
    assert scores["eval:mmlu0"].value == pytest.approx(283.6 / 672, abs=1e-6)
    assert scores["eval:mmlu5"].value == pytest.approx(1.1 * 283.6 / 672, abs=1e-6)
    assert scores["eval:mmlu5"].shots == 5
    assert scores["eval:mmlu10"] == "only 0-shot, 5-shot results (the column pins 10-shot)"
    cells = eval_cells(specs, scores)
    assert cells["eval:mmlu"] == "ambiguous: 0-shot and 5-shot results; pin shots in the layout"
    assert cells["eval_avg"] == f"{(0.4220238 + 0.4642262) / 2:.3f} (2/4)"


def _model(model_args: str, value: float, date: float):
    def edit(data):
        data["config"]["model_args"] = model_args
        data["results"]["hellaswag"]["acc_norm,none"] = value
        data["date"] = date

    return edit


def test_another_models_files_are_reported_never_averaged_in(run):
    place(run, LM04, "lm_eval/own.json")
    other = place(
        run, LM04, "lm_eval/base.json", _model("pretrained=EleutherAI/pythia-410m", 0.9, 1.8e9)
    )
    raw, choices = read_choices(run, [spec("hellaswag")])
    assert choices["eval:hellaswag"].values == (0.5234,)  # the newer file is another model's
    assert any(
        u.source == other and u.reason.startswith("another model (pretrained=EleutherAI/pythia")
        for u in choices["eval:hellaswag"].unused
    )
    assert any("pythia-410m" in n and str(other) in n for n in raw.notices)


def test_two_models_and_neither_names_the_run_is_ambiguous(tmp_path):
    feat = tmp_path / "feat"
    place(feat, LM04, "lm_eval/a.json")
    place(feat, LM04, "lm_eval/b.json", _model("pretrained=EleutherAI/pythia-410m", 0.9, 1.8e9))
    cell = eval_cells([spec("hellaswag")], read_scores(feat, [spec("hellaswag")]))
    assert cell["eval:hellaswag"].startswith("ambiguous: 2 models (")
    assert cell["eval_avg"] is None


def test_checkpoints_of_the_run_newest_wins_older_is_reported(run):
    place(
        run,
        LM04,
        "lm_eval/old.json",
        _model("pretrained=/checkpoints/prores-600m/step-5000,dtype=bfloat16", 0.4, 1.7e9),
    )
    place(run, LM04, "lm_eval/new.json")
    _, choices = read_choices(run, [spec("hellaswag")])
    assert choices["eval:hellaswag"].values == (0.5234,)
    assert [u.reason for u in choices["eval:hellaswag"].unused] == [
        "older checkpoint (pretrained=/checkpoints/prores-600m/step-5000,dtype=bfloat16)"
    ]


@pytest.mark.parametrize(
    ("seeds", "value", "samples"),
    [
        ([0, 0, 0, 0], 0.33, 1),  # re-runs of one evaluation: the newest file
        ([1, 2, 3, 4], 0.315, 4),  # four seeds: repeats, averaged
    ],
)
def test_repeats_are_repeats_only_when_seeds_differ(run, seeds, value, samples):
    for i, seed in enumerate(seeds):

        def edit(data, i=i, seed=seed):
            data["results"]["gsm8k"]["exact_match,strict-match"] = 0.30 + 0.01 * i
            data["config"]["random_seed"] = seed
            data["date"] += i

        place(run, LM04_GSM8K, f"lm_eval/results_{i}.json", edit)
    score = read_scores(run, [spec("gsm8k", kind="generative")])["eval:gsm8k"]
    assert score.value == pytest.approx(value)
    assert len(score.samples) == samples


def test_03_bare_metric_keys_are_read(run):
    place(run, LM03, "lm_eval/results.json")
    scores = read_scores(run, [spec("hellaswag"), EvalSpec("eval:gsm8k", "gsm8k", "acc")])
    hs = scores["eval:hellaswag"]
    assert (hs.metric, hs.value, hs.stderr, hs.shots, hs.fmt) == (
        "acc_norm",
        0.5188,
        0.005,
        0,
        "lm-eval 0.3",
    )
    assert scores["eval:gsm8k"].value == 0.0212


def test_03_mmlu_is_the_unweighted_mean_of_its_57_subtasks_marked_so(run):
    place(run, LM03, "lm_eval/results.json")
    scores = read_scores(run, [spec("mmlu"), EvalSpec("eval:n", "mmlu", "acc_norm")])
    mmlu = scores["eval:mmlu"]
    assert mmlu.value == pytest.approx(0.4)  # subjects 0.4 + 0.005 * k, k = -28..28
    assert scores["eval:n"].value == pytest.approx(0.45)
    assert mmlu.stderr == pytest.approx(0.057 / math.sqrt(57))
    assert mmlu.note == "unweighted mean of 57 hendrycksTest-* subtasks"


def test_03_an_incomplete_mmlu_is_an_error_not_a_mean(run):
    def drop(data):
        for name in [k for k in data["results"] if k.startswith("hendrycksTest-")][:7]:
            del data["results"][name]

    place(run, LM03, "lm_eval/results.json", drop)
    message = read_scores(run, [spec("mmlu")])["eval:mmlu"]
    assert "50 of the 57 hendrycksTest-* subtasks" in message


def test_03_shots_and_limit_come_from_the_files_config(run):
    def edit(data):
        data["config"] |= {"num_fewshot": 5, "limit": 10}

    place(run, LM03, "lm_eval/results.json", edit)
    scores = read_scores(run, [spec("hellaswag"), spec("hellaswag0", shots=0)])
    hs = scores["eval:hellaswag"]
    assert (hs.shots, hs.limit) == (5, 10)
    assert eval_cells([spec("hellaswag")], scores)["eval:hellaswag"] == "0.519 (limit 10)"


def test_json_that_looks_like_evals_in_no_known_format_is_reported_once_by_path(run):
    unknown = place(run, "unknown/scores.json", "evals/custom/scores.json")
    (run / "evals" / "tokenizer_config.json").write_text('{"model_max_length": 2048}')
    raw = read_raw(run)
    assert [n for n in raw.notices if "scores.json" in n] == [
        f"{unknown}: looks like eval output but is in no format sheetsync reads "
        "(lm-evaluation-harness 0.3/0.4, lighteval, OLMES, evals.json); not read"
    ]
    assert not any("tokenizer_config" in n for n in raw.notices)
    assert {u.reason for u in raw.skipped} == {
        "looks like eval output in no known format",
        "not eval output",
    }


def test_a_file_over_the_size_limit_is_a_one_line_error(run, monkeypatch):
    monkeypatch.setattr(detect, "MAX_BYTES", 1000)
    path = place(run, LM04, "lm_eval/a.json")
    message = read_scores(run, [spec("hellaswag")])["eval:hellaswag"]
    assert message.startswith(f"{path}: ") and "too large for an eval results file" in message


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("pretrained=/ckpt/run-a/step5000", "pretrained=/ckpt/run-a/step10000", True),
        (
            "pretrained=EleutherAI/pythia-160m,revision=step1000",
            "pretrained=EleutherAI/pythia-160m,revision=step2000",
            True,
        ),
        ("pretrained=/ckpt/run-a/global_step200/hf", "pretrained=/ckpt/run-a/latest", True),
        ("ckpt=5000", "ckpt=final", True),
        ("pretrained=/ckpt/run-a/step5000", "pretrained=/ckpt/run-b/step5000", False),
        ("pretrained=EleutherAI/pythia-160m", "pretrained=EleutherAI/pythia-410m", False),
    ],
)
def test_checkpoints_of_one_model_are_one_family(a, b, same):
    assert (model_family(a) == model_family(b)) is same


def test_a_model_names_the_run_by_a_path_part(tmp_path):
    run = tmp_path / "prores-600m"
    assert names_run("pretrained=/checkpoints/prores-600m/step-10", run)
    assert names_run(f"pretrained={run}/hf", run)
    assert not names_run("pretrained=/checkpoints/prores-600m-v2/step-10", run)
