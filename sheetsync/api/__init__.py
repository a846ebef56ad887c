"""The public Python API: everything the CLI does, for notebooks and scripts.

    import sheetsync
    exp = sheetsync.open()            # the project here (or at a path)
    exp.sync(dry_run=True)

Names are exported lazily from the package root (`import sheetsync` stays light).
"""

from __future__ import annotations

from sheetsync.api.experiments import Experiments, init, open
from sheetsync.api.results import (
    Added,
    AddPreview,
    BaselineDiff,
    Checked,
    Demo,
    Evals,
    Fitted,
    Formatted,
    Gained,
    Initialized,
    Listed,
    Reported,
    Scaling,
    Synced,
    Verified,
)
from sheetsync.api.tools import demo, fit_ladder_csv, gain, identity, login

__all__ = [
    "AddPreview",
    "Added",
    "BaselineDiff",
    "Checked",
    "Demo",
    "Evals",
    "Experiments",
    "Fitted",
    "Formatted",
    "Gained",
    "Initialized",
    "Listed",
    "Reported",
    "Scaling",
    "Synced",
    "Verified",
    "demo",
    "fit_ladder_csv",
    "gain",
    "identity",
    "init",
    "login",
    "open",
]
