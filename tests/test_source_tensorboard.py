"""Runs logged to TensorBoard, read from event files the real tensorboardX writer wrote in the
test: one run per folder of the log directory, restarts and Lightning's version_N folders
included, the config from a file beside the events or from add_hparams."""

from __future__ import annotations

import sys

import pytest
from openpyxl import load_workbook

from sheetsync.errors import ConfigError, RunError
from sheetsync.sheet.sync import sync_runs
from tests.helpers import cli
from tests.sources_helpers import BASE_WITH_PLAN, run_script, source_project

WRITER = """
import copy, yaml
from tensorboardX import SummaryWriter

BASE = {base!r}

def log(folder, first, last):
    writer = SummaryWriter(folder)
    for step in range(first, last + 1, 10):
        writer.add_scalar("lm loss", 3.0 - step / 200, step)  # kept as lm_loss
        writer.add_scalar("tokens", step * 4096, step)
    writer.add_scalar("params", 6.0e8, last)
    writer.close()

def config_file(folder, name, changes=None):
    config = copy.deepcopy(BASE)
    for dotted, value in (changes or {{}}).items():
        section, key = dotted.split(".")
        config[section][key] = value
    import os
    os.makedirs(folder, exist_ok=True)
    with open(f"{{folder}}/{{name}}", "w") as fh:
        yaml.safe_dump(config, fh)

config_file("tb/base-600m", "config.yaml")
log("tb/base-600m", 10, 100)
config_file("tb/prores-600m/version_0", "hparams.yaml", {{"model.prores": True}})
log("tb/prores-600m/version_0", 10, 100)
config_file("tb/restarted-600m", "config.yaml")
log("tb/restarted-600m", 10, 50)
log("tb/restarted-600m", 60, 100)
config_file("tb/stopped-600m", "config.yaml")
log("tb/stopped-600m", 10, 40)
writer = SummaryWriter("tb/hparams-600m")
flat = {{f"{{s}}.{{k}}": v for s, d in BASE.items() for k, v in d.items()}}
writer.add_hparams(flat, {{"hparam/loss": 2.5}}, name="hp")
writer.close()
log("tb/hparams-600m", 10, 100)
"""


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    pytest.importorskip("tensorboardX", reason="the tests write events with tensorboardX")
    pytest.importorskip(
        "tensorboard", reason="the TensorBoard reader needs `pip install tensorboard`"
    )
    folder = tmp_path_factory.mktemp("trainer")
    run_script(WRITER.format(base=BASE_WITH_PLAN), folder)
    return folder / "tb"


def _rows(project):
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    rows = ws.iter_rows(min_row=2, values_only=True)
    return {r[0]: dict(zip(header, r, strict=False)) for r in rows}


def test_tensorboard_runs_are_synced_from_their_event_files(tmp_path, logdir):
    runs = {"source": "tensorboard", "path": str(logdir), "map": {"loss": "lm_loss"}}
    project = source_project(tmp_path / "proj", runs)
    ids = project.run_source().run_ids()
    assert ids == ["base-600m", "hparams-600m", "prores-600m", "restarted-600m", "stopped-600m"]
    for rid in ids:
        added = cli(project, "add", rid, "-q", "Does it help?", "-b", "b", "--yes")
        assert added.exit_code == 0, added.output
    sync_runs(project)
    rows = _rows(project)
    for rid in ("base-600m", "prores-600m", "restarted-600m", "hparams-600m"):
        assert rows[rid]["status"] == "finished", rid
        assert rows[rid]["final loss"] == pytest.approx(2.5), rid
        assert rows[rid]["tokens"] == 409_600, rid
        assert rows[rid]["compute (FLOPs)"] == pytest.approx(6 * 6.0e8 * 409_600), rid
    assert rows["prores-600m"]["changes vs baseline"] == "model.prores: false -> true"
    assert rows["hparams-600m"]["changes vs baseline"] == "(none)"
    assert rows["stopped-600m"]["status"] == "running"  # event files carry no run status


def test_a_loss_tag_not_found_leaves_the_loss_empty_and_a_run_without_config_is_one_line(
    tmp_path, logdir
):
    project = source_project(tmp_path / "proj", {"source": "tensorboard", "path": str(logdir)})
    run = project.run_source().read("base-600m")
    assert run.results.final_loss is None and run.progress.tokens == 409_600
    bare = tmp_path / "tb" / "bare"
    bare.mkdir(parents=True)
    for events in (logdir / "stopped-600m").glob("events.out.tfevents.*"):
        (bare / events.name).write_bytes(events.read_bytes())
    other = source_project(tmp_path / "p2", {"source": "tensorboard", "path": str(tmp_path / "tb")})
    with pytest.raises(RunError) as caught:
        other.run_source().read("bare")
    assert str(caught.value) == (
        f"{bare}: no config (a config.yaml or hparams.yaml in the run folder, "
        "or hyperparameters logged with add_hparams)"
    )


def test_a_missing_tensorboard_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m.startswith("tensorboard")] + ["tensorboard"]:
        monkeypatch.setitem(sys.modules, name, None)
    project = source_project(tmp_path / "proj", {"source": "tensorboard", "path": "tb"})
    with pytest.raises(ConfigError) as caught:
        project.run_source()
    assert str(caught.value) == (
        "a TensorBoard run source needs the 'tensorboard' package: "
        "pip install 'sheetsync[tensorboard]'"
    )


NAN_WRITER = """
import math, yaml
from tensorboardX import SummaryWriter

with open("tb/nan-600m/config.yaml", "w") as fh:
    yaml.safe_dump({base!r}, fh)
writer = SummaryWriter("tb/nan-600m")
for step in range(10, 51, 10):
    writer.add_scalar("loss", math.inf if step == 50 else 3.0 - step / 200, step)
writer.close()
"""


def test_an_infinite_loss_in_event_files_is_a_diverged_run(tmp_path):
    pytest.importorskip("tensorboardX", reason="the tests write events with tensorboardX")
    pytest.importorskip("tensorboard", reason="the reader needs `pip install tensorboard`")
    (tmp_path / "tb" / "nan-600m").mkdir(parents=True)
    run_script(NAN_WRITER.format(base=BASE_WITH_PLAN), tmp_path)
    project = source_project(tmp_path / "proj", {"source": "tensorboard", "path": "../tb"})
    added = cli(project, "add", "nan-600m", "-q", "Does it help?", "-b", "b", "--yes")
    assert added.exit_code == 0, added.output
    assert cli(project, "sync").exit_code == 0
    row = _rows(project)["nan-600m"]
    assert row["status"] == "diverged at step 50/100" and row["final loss"] == "diverged"
