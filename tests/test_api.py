"""The public Python API, on the demo project: every call returns a frozen value that prints
as one line, options are keyword-only, and `import sheetsync` stays light."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

import sheetsync
from sheetsync.demo_project import build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api") / "demo"
    build_demo(folder)
    return folder


@pytest.fixture
def exp(demo, monkeypatch):
    monkeypatch.chdir(demo / "runs")  # found by walking up, as the CLI finds it
    monkeypatch.delenv("SHEETSYNC_CONFIG", raising=False)
    return sheetsync.open()


def one_line(value: object) -> str:
    text = repr(value)
    assert "\n" not in text and len(text) < 300, text
    return text


def test_open_walks_up_or_takes_a_path(demo, exp):
    assert exp.path == demo / "sheetsync.yaml"
    assert sheetsync.open(demo).path == exp.path
    assert sheetsync.open(demo / "sheetsync.yaml").path == exp.path
    with pytest.raises(sheetsync.ConfigError):
        sheetsync.open(demo / "nowhere")


def test_sync_dry_run_of_an_up_to_date_demo_writes_nothing(exp):
    synced = exp.sync(dry_run=True)
    assert dataclasses.is_dataclass(synced) and synced.dry_run and not synced.applied
    assert synced.changes == () and len(synced.synced) == 16
    assert one_line(synced).startswith("<Synced: up to date: 16 runs checked in")
    with pytest.raises(dataclasses.FrozenInstanceError):
        synced.applied = True  # type: ignore[misc]


def test_options_are_keyword_only(exp):
    with pytest.raises(TypeError):
        exp.sync("prores-150m", True)  # type: ignore[misc]
    with pytest.raises(TypeError):
        exp.check("prores-150m", True)  # type: ignore[misc]


def test_sync_reports_progress_and_finds_a_changed_result(demo, exp):
    seen: list[tuple[int, int]] = []
    results = demo / "runs" / "qk-norm-600m" / "results.json"
    data = json.loads(results.read_text())
    before = data["final_loss"]
    data["final_loss"] = round(before - 0.01, 4)
    results.write_text(json.dumps(data))
    try:
        synced = exp.sync(dry_run=True, progress=lambda done, total: seen.append((done, total)))
    finally:
        data["final_loss"] = before
        results.write_text(json.dumps(data))
    assert seen[-1] == (16, 16)
    assert "final_loss" in {c.column for c in synced.by_run()["qk-norm-600m"]}
    assert one_line(synced).startswith("<Synced: would write")


def test_check_finds_the_demo_drift(exp):
    checked = exp.check()
    assert checked.failed
    assert ("qk-norm-600m", "drift") in [(f.run, f.rule) for f in checked.findings]
    fails = checked.count("fail")
    assert one_line(checked).startswith(f"<Checked: checked 16 runs: {fails} failing")
    assert json.loads(checked.to_json())[0]["run"]


def test_fit_gain_and_scaling(demo, exp):
    fitted = exp.fit("4b-moe@2026-06-01", record=False)
    assert fitted.fit.n_runs == 7 and fitted.law().startswith("L(C) = ")
    assert one_line(fitted).startswith("<Fitted: L(C) = ")
    trend = exp.scaling("lns-1000m")
    assert [t.method for t in trend.trends] and trend.trends[0].verdict
    one_line(trend)


def test_runs_evals_and_report(demo, exp, tmp_path):
    df = exp.runs(status="finished")
    assert len(df) == 15 and "gain" in df.columns
    evals = exp.evals("prores-1000m")
    assert evals.columns() and one_line(evals).startswith("<Evals: prores-1000m:")
    report = exp.report(out=tmp_path / "report")
    assert report.html.is_file() and report.markdown.is_file()
    one_line(report)


def test_baselines(exp):
    refs = [b.ref for b in exp.baselines()]
    assert refs == ["4b-moe@2026-06-01", "4b-moe@2026-09-01"]
    diff = exp.diff_baselines("4b-moe@2026-06-01", "4b-moe")
    assert [c.key for c in diff.changes] == ["model.prores"]
    assert one_line(diff) == "<BaselineDiff: 4b-moe@2026-06-01 -> 4b-moe@2026-09-01: 1 change>"


def test_add_asks_before_writing_and_a_refusal_writes_nothing(demo, exp):
    log = sheetsync.RunLog(demo / "runs" / "api-run", steps_planned=10)
    with log:
        log.config({**exp.baseline("4b-moe").config(), "seed": 3})
        log.progress(step=10, tokens=10)
        log.finish(final_loss=2.5, params=1e8)
    shown = []
    refused = exp.add(
        "api-run", question="Does a seed change anything?", baseline="4b-moe",
        confirm=lambda preview: shown.append(preview) or False,
    )  # fmt: skip
    assert refused.row is None and shown[0].baseline == "4b-moe@2026-09-01"
    assert [c.key for c in shown[0].changes] == ["seed"]
    assert "api-run" not in exp.runs()["run"].tolist()
    added = exp.add("api-run", question="Does a seed change anything?", baseline="4b-moe")
    assert added.row == 18 and one_line(added).startswith("<Added: added api-run as row 18")
    assert "api-run" in exp.runs()["run"].tolist()


def test_errors_carry_their_fields(demo, exp):
    with pytest.raises(sheetsync.RunError) as caught:
        exp.add("no-such-run", question="q", baseline="4b-moe")
    assert caught.value.file == demo / "runs" / "no-such-run"
    with pytest.raises(sheetsync.UsageError) as caught:
        exp.add("bad id", question="q", baseline="4b-moe")
    assert caught.value.rule == "run id"


def test_import_sheetsync_stays_light():
    code = (
        "import sys, sheetsync\n"
        "heavy = ('pandas', 'numpy', 'scipy', 'openpyxl', 'gspread', 'yaml', 'sheetsync.sheet')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_readme_python_api_section_runs_on_the_demo(tmp_path, monkeypatch):
    """Every code block of the README's "Python API" section, in order, on a fresh demo."""
    import re
    from pathlib import Path

    text = (Path(__file__).parent.parent / "README.md").read_text()
    section = re.search(r"## Python API\n(.*?)\n## ", text, re.S)
    assert section, "the README lost its Python API section"
    blocks = re.findall(r"```python\n(.*?)```", section[1], re.S)
    assert len(blocks) == 3
    build_demo(tmp_path / "demo")
    monkeypatch.chdir(tmp_path / "demo")
    monkeypatch.delenv("SHEETSYNC_CONFIG", raising=False)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["drift"] and namespace["fitted"].fit.n_runs == 7
    assert len(namespace["finished"]) == 15
    assert (tmp_path / "demo" / "report" / "report.html").is_file()
    assert namespace["added"].row == 18
    assert "prores-2b" in namespace["synced"].synced


