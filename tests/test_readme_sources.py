"""The README's "Where your runs come from": its training-loop example runs as written, and
every `runs:` setting it shows is one sheetsync accepts."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from sheetsync.records.runs import read_run
from sheetsync.records.sources.spec import parse_runs_setting

README = Path(__file__).parent.parent / "README.md"


def _section() -> str:
    text = README.read_text()
    found = re.search(r"## Where your runs come from\n(.*?)\n## ", text, re.S)
    assert found, "the README lost its section on run sources"
    return found[1]


def test_the_training_loop_example_writes_a_finished_run(tmp_path, monkeypatch):
    example = re.search(r"### From a training script.*?```python\n(.*?)```", _section(), re.S)
    assert example and len(example[1].strip().splitlines()) <= 10
    monkeypatch.chdir(tmp_path)
    losses = iter(3.0 - i / 5722 for i in range(10_000))
    namespace = {
        "config": {"model": {"d_model": 1024}, "optim": {"lr": 3e-4}},
        "train_step": lambda: next(losses),
        "evaluate": lambda: 2.91,
    }
    exec(compile(example[1], "README.md", "exec"), namespace)
    run = read_run(tmp_path / "runs" / "prores-600m")
    assert run.status == "finished"
    assert run.results.final_loss == 2.91 and run.results.params == 6.0e8
    assert run.progress.tokens == 5722 * 512 * 4096


def test_every_runs_setting_shown_is_accepted(tmp_path):
    section = _section()
    settings = [yaml.safe_load(line)["runs"] for line in re.findall(r"`(runs: [^`]+)`", section)]
    for block in re.findall(r"```yaml\n(.*?)```", section, re.S):
        settings.append(yaml.safe_load(block)["runs"])
    kinds = [parse_runs_setting(s, tmp_path / "sheetsync.yaml").kind for s in settings]
    assert kinds == [
        "folder",
        "wandb",
        "mlflow",
        "tensorboard",
        "objectstore",
        "wandb",
        "objectstore",
        "objectstore",
    ]
