"""How far into training a checkpoint is, as its name says: a step (`step_1000`, `step-10000`,
`global_step5000`, `iter_0001000`, `revision=step143000`) or a token count (`tokens-50B`,
`100b_tokens`). Evaluations of one model's checkpoints are ordered by it: a backfill (an old
checkpoint evaluated last) must not put an old checkpoint's scores in the run's row."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

_STEP = re.compile(
    r"(?i)(?<![a-z])(?:global_step|step|steps|iter|iteration|ckpt|checkpoint)[-_]?(\d+)([km]?)"
    r"(?![a-z0-9])"
)
_TOKENS_AFTER = re.compile(r"(?i)(?<![a-z0-9.])(\d+(?:\.\d+)?)([kmbt]?)[-_]?tok(?:en)?s?(?![a-z])")
_TOKENS_BEFORE = re.compile(r"(?i)(?<![a-z])tok(?:en)?s?[-_=]?(\d+(?:\.\d+)?)([kmbt]?)(?![a-z0-9])")
_SCALE = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def training_progress(checkpoint: str) -> tuple[str, float] | None:
    """("step", n) or ("tokens", n) from the checkpoint's name (its last mention), or None
    when the name says nothing of it."""
    for kind, patterns in (("step", (_STEP,)), ("tokens", (_TOKENS_AFTER, _TOKENS_BEFORE))):
        found = [m for p in patterns for m in p.finditer(checkpoint)]
        if found:
            last = max(found, key=lambda m: m.start())
            return kind, float(last.group(1)) * _SCALE[last.group(2).casefold()]
    return None


def latest(items: Sequence[T], checkpoint: Callable[[T], str], when: Callable[[T], float]) -> T:
    """The item of the furthest-trained checkpoint: by training progress when every
    checkpoint states it in one unit (the evaluation date breaking ties), else by evaluation
    date (checkpoints that say nothing are ordered only by it)."""
    said = [training_progress(checkpoint(i)) for i in items]
    kinds = {s[0] for s in said if s is not None}
    if all(s is not None for s in said) and len(kinds) == 1:
        ranked = zip(said, items, strict=True)
        return max(ranked, key=lambda pair: (pair[0][1], when(pair[1])))[1]  # type: ignore[index]
    return max(items, key=when)
