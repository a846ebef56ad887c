"""Git facts of the person and the code: who launches, and the commit a run was launched from."""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path


def _git(*args: str) -> str | None:
    """A git command's output, or None when git is missing, fails or hangs."""
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def who() -> str:
    """The person adding a run: git's user.name, else the login name."""
    name = _git("config", "user.name")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def git_commit(folder: Path) -> str | None:
    """HEAD of the git repository containing `folder` (marked -dirty if the tree is not clean)."""
    head = _git("-C", str(folder), "rev-parse", "--short=12", "HEAD")
    if not head:
        return None
    status = _git("-C", str(folder), "status", "--porcelain", "--untracked-files=no")
    return head + ("-dirty" if status else "")


def _git_status(*args: str) -> tuple[int, str] | None:
    """A git command's exit code and output, or None when git is missing or hangs."""
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.returncode, done.stdout.strip()


def repo_root(folder: Path) -> Path | None:
    """The top folder of the git repository containing `folder`, if any."""
    top = _git("-C", str(folder), "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def head(folder: Path) -> tuple[str, bool] | None:
    """The full HEAD commit of the repository containing `folder` and whether its tracked
    files have uncommitted changes; None outside a repository (or one without commits)."""
    sha = _git("-C", str(folder), "rev-parse", "--verify", "-q", "HEAD")
    if not sha:
        return None
    status = _git("-C", str(folder), "status", "--porcelain", "--untracked-files=no")
    return sha, bool(status)


def resolve_commit(repo: Path, ref: str) -> str | None:
    """The full commit `ref` names in `repo` (a sha, a short sha, a branch), or None."""
    if ref.startswith("-"):
        return None
    return _git("-C", str(repo), "rev-parse", "--verify", "-q", f"{ref}^{{commit}}") or None


def contains(repo: Path, commit: str, ancestor: str) -> bool | None:
    """Whether `commit` has `ancestor` in its history (`git merge-base --is-ancestor`);
    None when the repository does not know one of them (or git cannot say)."""
    if commit.startswith("-") or ancestor.startswith("-"):
        return None
    found = [resolve_commit(repo, c) for c in (ancestor, commit)]
    if None in found:
        return None
    done = _git_status("-C", str(repo), "merge-base", "--is-ancestor", *found)  # type: ignore[arg-type]
    if done is None or done[0] not in (0, 1):
        return None
    return done[0] == 0
