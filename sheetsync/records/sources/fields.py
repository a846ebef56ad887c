"""From a tracker's names to a run folder's fields: the default names each field is looked up
under, and the checks a value must pass (the messages name the tracker's file and key)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records.runlog import count, measure
from sheetsync.vocab import DIVERGED, STATES

# Looked up in the run's metrics (last logged value) first, then in its config (dotted keys).
DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "loss": ("loss", "train/loss", "train_loss"),
    "tokens": (
        "tokens",
        "train/tokens",
        "tokens_seen",
        "num_input_tokens_seen",
        "train/num_input_tokens_seen",
    ),
    "steps_planned": (
        "steps_planned",
        "max_steps",
        "train.max_steps",
        "trainer.max_steps",
        "train_iters",
        "total_steps",
    ),
    "tokens_planned": ("tokens_planned", "max_tokens", "train.max_tokens", "train.tokens_planned"),
    "decay_end_step": ("decay_end_step", "lr_schedule.decay_end_step"),
    "params": ("params", "n_params", "num_params", "model.params"),
    "active_params": ("active_params", "n_active_params"),
    "flops": ("flops", "total_flops", "total_flos", "train/total_flos"),
    "seed": ("seed", "train.seed"),
    "step": (),  # the tracker's own step of the loss
    "state": (),  # the tracker's own run status
}
COUNTS = ("step", "tokens", "steps_planned", "tokens_planned", "decay_end_step")
MEASURES = ("loss", "params", "active_params", "flops")


@dataclass
class Found:
    """What a reader found in one tracker run, in the tracker's own names."""

    origin: str  # the file or URI to name in messages
    config: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)  # name -> last value
    step: int | None = None  # the tracker's step of the last loss value
    state: str | None = None  # running | finished | failed | killed | None (unknown)
    launch: dict[str, Any] = field(default_factory=dict)  # git_commit, launched_at, ...
    heartbeat: float | None = None  # when the tracker last logged (seconds since the epoch)
    damage: str | None = None  # what ended the tracker's log early (`run-x.wandb cut short`)
    broken: bool = False  # the damage is no live writer's: the run is not read as going


@dataclass(frozen=True)
class Native:
    """A run in the native folder's shapes: config.yaml, progress/results/launch.json."""

    config: dict[str, Any]
    progress: dict[str, Any]
    results: dict[str, Any]
    launch: dict[str, Any]


def dotted(config: Mapping[str, Any], key: str) -> Any:
    """`a.b.c` in a nested config (or `a.b.c` as a flat key), else None."""
    if key in config:
        return config[key]
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def nest(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"optim.lr": 1}` -> `{"optim": {"lr": 1}}`; a name that is both a value and a section
    keeps its dotted form."""
    out: dict[str, Any] = {}
    for key in sorted(flat, key=lambda k: k.count(".")):
        *parents, last = key.split(".")
        node = out
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                node = None
                break
            node = child
        if node is None or last in node and isinstance(node[last], dict):
            out[key] = flat[key]
        else:
            node[last] = flat[key]
    return out


def lookup(found: Found, names: tuple[str, ...]) -> tuple[str | None, Any]:
    for name in names:
        value = found.metrics.get(name)
        if value is None:
            value = dotted(found.config, name)
        if value is not None:
            return name, value
    return None, None


def _non_finite(value: Any) -> bool:
    """A NaN or infinite number (numpy and torch scalars too; text such as "NaN" as well)."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, str):
        value = value.strip().lower().lstrip("+-")
        return value in ("nan", "inf", "infinity")
    return isinstance(value, float) and not math.isfinite(value)


def to_native(found: Found, mapping: Mapping[str, tuple[str, ...]]) -> Native:
    """The native records of a tracker run; a bad value is a one-line error naming its key."""
    values: dict[str, Any] = {}
    diverged = False
    for name in (*COUNTS, *MEASURES, "seed", "state"):
        names = mapping.get(name, DEFAULT_NAMES[name])
        key, raw = lookup(found, names)
        if key is None:
            continue
        if name == "loss" and _non_finite(raw):
            diverged = True  # a NaN or infinite loss is how training ended, not a bad file
            continue
        label = f"{found.origin}: {key}" + ("" if key == name else f" (as {name})")
        try:
            if name in COUNTS or name == "seed":
                values[name] = count("value", raw)
            elif name in MEASURES:
                values[name] = measure("value", raw)
            else:
                values[name] = str(raw)
        except RunError as exc:
            raise RunError(f"{label} {str(exc).removeprefix('value ')}") from None
    state = values.get("state", found.state)
    if state is not None and state not in STATES:
        raise RunError(f"{found.origin}: state must be one of {', '.join(STATES)}, not {state!r}")
    if diverged:
        state = DIVERGED
    step = values.get("step", found.step)
    progress = {
        "step": step,
        "steps_planned": values.get("steps_planned"),
        "tokens": values.get("tokens"),
        "tokens_planned": values.get("tokens_planned"),
        "state": state,
    }
    if progress["steps_planned"] == 0:
        raise RunError(f"{found.origin}: steps_planned is 0")
    planned = progress["steps_planned"]
    if step is not None and planned is not None and step > planned:
        raise RunError(f"{found.origin}: step {step} is beyond steps_planned {planned}")
    progress = {k: v for k, v in progress.items() if v is not None}
    if values.get("decay_end_step") is not None:
        progress["lr_schedule"] = {"decay_end_step": values["decay_end_step"]}
    results = {
        "final_loss": values.get("loss"),
        "params": values.get("params"),
        "active_params": values.get("active_params"),
        "flops": values.get("flops"),
    }
    launch = dict(found.launch)
    if values.get("seed") is not None:
        launch["seed"] = values["seed"]
    return Native(
        found.config,
        progress,
        {k: v for k, v in results.items() if v is not None},
        {k: v for k, v in launch.items() if v is not None},
    )
