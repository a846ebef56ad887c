"""The Hugging Face Trainer callback, driven with transformers' own TrainingArguments,
TrainerState and TrainerControl the way the Trainer calls it (the Trainer itself needs torch,
which the test install leaves out)."""

from __future__ import annotations

import pytest

import sheetsync
from sheetsync.records.runs import read_run

transformers = pytest.importorskip("transformers", reason="needs `pip install transformers`")


def _train(run_dir, log, steps: int, fail_at: int | None = None, nan_at: int | None = None):
    from sheetsync.hf import SheetsyncCallback

    args = transformers.TrainingArguments(
        output_dir=str(run_dir), max_steps=100, seed=11, report_to=[], logging_steps=10
    )
    state = transformers.TrainerState(max_steps=100, total_flos=1.5e15)
    control = transformers.TrainerControl()
    callback = SheetsyncCallback(log)
    callback.on_train_begin(args, state, control)
    for step in range(1, steps + 1):
        state.global_step = step
        state.num_input_tokens_seen = step * 4096
        if fail_at == step:
            raise RuntimeError("CUDA out of memory")
        if step % 10 == 0:
            loss = float("nan") if nan_at is not None and step >= nan_at else 3.0 - step / 200
            callback.on_log(args, state, control, logs={"loss": loss})
    callback.on_train_end(args, state, control)


def test_a_trainer_run_is_written_as_a_finished_run_folder(tmp_path):
    with sheetsync.RunLog(tmp_path / "hf-run", min_interval=0) as log:
        _train(tmp_path / "hf-run", log, steps=100)
    run = read_run(tmp_path / "hf-run")
    assert run.status == "finished"
    assert run.results.final_loss == pytest.approx(2.5)
    assert run.results.flops == 1.5e15
    assert run.progress.tokens == 409_600
    assert run.config["train"]["max_steps"] == 100 and run.launch.seed == 11


def test_training_that_raises_is_recorded_failed_by_the_with_block(tmp_path):
    with pytest.raises(RuntimeError), sheetsync.RunLog(tmp_path / "hf-run", min_interval=0) as log:
        _train(tmp_path / "hf-run", log, steps=100, fail_at=35)
    assert read_run(tmp_path / "hf-run").status == "unfinished: failed at step 30/100"


def test_a_nan_loss_logged_by_the_trainer_records_a_diverged_run(tmp_path):
    with sheetsync.RunLog(tmp_path / "hf-run", min_interval=0) as log:
        _train(tmp_path / "hf-run", log, steps=100, nan_at=40)  # the Trainer goes on to its end
    run = read_run(tmp_path / "hf-run")
    assert run.status == "diverged at step 40/100" and run.results.final_loss is None
