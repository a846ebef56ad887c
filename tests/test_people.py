"""ls, pull and load_runs: the sheet read back for people and notebooks."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
from click.testing import CliRunner

import sheetsync
from sheetsync.cli import main
from tests.helpers import write_run


def cli(project, *args, env=None):
    return CliRunner().invoke(main, ["--config", str(project.path), *args], env=env)


def populate(project) -> None:
    write_run(project, "alpha", changes={"model.prores": True}, loss=2.4)
    write_run(project, "beta", changes={"model.qk_norm": True}, step=400, state="killed")
    write_run(project, "gamma", changes={"model.d_model": 512}, loss=2.6)
    questions = {"alpha": "Does ProRes help?", "beta": "Is QK-norm stable?", "gamma": "Wider?"}
    for run_id, q in questions.items():
        assert (
            cli(
                project, "add", str(project.runs_dir / run_id), "-q", q, "-b", "b", "--yes"
            ).exit_code
            == 0
        )
    assert cli(project, "sync").exit_code == 0


def test_ls_filters_by_status_question_baseline_and_date(project):
    populate(project)

    def ids(*args):
        out = json.loads(cli(project, "ls", "--json", *args).output)
        return [r["run"] for r in out]

    assert ids() == ["alpha", "beta", "gamma"]
    assert ids("--status", "unfinished") == ["beta"]
    assert ids("--status", "finished") == ["alpha", "gamma"]
    assert ids("--question", "prores") == ["alpha"]
    assert ids("--baseline", "b@2026-06-01") == ["alpha", "beta", "gamma"]
    assert ids("--baseline", "other") == []
    assert ids("--since", "2026-11-01") == ["alpha", "beta", "gamma"]
    assert ids("--since", "2026-11-02") == []
    bad = cli(project, "ls", "--since", "yesterday")
    assert bad.exit_code == 1 and "is not a date of the form YYYY-MM-DD" in bad.output


def test_ls_json_and_csv_shapes_keep_sheet_values(project):
    populate(project)
    records = json.loads(cli(project, "ls", "--json").output)
    assert set(records[0]) >= {"run", "baseline", "baseline_date", "status", "final_loss", "gain"}
    beta = next(r for r in records if r["run"] == "beta")
    assert beta["final_loss"] == "unfinished"
    rows = list(csv.DictReader(io.StringIO(cli(project, "ls", "--csv").output)))
    assert [r["run"] for r in rows] == ["alpha", "beta", "gamma"]
    assert rows[0]["final_loss"] == "2.4"


def test_ls_table_fits_width_and_has_no_colour_off_a_terminal(project, monkeypatch):
    populate(project)
    monkeypatch.setenv("COLUMNS", "80")
    out = cli(project, "ls").output
    lines = out.splitlines()
    assert lines[0].startswith("run")
    assert all(len(line) <= 80 for line in lines)
    assert "\x1b[" not in out
    assert lines[-1] == "3 of 3 runs"


def test_load_runs_types_columns(project):
    populate(project)
    df = sheetsync.load_runs(project.path)
    assert list(df["run"]) == ["alpha", "beta", "gamma"]
    assert str(df["run"].dtype) == "string"
    assert pd.api.types.is_datetime64_any_dtype(df["launched"])
    assert pd.api.types.is_datetime64_any_dtype(df["baseline_date"])
    assert str(df["tokens"].dtype) == "Int64"
    assert df["final_loss"].dtype == float
    assert df["final_loss"].isna().tolist() == [False, True, False]
    assert df.loc[1, "status"] == "unfinished: killed at step 400/1,000"


def test_pull_csv_json_and_parquet_without_pyarrow(project, tmp_path):
    populate(project)
    text = cli(project, "pull").output
    assert text.splitlines()[0].startswith("run,launched,")
    out = tmp_path / "runs.json"
    result = cli(project, "pull", "--format", "json", "--out", str(out))
    assert result.exit_code == 0 and "wrote 3 runs" in result.output
    assert [r["run"] for r in json.loads(out.read_text())] == ["alpha", "beta", "gamma"]
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        missing = cli(project, "pull", "--format", "parquet", "--out", str(tmp_path / "x.pq"))
        assert missing.exit_code == 2
        assert "parquet needs pyarrow" in missing.output


def test_sync_shows_a_progress_bar_on_a_terminal_only(project):
    import os
    import pty
    import subprocess
    import sys

    for i in range(40):
        write_run(project, f"p{i:02d}")
        cli(project, "add", str(project.runs_dir / f"p{i:02d}"), "-q", "q", "-b", "b", "--yes")
    command = [sys.executable, "-m", "sheetsync", "--config", str(project.path), "sync", "-n"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    piped = subprocess.run(command, capture_output=True, text=True, cwd=root, check=True)
    assert "syncing runs" not in piped.stderr + piped.stdout
    leader, follower = pty.openpty()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=follower, cwd=root, check=True)
    os.close(follower)
    seen = b""
    try:
        while chunk := os.read(leader, 4096):
            seen += chunk
    except OSError:
        pass
    assert done.returncode == 0
    assert b"syncing runs" in seen and b"100%" in seen


def test_ls_never_shortens_a_run_id_other_columns_give_way(project, monkeypatch):
    """The demo's ids: seven ladder rungs that differ only after `ladder-1`, and a long one."""
    ids = ["ladder-100m", "ladder-1000m", "ladder-1600m", "baseline-600m-sep", "prores-1000m"]
    for i, run_id in enumerate(ids):
        write_run(project, run_id, changes={"model.d_model": 256 + i}, loss=2.4 + i / 10)
        q = "Scaling ladder for the 4b MoE baseline, dated 2026-06-01, and a long question"
        added = cli(project, "add", str(project.runs_dir / run_id), "-q", q, "-b", "b", "--yes")
        assert added.exit_code == 0, added.output
    assert cli(project, "sync").exit_code == 0
    for width in (80, 100, 40):
        monkeypatch.setenv("COLUMNS", str(width))
        lines = cli(project, "ls").output.splitlines()
        firsts = [line.split()[0] for line in lines[1:-1]]
        assert firsts == ids, (width, lines)
        if width >= 80:
            assert all(len(line) <= width for line in lines)
            assert "status" in lines[0] and "gain" in lines[0]
    monkeypatch.setenv("COLUMNS", "100")
    assert "launched" in cli(project, "ls").output.splitlines()[0]
