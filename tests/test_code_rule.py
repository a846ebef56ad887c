"""The code a baseline was trained with: `baseline add` records its commit, and the `code` rule
warns about a run launched from a commit that does not contain it. On a real git repository
built here (git itself, not a stand-in)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sheetsync.project import load_project
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.checks import check_runs
from sheetsync.sheet.init import init_sheet, write_project_files
from sheetsync.sheet.read import read_rows
from tests.helpers import BASE, cli, write_run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

NEW = {**BASE, "optim": {**BASE["optim"], "lr": 2.0e-4}}


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
        "HOME": str(repo.parent), "PATH": "/usr/bin:/bin:/usr/local/bin",
    }  # fmt: skip
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env=env, check=True)  # fmt: skip
    return done.stdout.strip()


def commit(repo: Path, name: str, text: str, message: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def code(tmp_path):
    """main: A (model code) -> B (the code the new baseline was trained with) -> D;
    old-branch: A -> C (a feature branch that never got B)."""
    repo = tmp_path / "code"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    shas = {"A": commit(repo, "model.py", "v1\n", "A")}
    git(repo, "checkout", "-q", "-b", "old-branch")
    shas["C"] = commit(repo, "feature.py", "f\n", "C")
    git(repo, "checkout", "-q", "main")
    (repo / "configs").mkdir()
    shas["B"] = commit(repo, "configs/b.yaml", yaml.safe_dump(NEW), "B: the new baseline")
    shas["D"] = commit(repo, "model.py", "v2\n", "D")
    git(repo, "checkout", "-q", shas["B"])  # the baseline is registered with B checked out
    return repo, shas


@pytest.fixture
def tproject(tmp_path, code):
    repo, _ = code
    root = tmp_path / "proj"
    write_project_files(root)
    config = root / "sheetsync.yaml"
    config.write_text(config.read_text() + "code_repo: ../code\n")
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    project = load_project(config)
    init_sheet(project)
    return project


def launch(project, run_id: str, sha: str) -> None:
    folder = write_run(project, run_id, changes={"optim.lr": 2.0e-4, "model.prores": True})
    facts = json.loads((folder / "launch.json").read_text())
    (folder / "launch.json").write_text(json.dumps({**facts, "git_commit": sha[:12]}))
    result = cli(project, "add", str(folder), "-q", "Does it help?", "-b", "b", "--yes")
    assert result.exit_code == 0, result.output


def test_baseline_add_records_the_clean_head_and_the_tab_shows_it(tproject, code):
    repo, shas = code
    result = cli(tproject, "baseline", "add", "b", "--config", str(repo / "configs" / "b.yaml"),
                 "--date", "2026-07-01")  # fmt: skip
    assert result.exit_code == 0, result.output
    baseline = tproject.registry().resolve("b@2026-07-01")
    assert baseline.commit() == shas["B"]
    backend = open_backend(tproject)
    with backend.session():
        grid = backend.read(["Baselines"]).grid("Baselines")
    header, row = grid[0], next(r for r in grid if r and r[0] == "b@2026-07-01")
    assert row[header.index("code commit")] == shas["B"][:12]


def test_a_dirty_tree_is_refused_unless_the_commit_is_named(tproject, code):
    repo, shas = code
    config = repo / "configs" / "b.yaml"
    config.write_text(config.read_text() + "# tuned\n")
    args = ["baseline", "add", "b", "--config", str(config), "--date", "2026-07-01"]
    refused = cli(tproject, *args)
    assert refused.exit_code == 1
    assert refused.output.count("\n") == 1
    assert "has uncommitted changes" in refused.output and "--commit" in refused.output
    assert not (tproject.baselines_dir / "b@2026-07-01.yaml").exists()
    named = cli(tproject, *args, "--commit", shas["B"][:9])
    assert named.exit_code == 0, named.output
    assert tproject.registry().resolve("b@2026-07-01").commit() == shas["B"]  # resolved in full
    unknown = cli(tproject, "baseline", "add", "c", "--config", str(config), "--commit", "nope")
    assert unknown.exit_code == 1 and "--commit 'nope': not a commit" in unknown.output


def test_the_code_rule_warns_a_run_behind_the_baselines_code(tproject, code):
    repo, shas = code
    git(repo, "checkout", "-q", "main")
    assert cli(tproject, "baseline", "add", "b", "--config", str(repo / "configs" / "b.yaml"),
               "--date", "2026-07-01", "--commit", shas["B"]).exit_code == 0  # fmt: skip
    launch(tproject, "on-main", shas["D"])
    launch(tproject, "on-b", shas["B"])
    launch(tproject, "old-branch", shas["C"])
    launch(tproject, "elsewhere", "0123456789ab")  # a commit this repository never saw
    report = check_runs(tproject)
    code_findings = {f.run: (f.level, f.reason) for f in report.findings if f.rule == "code"}
    behind = f"behind b@2026-07-01's code ({shas['B'][:7]}): rebase on main"
    assert code_findings["old-branch"] == ("warn", behind)
    assert code_findings["on-main"][0] == code_findings["on-b"][0] == "ok"
    assert code_findings["elsewhere"][0] == "ok"
    assert code_findings["elsewhere"][1].startswith("note: commit 0123456789ab")
    assert any("elsewhere" in n and "not in the code repository" in n for n in report.notices)
    result = cli(tproject, "check")
    assert result.exit_code == 0
    assert f"old-branch               warn code         {behind}" in result.output
    strict = cli(tproject, "check", "--strict", "old-branch")
    assert strict.exit_code == 1 and "fail code" in strict.output
    assert cli(tproject, "sync").exit_code == 0
    cells = {r["run"]: r["checks"] for r in read_rows(tproject).records}
    assert cells["old-branch"] == f"warn: behind b@2026-07-01's code ({shas['B'][:7]})"
    assert cells["on-main"] == "ok"


def test_an_unknown_commit_is_a_note_until_a_fetch_brings_it(tproject, code, tmp_path):
    repo, shas = code
    git(repo, "checkout", "-q", "main")
    assert cli(tproject, "baseline", "add", "b", "--config", str(repo / "configs" / "b.yaml"),
               "--date", "2026-07-01", "--commit", shas["B"]).exit_code == 0  # fmt: skip
    other = tmp_path / "teammate"  # a teammate's clone, with a commit not pushed yet
    subprocess.run(["git", "clone", "-q", str(repo), str(other)], check=True)
    git(other, "checkout", "-q", shas["C"])
    theirs = commit(other, "late.py", "x\n", "E: on the old branch")
    launch(tproject, "late", theirs)
    first = {f.rule: f for f in check_runs(tproject, ["late"]).findings}
    assert (first["code"].level, first["code"].reason[:5]) == ("ok", "note:")
    git(repo, "fetch", "-q", str(other), theirs)  # now the repository knows E
    again = {f.rule: f for f in check_runs(tproject, ["late"]).findings}
    assert again["code"].level == "warn"
    assert again["code"].reason.startswith("behind b@2026-07-01's code")


def test_no_repository_no_commit_no_rule(project, tmp_path):
    """Without a code repository (the project in no repository, no code_repo) the rule says
    nothing: no finding at all, so nothing changes for a team that does not use it."""
    folder = write_run(project, "r1", changes={"model.prores": True})
    assert cli(project, "add", str(folder), "-q", "Q?", "-b", "b", "--yes").exit_code == 0
    assert [f for f in check_runs(project).findings if f.rule == "code"] == []
