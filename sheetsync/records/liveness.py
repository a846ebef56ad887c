"""Signs of life: when a run that is not finished last wrote something, and whether it has
gone quiet for longer than the project's `stalled_after` (a process killed without a word, a
lost node, an OOM kill: nothing writes a final state, so the files alone say `running`).

A native run's sign of life is the newest modification time of its progress and result
files; a tracker's run, the newest time the tracker logged (kept with its folder as
`heartbeat` in the source manifest), with what was wrong with its log (`damage`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.errors import ConfigError
from sheetsync.records.runs import Run
from sheetsync.records.sources.home import MANIFEST

STALLED_AFTER = 2 * 3600.0  # seconds: the default `stalled_after: 2h`
SIGN_FILES = ("progress.json", "results.json")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*")


def parse_duration(value: Any, where: str) -> float:
    """`30m`, `2h`, `6h`, `1d` (or `90s`) as seconds; anything else is one line naming `where`."""
    found = _DURATION.fullmatch(value) if isinstance(value, str) else None
    seconds = float(found[1]) * UNITS[found[2]] if found else math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(
            f"{where} must be a duration such as 30m, 2h or 6h (s, m, h or d), not {value!r}"
        )
    return seconds


@dataclass(frozen=True)
class Sign:
    """A run's newest sign of life (seconds since the epoch) and what is wrong with its
    tracker log, if anything (`run-x.wandb cut short`)."""

    at: float | None
    damage: str | None = None
    broken: bool = False  # the damage is no live writer's (a W&B log cut or corrupt)


def sign_of_life(run: Run) -> Sign:
    """When the run last wrote: its tracker's heartbeat, else its newest progress/result file."""
    manifest = _manifest(run.path)
    if manifest is not None:
        beat = manifest.get("heartbeat")
        damage = manifest.get("damage")
        damage = damage if isinstance(damage, str) and damage else None
        broken = manifest.get("broken") is True and damage is not None
        if isinstance(beat, int | float) and not isinstance(beat, bool) and math.isfinite(beat):
            return Sign(float(beat), damage, broken)
        if damage is not None:
            return Sign(_newest_mtime(run.path), damage, broken)
    return Sign(_newest_mtime(run.path))


def _manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _newest_mtime(folder: Path) -> float | None:
    times = []
    for name in SIGN_FILES:
        try:
            times.append(os.stat(folder / name).st_mtime)
        except OSError:
            continue
    return max(times) if times else None


def when(seconds: float) -> str:
    """A sign of life as a status says it: `2026-12-05 14:02 UTC`."""
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def how_far(run: Run) -> str:
    """`step 3,433/5,722` (or `1,000/2,000 tokens`), or "" when the run said neither."""
    return run.where.strip().removeprefix("at ")


def stalled(run: Run, sign: Sign, now: float, after: float) -> str | None:
    """`stalled: no progress since 2026-12-05 14:02 UTC (step 3,433/5,722)` for a run that
    says it is going but has not written for longer than `after` seconds; else None. A log
    broken as no live writer leaves it is not read as going, however new: `unfinished:
    run-x.wandb cut short at step 40/100`."""
    if not run.going:
        return None
    if sign.broken:
        return f"unfinished: {sign.damage}{run.where}"
    if sign.at is None or now - sign.at <= after:
        return None
    details = [d for d in (how_far(run), sign.damage) if d]
    tail = f" ({'; '.join(details)})" if details else ""
    return f"stalled: no progress since {when(sign.at)}{tail}"
