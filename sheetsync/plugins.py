"""Modules that add result-cell sources (`engine.cell_source`) or demo steps when imported.

Kept as a list so `sheetsync --help` imports none of them; the engine loads them on demand.
"""

from __future__ import annotations

import importlib

PLUGINS: tuple[str, ...] = ("sheetsync.evals", "sheetsync.checks", "sheetsync.fits")


def load_plugins() -> None:
    for name in PLUGINS:
        importlib.import_module(name)
