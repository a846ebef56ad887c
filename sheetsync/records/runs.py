"""Run folders: what a trainer writes (config, progress, results, launch facts), read strictly.

The contract (see README, "The run folder"):
  config.yaml | config.json   the resolved config exactly as launched (required)
  progress.json               {"step", "steps_planned", "tokens", "tokens_planned", "state",
                               "lr_schedule": {"decay_end_step"}}  (optional until it starts)
  results.json                {"final_loss", "flops", "params", "active_params", "tokens"}
  launch.json                 {"git_commit", "git_dirty", "seed", "launched_by", "launched_at"}
  evals.json, lm_eval/        eval outputs (see sheetsync.records.evals)
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records.configs import find_config, fingerprint, load_mapping
from sheetsync.vocab import STATES

LAUNCH_COPY = ".sheetsync-launch-config.json"  # the config as `add` saw it, for drift diffs


@dataclass(frozen=True)
class Progress:
    step: int | None = None
    steps_planned: int | None = None
    tokens: int | None = None
    tokens_planned: int | None = None
    state: str | None = None
    decay_end_step: int | None = None

    @property
    def fraction(self) -> float | None:
        """Steps reached over planned (tokens when steps are not recorded)."""
        if self.step is not None and self.steps_planned:
            return self.step / self.steps_planned
        if self.tokens is not None and self.tokens_planned:
            return self.tokens / self.tokens_planned
        return None

    @property
    def reached_plan(self) -> bool:
        if self.step is not None and self.steps_planned is not None:
            done = self.step >= self.steps_planned
        elif self.tokens is not None and self.tokens_planned is not None:
            done = self.tokens >= self.tokens_planned
        else:
            return False
        if done and self.decay_end_step is not None and self.step is not None:
            return self.step >= self.decay_end_step
        return done


@dataclass(frozen=True)
class Results:
    final_loss: float | None = None
    flops: float | None = None
    params: float | None = None
    active_params: float | None = None
    tokens: int | None = None


@dataclass(frozen=True)
class Launch:
    git_commit: str | None = None
    git_dirty: bool | None = None
    seed: int | None = None
    launched_by: str | None = None
    launched_at: str | None = None


@dataclass(frozen=True)
class Run:
    """One run folder, read and validated."""

    run_id: str
    path: Path
    config: Mapping[str, Any]
    config_file: Path
    progress: Progress = field(default_factory=Progress)
    results: Results = field(default_factory=Results)
    launch: Launch = field(default_factory=Launch)

    @functools.cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.config)

    @property
    def finished(self) -> bool:
        """Only a run that reached its planned steps (or tokens) is evidence."""
        state = self.progress.state
        if state in ("killed", "failed", "timeout"):
            return False
        return self.progress.reached_plan

    @property
    def status(self) -> str:
        p = self.progress
        if self.finished:
            return "finished"
        if p.state in (None, "running") and not p.reached_plan:
            return "running" if p.step or p.tokens else "launched"
        why = p.state if p.state in ("killed", "failed", "timeout") else "stopped"
        where = ""
        if p.step is not None and p.steps_planned:
            where = f" at step {p.step:,}/{p.steps_planned:,}"
        elif p.tokens is not None and p.tokens_planned:
            where = f" at {p.tokens:,}/{p.tokens_planned:,} tokens"
        if p.reached_plan is False and p.state == "finished":
            why = "stopped before its plan"
        if (
            p.decay_end_step is not None
            and p.step is not None
            and p.step < p.decay_end_step
            and (p.steps_planned is None or p.step >= p.steps_planned)
        ):
            why = "lr decay incomplete"
        return f"unfinished: {why}{where}"


def read_run(path: Path) -> Run:
    """Read a run folder; every problem is a one-line RunError naming the file and field."""
    if not path.exists():
        raise RunError(f"{path}: run folder not found")
    if not path.is_dir():
        raise RunError(f"{path}: not a folder")
    config_file = find_config(path)
    config = load_mapping(config_file)
    progress = _progress(path / "progress.json")
    results = _results(path / "results.json")
    launch = _launch(path / "launch.json")
    if progress.tokens is None and results.tokens is not None:
        progress = Progress(**{**progress.__dict__, "tokens": results.tokens})
    return Run(path.name, path, config, config_file, progress, results, launch)


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data = load_mapping(path)
    return data


def _number(path: Path, data: Mapping[str, Any], key: str, integer: bool = False) -> Any:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RunError(f"{path}: {key} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise RunError(f"{path}: {key} is {value} (not a finite number)")
    if value < 0:
        raise RunError(f"{path}: {key} is negative ({value})")
    if integer:
        if float(value) != int(value):
            raise RunError(f"{path}: {key} must be a whole number, not {value!r}")
        return int(value)
    return float(value)


def _progress(path: Path) -> Progress:
    data = _read_json(path)
    if data is None:
        return Progress()
    state = data.get("state")
    if state is not None and state not in STATES:
        raise RunError(f"{path}: state must be one of {', '.join(STATES)}, not {state!r}")
    schedule = data.get("lr_schedule") or {}
    if not isinstance(schedule, Mapping):
        raise RunError(f"{path}: lr_schedule must be a mapping")
    p = Progress(
        step=_number(path, data, "step", True),
        steps_planned=_number(path, data, "steps_planned", True),
        tokens=_number(path, data, "tokens", True),
        tokens_planned=_number(path, data, "tokens_planned", True),
        state=state,
        decay_end_step=_number(path, schedule, "decay_end_step", True),
    )
    if p.step is not None and p.steps_planned is not None and p.step > p.steps_planned:
        raise RunError(f"{path}: step {p.step} is beyond steps_planned {p.steps_planned}")
    if p.steps_planned == 0:
        raise RunError(f"{path}: steps_planned is 0")
    return p


def _results(path: Path) -> Results:
    data = _read_json(path)
    if data is None:
        return Results()
    loss = data.get("final_loss")
    if isinstance(loss, str):
        raise RunError(f"{path}: final_loss must be a number, not {loss!r}")
    return Results(
        final_loss=_number(path, data, "final_loss"),
        flops=_number(path, data, "flops"),
        params=_number(path, data, "params"),
        active_params=_number(path, data, "active_params"),
        tokens=_number(path, data, "tokens", True),
    )


def _launch(path: Path) -> Launch:
    data = _read_json(path)
    if data is None:
        return Launch()
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RunError(f"{path}: seed must be an integer, not {seed!r}")
    dirty = data.get("git_dirty")
    if dirty is not None and not isinstance(dirty, bool):
        raise RunError(f"{path}: git_dirty must be true or false, not {dirty!r}")
    text = {k: data.get(k) for k in ("git_commit", "launched_by", "launched_at")}
    for key, value in text.items():
        if value is not None and not isinstance(value, str):
            raise RunError(f"{path}: {key} must be text, not {value!r}")
    return Launch(seed=seed, git_dirty=dirty, **text)


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write a small JSON file the way a trainer would (used by the demo and tests)."""
    path.write_text(json.dumps(data, indent=2) + "\n")


def save_launch_copy(run: Run) -> None:
    """Keep the config as launched beside it, so a later drift can be shown key by key."""
    tmp = run.path / f"{LAUNCH_COPY}.tmp"
    tmp.write_text(json.dumps(run.config, indent=1, sort_keys=True, default=str) + "\n")
    tmp.replace(run.path / LAUNCH_COPY)


def launch_copy(run: Run) -> dict[str, Any] | None:
    """The config `add` saw, if it kept a copy and the copy is readable."""
    path = run.path / LAUNCH_COPY
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def same_size(a: Run, b: Run) -> bool:
    """Two runs of one model size: reported (active) parameters within 5%, else same shape."""
    na = a.results.active_params or a.results.params
    nb = b.results.active_params or b.results.params
    if na and nb:
        return abs(na - nb) <= 0.05 * max(na, nb)
    model_a, model_b = a.config.get("model", {}), b.config.get("model", {})
    if not isinstance(model_a, Mapping) or not isinstance(model_b, Mapping):
        return False
    keys = ("d_model", "n_layers", "n_experts")
    return all(model_a.get(k) == model_b.get(k) for k in keys)