def test_the_week_example_runs(tmp_path):
    """examples/week.py, the notebook-shaped week, runs end to end on a fresh demo."""
    from pathlib import Path

    example = Path(__file__).parent.parent / "examples" / "week.py"
    done = subprocess.run(
        [sys.executable, str(example), str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env={**os.environ, "SHEETSYNC_CONFIG": ""},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "prores-2b" in done.stdout and (tmp_path / "demo" / "report" / "report.html").is_file()


def test_a_config_error_names_its_file_as_a_field(tmp_path):
    (tmp_path / "sheetsync.yaml").write_text("sheet: {local: x.xlsx}\nreview_days: 0\n")
    with pytest.raises(sheetsync.ConfigError) as caught:
        sheetsync.open(tmp_path).sync()
    assert caught.value.file == tmp_path / "sheetsync.yaml"
    (tmp_path / "sheetsync.yaml").write_text("sheet: {local: x.xlsx}\nlayout: layout.yaml\n")
    (tmp_path / "layout.yaml").write_text("tabs: [runs]\n")
    with pytest.raises(sheetsync.ConfigError) as caught:
        sheetsync.open(tmp_path).ls()
    assert caught.value.file == tmp_path / "layout.yaml"


@pytest.fixture(scope="module")
def spare(tmp_path_factory):
    """A demo of its own, for calls that write (add, fit)."""
    folder = tmp_path_factory.mktemp("spare") / "demo"
    build_demo(folder)
    return sheetsync.open(folder)


@pytest.mark.parametrize("call", ["sync", "check", "ls", "report", "add", "fit"])
def test_a_call_parses_the_layout_once(spare, monkeypatch, call, tmp_path):
    """A command reads its layout file once (add and fit did twice), however many steps
    of it need the layout."""
    import sheetsync.layout as layout_module

    exp = spare
    if call == "add":
        log = sheetsync.RunLog(exp.path.parent / "runs" / "once-run", steps_planned=10)
        log.config({**exp.baseline("4b-moe").config(), "seed": 5})
    parsed, real = [], layout_module.load_layout
    monkeypatch.setattr(layout_module, "load_layout", lambda *a: parsed.append(a) or real(*a))
    {
        "sync": lambda: exp.sync(dry_run=True),
        "check": exp.check,
        "ls": exp.ls,
        "report": lambda: exp.report(out=tmp_path / "report"),
        "add": lambda: exp.add("once-run", question="Once?", baseline="4b-moe"),
        "fit": lambda: exp.fit("4b-moe@2026-06-01"),
    }[call]()
    assert len(parsed) == 1


def test_ls_returns_the_records_the_cli_prints(exp):
    listed = exp.ls(status="finished")
    assert len(listed.records) == 15 and listed.total >= 16
    assert one_line(listed) == f"<Listed: 15 of {listed.total} runs>"
    assert listed.text("csv").splitlines()[0].startswith("run,")
    assert json.loads(listed.text("json"))[0]["run"] == listed.records[0]["run"]
    assert len(listed.frame()) == 15
    assert listed.table(120)[0][0].text.strip() == "run"


def test_an_up_to_date_sync_needs_no_one(exp):
    """`sync --quiet` prints a sync's attention lines and exits with its exit code."""
    synced = exp.sync(dry_run=True)
    assert (synced.attention, synced.exit_code) == ((), 0)


def test_a_malformed_run_file_is_the_errors_file(spare):
    folder = spare.path.parent / "runs" / "bad-yaml"
    folder.mkdir()
    (folder / "config.yaml").write_text("model: [unclosed\n")
    with pytest.raises(sheetsync.RunError) as caught:
        spare.add("bad-yaml", question="q", baseline="4b-moe")
    assert caught.value.file == folder / "config.yaml"
