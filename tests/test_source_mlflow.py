"""Runs tracked with MLflow, read through MLflow's own client from the stores the real mlflow
library wrote in the test (a local folder store and a SQLite database)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from openpyxl import load_workbook

from sheetsync.errors import ConfigError, RunError
from sheetsync.records.sources.fields import nest
from sheetsync.records.sources.mlflow import parse_param
from sheetsync.sheet.sync import sync_runs
from tests.helpers import cli
from tests.sources_helpers import BASE_WITH_PLAN, git_repo, run_script, source_project

WRITER = """
import copy, mlflow

BASE = {base!r}

def flat(config, prefix=""):
    for key, value in config.items():
        if isinstance(value, dict):
            yield from flat(value, f"{{prefix}}{{key}}.")
        else:
            yield f"{{prefix}}{{key}}", value

def train(name, changes=None, stop_at=None, end=None):
    config = copy.deepcopy(BASE)
    for dotted, value in (changes or {{}}).items():
        section, key = dotted.split(".")
        config[section][key] = value
    with mlflow.start_run(run_name=name):
        mlflow.log_params(dict(flat(config)))
        for step in range(10, (stop_at or 100) + 1, 10):
            mlflow.log_metrics({{"loss": 3.0 - step / 200, "tokens": step * 4096}}, step=step)
        mlflow.log_metric("params", 6.0e8)
        if end == "crash":
            raise RuntimeError("diverged")
        if end:
            mlflow.end_run(end)

for uri in {uris!r}:  # each store in turn, from one process (mlflow takes seconds to import)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("ladder")
    train("base-600m")
    train("prores-600m", {{"model.prores": True}})
    train("killed-600m", stop_at=30, end="KILLED")
    try:
        train("crashed-600m", stop_at=40, end="crash")
    except RuntimeError:
        pass
