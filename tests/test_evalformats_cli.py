"""`sheetsync evals RUN` says where every cell came from and what was found and not used;
`sync` fills the sheet from harness files with a layout that pins shots."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from sheetsync.cli import main
from tests.conftest import write_run
from tests.evalfixtures import LM04, LM04_5SHOT, LM04_GSM8K, place

PINNED = "eval: {task: mmlu, metric: acc, kind: likelihood, group: knowledge, shots: 0}"


@pytest.fixture
def run(project):
    """A run whose eval folders hold what a busy team leaves there: two shot counts of MMLU,
    another model's file, and a JSON of scores in no harness's shape."""
    layout = project.path.parent / "layout.yaml"
    text = layout.read_text()
    layout.write_text(
        text.replace("eval: {task: mmlu, metric: acc, kind: likelihood, group: knowledge}", PINNED)
    )
    folder = write_run(project, "prores-600m")
    place(folder, LM04, "lm_eval/prores-600m/results_2024-06-01T10-00-00.123456.json")
    place(folder, LM04_5SHOT, "lm_eval/prores-600m/results_2024-06-02T10-00-00.654321.json")
    place(folder, LM04_GSM8K, "lm_eval/gsm8k_2024-06-04T10-00-00.000000.json")

    def other(data):
        data["config"]["model_args"] = "pretrained=EleutherAI/pythia-410m"
        data["date"] = 1.8e9

    place(folder, LM04, "lm_eval/pythia/results_2027-01-15T00-00-00.json", other)
    place(folder, "unknown/scores.json", "evals/custom/scores.json")
    return folder


def test_evals_shows_file_task_metric_filter_shots_samples_model_and_what_was_not_used(
    project, run
):
    cfg = ["--config", str(project.path)]
    result = CliRunner().invoke(main, [*cfg, "evals", str(run)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "mmlu             acc,none                     0.4220 ± 0.0188" in out
    assert "lm-eval 0.4, task mmlu, filter none, 0-shot, 672 samples" in out
    assert "file lm_eval/prores-600m/results_2024-06-01T10-00-00.123456.json" in out
    assert "model pretrained=/checkpoints/prores-600m/step-10000,dtype=bfloat16" in out
    assert (
        "not used: lm_eval/prores-600m/results_2024-06-02T10-00-00.654321.json: 5-shot; "
        "the column pins 0-shot"
    ) in out
    assert (
        "not used: lm_eval/pythia/results_2027-01-15T00-00-00.json: another model "
        "(pretrained=EleutherAI/pythia-410m); not run prores-600m"
    ) in out
    assert "gsm8k            exact_match,strict-match     0.3000 ± 0.0126" in out
    assert "not used: evals/custom/scores.json: looks like eval output in no known format" in out
    assert "in the files, no column: gsm8k_cot_llama, mmlu_abstract_algebra" in out


def test_evals_json_has_one_record_per_column_and_one_for_the_rest(project, run):
    cfg = ["--config", str(project.path)]
    result = CliRunner().invoke(main, [*cfg, "evals", str(run), "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    mmlu = next(r for r in records if r["column"] == "eval:mmlu")
    assert {k: mmlu[k] for k in ("metric", "filter", "shots", "n_samples", "limit")} == {
        "metric": "acc,none",
        "filter": "none",
        "shots": 0,
        "n_samples": 672,
        "limit": None,
    }
    assert mmlu["shots_pinned"] == 0 and mmlu["format"] == "lm-eval 0.4"
    rest = records[-1]
    assert rest["column"] is None
    assert {u["reason"] for u in rest["not_used"]} >= {"looks like eval output in no known format"}


def test_sync_fills_pinned_shots_and_reports_other_models_and_unknown_files(project, run):
    runner = CliRunner()
    cfg = ["--config", str(project.path)]
    added = runner.invoke(main, [*cfg, "add", str(run), "-q", "q", "-b", "b", "--yes"])
    assert added.exit_code == 0, added.output
    result = runner.invoke(main, [*cfg, "sync"])
    assert result.exit_code == 0, result.output
    assert "scores.json: looks like eval output but is in no format sheetsync reads" in (
        result.output
    )
    assert "another model (pretrained=EleutherAI/pythia-410m)" in result.output
    grid = list(load_workbook(project.sheet_target)["Runs"].iter_rows(values_only=True))
    row = dict(zip(grid[0], grid[1], strict=False))
    assert row["mmlu"] == pytest.approx(283.6 / 672, abs=1e-6)  # the 0-shot file, not the newer
    assert row["hellaswag"] == 0.5234  # the run's own model, not pythia's newer file
    assert row["gsm8k"] == 0.3
    assert row["eval avg (0-1)"] == pytest.approx((0.5234 + 0.3106 + 283.6 / 672 + 0.3) / 4)
