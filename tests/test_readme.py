"""The README's quick start, command by command, as a new user types it."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from sheetsync.cli import main
from tests.helpers import BASE

README = Path(__file__).parent.parent / "README.md"
EXAMPLE = Path(__file__).parent.parent / "templates" / "example-run"


def quick_start() -> list[list[str]]:
    text = README.read_text()
    block = re.search(r"## Quick start on your own runs\n\n```bash\n(.*?)```", text, re.S)
    assert block, "the README lost its quick start"
    return [shlex.split(line, comments=True) for line in block[1].splitlines() if line.strip()]


def test_readme_quick_start_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-config.yaml").write_text(yaml.safe_dump(BASE))
    commands = quick_start()
    assert commands[0] == ["sheetsync", "init"]
    runner = CliRunner()
    for argv in commands:
        assert argv[0] == "sheetsync"
        if argv[1] == "add" and not (tmp_path / "runs" / "prores-600m").exists():
            shutil.copytree(EXAMPLE, tmp_path / "runs" / "prores-600m")
        if argv[1] == "verify" and not (tmp_path / "runs" / "prores-600m").exists():
            shutil.copytree(EXAMPLE, tmp_path / "runs" / "prores-600m")
        result = runner.invoke(main, argv[1:], input="y\n")
        assert result.exit_code in (0, 1) if argv[1] == "check" else result.exit_code == 0, (
            argv,
            result.output,
        )
    assert (tmp_path / "report" / "report.html").exists()
    assert (tmp_path / "baselines" / "4b-moe@2026-06-01.yaml").exists()
