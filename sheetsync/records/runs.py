"""Run folders: what a trainer writes (config, progress, results, launch facts), read strictly.

The contract (see README, "The run folder"):
  config.yaml | config.json   the resolved config exactly as launched (required)
  progress.json               {"step", "steps_planned", "tokens", "tokens_planned", "state",
                               "loss", "lr_schedule": {"decay_end_step"}}  (optional until it
                               starts; `loss`: the last logged, NaN or infinite when diverged)
  results.json                {"final_loss", "flops", "params", "active_params", "tokens"}
  launch.json                 {"git_commit", "git_dirty", "seed", "launched_by", "launched_at",
                               "slurm_job_id", "slurm_array_job_id", "slurm_array_task_id"}
  evals.json, lm_eval/        eval outputs (see sheetsync.records.evals)
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError, SheetsyncError
from sheetsync.records.configs import find_config, fingerprint, load_mapping, parse_mapping
from sheetsync.records.files import (
    MAX_CONFIG_BYTES,
    MAX_RECORD_BYTES,
    confine,
    confine_in,
    read_text,
)
from sheetsync.records.names import check_run_id, shown
from sheetsync.vocab import DIVERGED, ERROR, STATES

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
    slurm_job_id: str | None = None  # the scheduler's raw job id (SLURM_JOB_ID)
    slurm_array_job_id: int | None = None
    slurm_array_task_id: int | None = None

    @property
    def slurm_job(self) -> str | None:
        """The job as people name it: `4242`, or `4242_7` for an array's task."""
        if self.slurm_array_job_id is not None and self.slurm_array_task_id is not None:
            return f"{self.slurm_array_job_id}_{self.slurm_array_task_id}"
        return self.slurm_job_id


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
    ending: str | None = None  # a status known outside the files (stalled, the scheduler's word)

    @functools.cached_property
    def fingerprint(self) -> str:
        return fingerprint(self.config)

    @property
    def diverged(self) -> bool:
        """Its loss became NaN or infinite (read as state `diverged`): a result, not evidence."""
        return self.progress.state == DIVERGED

    @property
    def finished(self) -> bool:
        """Only a run that reached its planned steps (or tokens) is evidence."""
        state = self.progress.state
        if state in ("killed", "failed", "timeout", DIVERGED):
            return False
        return self.progress.reached_plan

    @property
    def status(self) -> str:
        p = self.progress
        if self.diverged:
            return f"{DIVERGED}{self.where}"
        if self.finished:
            return "finished"
        if self.ending is not None:
            return self.ending
        if self.going:
            return "running" if p.step or p.tokens else "launched"
        why = p.state if p.state in ("killed", "failed", "timeout") else "stopped"
        where = self.where
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

    @property
    def going(self) -> bool:
        """Whether its own files say it is still going: no end state, its plan not reached
        (then it is not finished either)."""
        p = self.progress
        return p.state in (None, "running") and not p.reached_plan

    @property
    def where(self) -> str:
        """How far the run got, as status texts say it: ` at step 3,433/5,722`."""
        p = self.progress
        if p.step is not None and p.steps_planned:
            return f" at step {p.step:,}/{p.steps_planned:,}"
        if p.tokens is not None and p.tokens_planned:
            return f" at {p.tokens:,}/{p.tokens_planned:,} tokens"
        return ""


def error_status(error: SheetsyncError | str, folder: Path | None = None) -> str:
    """The status cell of a run whose files could not be read: `error: <file>: <what>`, the
    file named inside the run folder when it is there (the printed error names it in full)."""
    text = " ".join(str(error).split())
    if folder is not None:
        for name in dict.fromkeys((str(folder), str(Path(folder).resolve()))):
            text = text.removeprefix(f"{name}: ").replace(f"{name}{os.sep}", "")
    return f"{ERROR}: {text}"


def read_run(
    path: Path, within: Sequence[Path] = (), config: tuple[str, dict[str, Any]] | None = None
) -> Run:
    """Read a run folder; every problem is a one-line RunError naming the file and field.

    The folder's name is the run id and must be one. With `within` (the project's folders),
    the folder and every file read in it must lie inside them once symlinks are followed.
    `config`: the config file's name and content when already parsed (a cache that has seen
    the file unchanged); it is still confined like a file read.
    """
    path = Path(path)
    check_run_id(path.name, str(path), RunError)
    try:
        if not path.exists():
            raise RunError(f"{path}: run folder not found", file=path)
        if not path.is_dir():
            raise RunError(f"{path}: not a folder", file=path)
    except OSError as exc:
        raise RunError(f"{path}: cannot read ({exc.strerror})") from None
    real = confine(path, within)
    if config is None:
        config_file = find_config(path)
        confine_in(config_file, real, within)
        data = load_mapping(config_file)
    else:
        config_file = path / config[0]
        confine_in(config_file, real, within)
        data = config[1]
    progress, progress_loss = _progress(path / "progress.json", within, real)
    results, loss = _results(path / "results.json", within, real)
    launch = _launch(path / "launch.json", within, real)
    if progress.tokens is None and results.tokens is not None:
        progress = Progress(**{**progress.__dict__, "tokens": results.tokens})
    if progress.state != DIVERGED and (
        _diverged(path / "progress.json", progress_loss) or _diverged(path / "results.json", loss)
    ):
        progress = Progress(**{**progress.__dict__, "state": DIVERGED})
    if progress.state == DIVERGED and results.final_loss is not None:
        results = Results(**{**results.__dict__, "final_loss": None})  # never shown as a result
    return Run(path.name, path, data, config_file, progress, results, launch)


