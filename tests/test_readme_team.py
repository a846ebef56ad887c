"""The README's "Working as a team" section, command by command: two machines on one
workbook, the cron line's and the systemd unit's `sync --quiet`, `watch` stopped by SIGTERM,
and `baseline add --commit` followed by `check`."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.project import load_project
from sheetsync.sheet.init import write_project_files
from tests.helpers import BASE, write_run

README = Path(__file__).parent.parent / "README.md"
REPO = Path(__file__).resolve().parents[1]


def section() -> str:
    text = README.read_text()
    found = re.search(r"## Working as a team\n(.*?)\n## ", text, re.S)
    assert found, "the README lost its 'Working as a team' section"
    return found[1]


def commands() -> list[list[str]]:
    """Every `sheetsync ...` the section shows: in its bash blocks, the cron line, the unit."""
    out = []
    for block in re.findall(r"```(?:bash|ini)?\n(.*?)```", section(), re.S):
        for line in block.splitlines():
            found = re.search(r"(?:^|&& |ExecStart=\S*/)(sheetsync .*)$", line)
            if found:
                out.append(shlex.split(found[1], comments=True))
    return out


def test_the_team_section_runs_as_written(tmp_path, monkeypatch):
    ana = tmp_path / "experiments"
    write_project_files(ana)
    (ana / "baselines" / "4b-moe@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    (ana / "configs").mkdir()
    (ana / "configs" / "4b-moe.yaml").write_text(yaml.safe_dump({**BASE, "seed": 7}))
    ben_root = tmp_path / "ben"
    write_project_files(ben_root)
    config = ben_root / "sheetsync.yaml"
    book = ana / "experiments.xlsx"
    config.write_text(config.read_text().replace("local: experiments.xlsx", f"local: {book}"))
    (ben_root / "baselines").mkdir(exist_ok=True)
    (ben_root / "baselines" / "4b-moe@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    runner = CliRunner()
    monkeypatch.chdir(ana)
    assert runner.invoke(main, ["init"]).exit_code == 0
    project, ben = load_project(ana / "sheetsync.yaml"), load_project(config)
    for who, run_id in ((project, "ana-prores-1b"), (ben, "ben-kv-1b")):
        folder = write_run(who, run_id, changes={"model.prores": True})
        args = ["--config", str(who.path), "add", str(folder), "-q", "Q?", "-b", "4b-moe", "-y"]
        assert runner.invoke(main, args).exit_code == 0
    shown = commands()
    assert [c[:2] for c in shown] == [
        ["sheetsync", "check"], ["sheetsync", "sync"], ["sheetsync", "check"],
        ["sheetsync", "sync"], ["sheetsync", "sync"], ["sheetsync", "watch"],
        ["sheetsync", "baseline"], ["sheetsync", "check"],
    ]  # fmt: skip
    expected = {("check", "ben-kv-1b"): 2}
    for argv in shown:
        if argv[1] == "watch":
            watch(argv[1:], ana)
            continue
        result = runner.invoke(main, argv[1:])
        code = expected.get(tuple(argv[1:3]), 0)
        assert result.exit_code == code, (argv, result.output)
        if argv[1:] == ["check"]:
            assert "1 runs in the sheet are not on this machine: not checked" in result.output
        if argv[1:] == ["sync", "--quiet"]:
            assert result.output == ""
    assert project.registry().resolve("4b-moe@2026-09-01").commit() == "4b1c0de"


def watch(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "sheetsync", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout.readline().startswith("watching the runs of ")
        time.sleep(1.0)  # its first sync
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.splitlines()[-1].startswith("watch stopped after ")
