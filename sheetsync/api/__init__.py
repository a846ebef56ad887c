"""The public Python API: everything the CLI does, for notebooks and scripts.

    import sheetsync
    exp = sheetsync.open()            # the project here (or at a path)
    exp.sync(dry_run=True)

Each name is loaded from its module on first use, here and at the package root, so that
`import sheetsync` stays light. `NAMES` is the one list of them.
"""

from __future__ import annotations

import importlib
from typing import Any

_RESULTS = (
    "AddPreview", "Added", "BaselineDiff", "Checked", "Demo", "Evals", "Fitted", "Formatted",
    "Gained", "Initialized", "Listed", "Reported", "Scaling", "Synced", "Verified",
)  # fmt: skip
_TOOLS = ("demo", "fit_ladder_csv", "gain", "identity", "login")

NAMES: dict[str, str] = {  # each public name -> the module of sheetsync.api defining it
    "Experiments": "experiments",
    "init": "experiments",
    "open": "experiments",
    **dict.fromkeys(_RESULTS, "results"),
    **dict.fromkeys(_TOOLS, "tools"),
}

__all__ = sorted(NAMES)


def __getattr__(name: str) -> Any:
    if name in NAMES:
        return getattr(importlib.import_module(f"sheetsync.api.{NAMES[name]}"), name)
    raise AttributeError(f"module 'sheetsync.api' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