def _read_json(path: Path, within: Sequence[Path], real: Path) -> dict[str, Any] | None:
    """A record of the run folder (`real`: the folder, resolved and confined), None if absent."""
    if not os.path.lexists(path):
        return None
    confine_in(path, real, within)
    return load_mapping(path, RunError, MAX_RECORD_BYTES, path.name)


def _repr(value: Any) -> str:
    return shown(value) if isinstance(value, str) else shown(repr(value))[1:-1]


MAX_INT = 2**63 - 1  # a count (steps, tokens) beyond this is a corrupt file, not a run


def _number(path: Path, data: Mapping[str, Any], key: str, integer: bool = False) -> Any:
    if key not in data or data[key] is None:
        return None
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RunError(f"{path}: {key} must be a number, not {_repr(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond float range
        raise RunError(f"{path}: {key} is too large ({len(str(value)):,} digits)") from None
    if not math.isfinite(number):
        raise RunError(f"{path}: {key} is {value} (not a finite number)")
    if value < 0:
        raise RunError(f"{path}: {key} is negative ({value})")
    if integer:
        if number != int(number):
            raise RunError(f"{path}: {key} must be a whole number, not {value!r}")
        if value > MAX_INT:
            raise RunError(f"{path}: {key} is too large ({number:.3g}; at most {MAX_INT:.3g})")
        return int(value)
    return number


NON_FINITE = {"nan": math.nan, "inf": math.inf, "infinity": math.inf}  # as text, any case


def _loss(path: Path, data: Mapping[str, Any], key: str) -> float | None:
    """A loss: a non-negative number, or NaN / infinite (JSON's `NaN`, `Infinity`, or text
    `"nan"`, `"inf"`, as strict-JSON writers put it): the run diverged, not a bad file."""
    value = data.get(key)
    if isinstance(value, str):
        number = NON_FINITE.get(value.strip().lower().lstrip("+-"))
        if number is None:
            raise RunError(f"{path}: {key} must be a number, not {_repr(value)}")
        return number
    if isinstance(value, float) and not math.isfinite(value):
        return value
    return _number(path, data, key)


def _diverged(path: Path, loss: float | None) -> bool:
    return loss is not None and not math.isfinite(loss)


def _progress(path: Path, within: Sequence[Path], real: Path) -> tuple[Progress, float | None]:
    """The progress record and the last logged loss (NaN or infinite: diverged)."""
    data = _read_json(path, within, real)
    if data is None:
        return Progress(), None
    state = data.get("state")
    if state is not None and state not in STATES:
        raise RunError(f"{path}: state must be one of {', '.join(STATES)}, not {_repr(state)}")
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
    return p, _loss(path, data, "loss")


def _results(path: Path, within: Sequence[Path], real: Path) -> tuple[Results, float | None]:
    """The results record (a non-finite final loss left out) and the final loss as written."""
    data = _read_json(path, within, real)
    if data is None:
        return Results(), None
    loss = _loss(path, data, "final_loss")
    results = Results(
        final_loss=loss if loss is not None and math.isfinite(loss) else None,
        flops=_number(path, data, "flops"),
        params=_number(path, data, "params"),
        active_params=_number(path, data, "active_params"),
        tokens=_number(path, data, "tokens", True),
    )
    return results, loss


def _launch(path: Path, within: Sequence[Path], real: Path) -> Launch:
    data = _read_json(path, within, real)
    if data is None:
        return Launch()
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise RunError(f"{path}: seed must be an integer, not {_repr(seed)}")
    dirty = data.get("git_dirty")
    if dirty is not None and not isinstance(dirty, bool):
        raise RunError(f"{path}: git_dirty must be true or false, not {_repr(dirty)}")
    text = {k: data.get(k) for k in ("git_commit", "launched_by", "launched_at")}
    for key, value in text.items():
        if value is not None and not isinstance(value, str):
            raise RunError(f"{path}: {key} must be text, not {_repr(value)}")
    return Launch(seed=seed, git_dirty=dirty, **text, **_slurm(path, data))


def _slurm(path: Path, data: Mapping[str, Any]) -> dict[str, Any]:
    """The Slurm job a run ran in: `slurm_job_id` (SLURM_JOB_ID, text or a number) and, for
    an array's task, `slurm_array_job_id` and `slurm_array_task_id`."""
    out: dict[str, Any] = {}
    job = data.get("slurm_job_id")
    if job is not None:
        text = str(job) if isinstance(job, int) and not isinstance(job, bool) else job
        if not (isinstance(text, str) and text.isascii() and text.isdigit()):
            raise RunError(
                f"{path}: slurm_job_id must be the job's number (SLURM_JOB_ID, e.g. 4242), "
                f"not {_repr(job)}"
            )
        out["slurm_job_id"] = text
    for key in ("slurm_array_job_id", "slurm_array_task_id"):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value.isascii() and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RunError(f"{path}: {key} must be a whole number, not {_repr(value)}")
        out[key] = value
    return out


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write a small JSON file the way a trainer would (used by the demo and tests)."""
    path.write_text(json.dumps(data, indent=2) + "\n")


def launch_copy_text(run: Run) -> bytes:
    """The launch copy's content: the config as `add` saw it, canonical JSON."""
    return (json.dumps(run.config, indent=1, sort_keys=True) + "\n").encode()


def launch_copy(run: Run) -> dict[str, Any] | None:
    """The config `add` saw, if it kept a copy and the copy is readable (never a symlink:
    sheetsync writes it itself)."""
    path = run.path / LAUNCH_COPY
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = parse_mapping(read_text(path, RunError, MAX_CONFIG_BYTES), path)
    except RunError:
        return None
    return data


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