"""


@pytest.fixture(scope="module")
def mlflow_stores(tmp_path_factory):
    """Four runs written by the real mlflow client into a folder store and a SQLite store
    (those this mlflow can write), one process for both: {kind: (uri, runs setting)}."""
    pytest.importorskip("mlflow", reason="the MLflow reader's tests need `pip install mlflow`")
    repo = tmp_path_factory.mktemp("trainer")
    commit = git_repo(repo)
    stores = {}
    if importlib.util.find_spec("mlflow.store.tracking.file_store"):
        stores["folder"] = ((repo / "mlruns").as_uri(), str(repo / "mlruns"))
    if importlib.util.find_spec("sqlalchemy"):
        stores["sqlite"] = (f"sqlite:///{repo / 'mlflow.db'}",) * 2
    uris = [uri for uri, _ in stores.values()]
    env = {"MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet"}
    run_script(WRITER.format(uris=uris, base=BASE_WITH_PLAN), repo, env)
    return {kind: runs for kind, (_, runs) in stores.items()}, commit


@pytest.fixture(params=["folder", "sqlite"])
def mlflow_store(request, mlflow_stores):
    """The four runs in a folder store or in a SQLite store."""
    stores, commit = mlflow_stores
    if request.param not in stores:
        pytest.skip(f"this mlflow cannot write a {request.param} store (sqlalchemy absent?)")
    return stores[request.param], commit


def _rows(project):
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    rows = ws.iter_rows(min_row=2, values_only=True)
    return {r[0]: dict(zip(header, r, strict=False)) for r in rows}


def test_mlflow_runs_are_synced_with_their_status_loss_and_config(tmp_path, mlflow_store):
    runs, commit = mlflow_store
    project = source_project(tmp_path / "proj", {"source": "mlflow", "path": runs})
    for rid in ("base-600m", "prores-600m", "killed-600m", "crashed-600m"):
        added = cli(project, "add", rid, "-q", "Does it help?", "-b", "b", "--yes")
        assert added.exit_code == 0, added.output
    sync_runs(project)
    rows = _rows(project)
    assert rows["base-600m"]["status"] == "finished"
    assert rows["base-600m"]["git commit"] == commit
    assert rows["base-600m"]["final loss"] == pytest.approx(2.5)
    assert rows["base-600m"]["tokens"] == 409_600
    assert rows["base-600m"]["compute (FLOPs)"] == pytest.approx(6 * 6.0e8 * 409_600)
    assert rows["prores-600m"]["changes vs baseline"] == "model.prores: false -> true"
    assert rows["killed-600m"]["status"] == "unfinished: killed at step 30/100"
    assert rows["crashed-600m"]["status"] == "unfinished: failed at step 40/100"
    assert rows["crashed-600m"]["final loss"] == "unfinished"


def test_the_experiment_can_be_named_and_an_unknown_one_is_one_line(tmp_path, mlflow_store):
    runs, _ = mlflow_store
    project = source_project(
        tmp_path / "proj", {"source": "mlflow", "path": runs, "experiment": "ladder"}
    )
    assert project.run_source().run_ids() == sorted(
        ["base-600m", "prores-600m", "killed-600m", "crashed-600m"]
    )
    other = source_project(tmp_path / "p2", {"source": "mlflow", "path": runs, "experiment": "x"})
    with pytest.raises(RunError, match="no experiment named 'x'"):
        other.run_source().run_ids()


def test_a_missing_store_is_one_line_and_is_not_created(tmp_path):
    pytest.importorskip("mlflow")
    project = source_project(tmp_path / "proj", {"source": "mlflow", "path": "mlruns"})
    with pytest.raises(RunError) as caught:
        project.run_source()
    assert str(caught.value).endswith(
        "mlruns: MLflow folder not found (runs.path in sheetsync.yaml)"
    )
    assert not (tmp_path / "proj" / "mlruns").exists()


def test_params_are_parsed_back_from_text_and_nested_by_their_dots():
    assert parse_param("0.0003") == 0.0003 and parse_param("True") is True
    assert parse_param("adamw") == "adamw" and parse_param("[1, 2]") == [1, 2]
    assert nest({"optim.lr": 1, "optim.name": "adamw", "seed": 3}) == {
        "optim": {"lr": 1, "name": "adamw"},
        "seed": 3,
    }
    assert nest({"model": "gpt", "model.d": 2}) == {"model": "gpt", "model.d": 2}


def test_a_missing_mlflow_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")] + ["mlflow"]:
        monkeypatch.setitem(sys.modules, name, None)
    project = source_project(tmp_path / "proj", {"source": "mlflow", "path": "mlruns"})
    with pytest.raises(ConfigError) as caught:
        project.run_source()
    assert str(caught.value) == (
        "an MLflow run source needs the 'mlflow' package: pip install 'sheetsync[mlflow]'"
    )


NAN_WRITER = """
import math, sys, mlflow

mlflow.set_tracking_uri({uri!r})
mlflow.set_experiment("ladder")
with mlflow.start_run(run_name="nan-600m"):
    mlflow.log_params({{"train.max_steps": 100, "model.d_model": 1024}})
    for step in range(10, 61, 10):
        loss = math.nan if step == 60 else 3.0 - step / 200
        mlflow.log_metrics({{"loss": loss, "tokens": step * 4096}}, step=step)
    mlflow.end_run("KILLED")  # the trainer stopped itself on the NaN
"""


def test_a_nan_metric_logged_to_mlflow_is_a_diverged_run_added_and_synced(tmp_path):
    pytest.importorskip("mlflow", reason="the MLflow reader's tests need `pip install mlflow`")
    pytest.importorskip("mlflow.store.tracking.file_store")
    uri = (tmp_path / "mlruns").as_uri()
    env = {"MLFLOW_ALLOW_FILE_STORE": "true", "GIT_PYTHON_REFRESH": "quiet"}
    run_script(NAN_WRITER.format(uri=uri), tmp_path, env)
    runs = {"source": "mlflow", "path": str(tmp_path / "mlruns")}
    project = source_project(tmp_path / "proj", runs)
    added = cli(project, "add", "nan-600m", "-q", "Does it help?", "-b", "b", "--yes")
    assert added.exit_code == 0, added.output  # not refused: divergence is a result
    assert cli(project, "sync").exit_code == 0
    row = _rows(project)["nan-600m"]
    assert row["status"] == "diverged at step 60/100"
    assert row["final loss"] == "diverged" and row["gain"] == "diverged"
