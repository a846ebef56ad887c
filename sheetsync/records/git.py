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
