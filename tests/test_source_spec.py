"""The `runs:` setting: what sheetsync.yaml may say about where runs come from, and a one-line
error for what it may not."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetsync.errors import ConfigError
from sheetsync.records.sources.fields import Found, to_native
from sheetsync.records.sources.home import usable_id
from sheetsync.records.sources.spec import SourceSpec, parse_runs_setting

CONFIG = Path("/team/project/sheetsync.yaml")


def test_a_folder_a_url_and_a_tracker_are_each_understood():
    assert parse_runs_setting(None, CONFIG) == SourceSpec("folder", "/team/project/runs")
    assert parse_runs_setting("../shared/runs", CONFIG).location == "/team/shared/runs"
    s3 = parse_runs_setting("s3://bucket/pre/fix/", CONFIG)
    assert (s3.kind, s3.location) == ("objectstore", "s3://bucket/pre/fix")
    wandb = parse_runs_setting({"source": "wandb", "map": {"loss": ["a", "b"]}}, CONFIG)
    assert (wandb.kind, wandb.location) == ("wandb", "/team/project/wandb")
    assert wandb.fields == {"loss": ("a", "b")}
    mlflow = parse_runs_setting({"source": "mlflow", "uri": "http://mlflow:5000"}, CONFIG)
    assert mlflow.location == "http://mlflow:5000"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"source": "neptune"}, "runs.source must be one of folder, wandb, mlflow, tensorboard"),
        ({"source": "wandb", "map": {"lost": "x"}}, "runs.map: unknown field 'lost'"),
        ({"source": "wandb", "map": {"loss": 3}}, "runs.map.loss must be a name or a list"),
        ({"source": "wandb", "timeout": 3}, "unknown key 'timeout' for a wandb source"),
        ({"source": "wandb", "path": "s3://b/p"}, "a wandb source reads a local folder"),
        ({"source": "mlflow"}, "runs.path is missing: name the mlflow location"),
        ({"path": "s3://b/p", "timeout": 0}, "runs.timeout must be a positive number"),
        ({"source": "s3", "path": "bucket/p"}, "runs.path must be an s3:// or gs:// URL"),
        (["runs"], "runs must be a folder, an s3:// or gs:// URL, or a mapping"),
    ],
)
def test_a_wrong_runs_setting_is_one_line_naming_the_key(value, message):
    with pytest.raises(ConfigError) as caught:
        parse_runs_setting(value, CONFIG)
    assert str(caught.value).startswith(f"{CONFIG}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_tracker_values_become_the_native_records_and_bad_ones_name_their_key():
    found = Found(
        origin="log",
        config={"train": {"max_steps": 100, "seed": 5}},
        metrics={"train/loss": 2.5, "tokens": 4096.0, "total_flos": 1e18},
        step=100,
        state="finished",
    )
    native = to_native(found, {})
    assert native.progress == {
        "step": 100,
        "steps_planned": 100,
        "tokens": 4096,
        "state": "finished",
    }
    assert native.results == {"final_loss": 2.5, "flops": 1e18}
    assert native.launch == {"seed": 5}
    found.metrics["tokens"] = -1
    with pytest.raises(Exception, match=r"^log: tokens is negative \(-1\)$"):
        to_native(found, {})
    found.metrics["tokens"] = 1
    found.step = 101
    with pytest.raises(Exception, match="^log: step 101 is beyond steps_planned 100$"):
        to_native(found, {})


@pytest.mark.parametrize("name", ["", " a", ".hidden", "a/b", "..", "x" * 201, "tab\there"])
def test_a_tracker_name_that_cannot_be_a_run_id_is_refused(name):
    assert usable_id(name) is not None


def test_an_ordinary_tracker_name_is_a_run_id():
    assert usable_id("prores-600m_lr=3e-4") is None
