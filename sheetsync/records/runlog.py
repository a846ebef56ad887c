"""The writer for training scripts: a run folder in sheetsync's format, written as the run goes.

Every file is replaced atomically (a temporary file, then a rename), so a reader never sees half
a file. Used as a context manager it records `failed` when the block raises and `killed` on
SIGTERM or SIGINT, so a run that stopped is never mistaken for one still going or finished.
A NaN or infinite loss given to `progress` or `finish` records `diverged`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import signal
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records import atomic

KILLING_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step: readers see the old file or the new, never half
    (fsynced: a run's records outlive a crash of its node)."""
    atomic.write_atomic(path, text, durable=True)


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    write_atomic(path, json.dumps(dict(data), indent=2, allow_nan=False) + "\n")


def write_yaml_atomic(path: Path, data: Mapping[str, Any]) -> None:
    import yaml

    write_atomic(path, yaml.safe_dump(plain(data), sort_keys=False, allow_unicode=True))


def plain(value: Any) -> Any:
    """A config as YAML can hold it: mappings, lists, numbers, text (numpy scalars unwrapped)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif hasattr(value, "__dict__") and type(value).__name__ == "Namespace":  # argparse
        value = vars(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        try:
            return plain(value.item())
        except (TypeError, ValueError):
            pass
    return str(value)


def count(name: str, value: Any) -> int | None:
    """A step or token count: a whole, non-negative number."""
    if value is None:
        return None
    number = measure(name, value)
    if number is None or number != int(number):
        raise RunError(f"{name} must be a whole number, not {value!r}")
    return int(number)


def loss_value(name: str, value: Any) -> float | str | None:
    """A loss as a record holds it: a finite non-negative number, or `"nan"` / `"inf"` as text
    (strict JSON has no NaN) when training diverged."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf"
    return measure(name, value)


def measure(name: str, value: Any) -> float | None:
    """A loss, parameter count or FLOPs: a finite, non-negative number."""
    if value is None:
        return None
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RunError(f"{name} must be a number, not {value!r}")
    if not math.isfinite(value):
        raise RunError(f"{name} is {value} (not a finite number)")
    if value < 0:
        raise RunError(f"{name} is negative ({value})")
    return float(value)


def slurm_job(env: Mapping[str, str]) -> dict[str, Any]:
    """The Slurm job this process runs in, as launch.json records it: `slurm_job_id` (the raw
    SLURM_JOB_ID, which sacct knows the job by) and, for an array's task, its array job and
    task ids. {} outside Slurm."""
    job = env.get("SLURM_JOB_ID", "").strip()
    if not job.isdigit():
        return {}
    found: dict[str, Any] = {"slurm_job_id": job}
    array, task = env.get("SLURM_ARRAY_JOB_ID", ""), env.get("SLURM_ARRAY_TASK_ID", "")
    if array.strip().isdigit() and task.strip().isdigit():
        found["slurm_array_job_id"] = int(array)
        found["slurm_array_task_id"] = int(task)
    return found


class RunLog:
    """Write one run's folder from a training script; see README, "Where your runs come from".

    `progress` writes at most every `min_interval` seconds (the newest values are always kept
    and written at the end). Create it on one process only (rank 0) in distributed training.
    Under Slurm, `config` records the job (for `sync`'s sacct lookup); reopened on a run's
    folder after a restart, it carries on that run (its plan, how far it got).
    """

    def __init__(
        self,
        run_dir: str | os.PathLike[str],
        *,
        steps_planned: int | None = None,
        tokens_planned: int | None = None,
        min_interval: float = 5.0,
    ) -> None:
        self.path = Path(run_dir)
        self.path.mkdir(parents=True, exist_ok=True)
        self.min_interval = min_interval
        self._progress: dict[str, Any] = {
            "step": None,
            "steps_planned": count("steps_planned", steps_planned),
            "tokens": None,
            "tokens_planned": count("tokens_planned", tokens_planned),
            "state": "running",
        }
        self._resume(self.path / "progress.json")
        self._written_at = -math.inf
        self._ended = False
        self._lock = threading.RLock()
        self._previous: dict[int, Any] = {}

    def _resume(self, path: Path) -> None:
        """Reopened on a run's folder (restarted from its checkpoint): keep what the earlier
        process recorded (plan, how far it got) unless given anew; the run is `running` again."""
        try:
            before = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if not isinstance(before, dict):
            return
        schedule = before.get("lr_schedule")
        if isinstance(schedule, dict) and "decay_end_step" in schedule:
            before["decay_end_step"] = schedule["decay_end_step"]
        for key in ("step", "steps_planned", "tokens", "tokens_planned", "decay_end_step"):
            if self._progress.get(key) is None and before.get(key) is not None:
                try:
                    self._progress[key] = count(key, before[key])
                except RunError:
                    continue

    @property
    def state(self) -> str:
        return str(self._progress["state"])

    def config(
        self,
        values: Mapping[str, Any] | Any,
        *,
        seed: int | None = None,
        git_commit: str | None = None,
    ) -> None:
        """Write the resolved config as launched, and the launch facts (git commit, seed, who,
        when); the commit is read from the current folder's git repository unless given."""
        from sheetsync.records.git import git_commit as head_of
        from sheetsync.records.git import who

        config = plain(values)
        if not isinstance(config, dict):
            raise RunError(f"config must be a mapping, not {type(values).__name__}")
        write_yaml_atomic(self.path / "config.yaml", config)
        commit = git_commit if git_commit is not None else head_of(Path.cwd())
        if seed is None:
            train = config.get("train")
            found = config.get("seed", train.get("seed") if isinstance(train, dict) else None)
            seed = found if isinstance(found, int) and not isinstance(found, bool) else None
        launch: dict[str, Any] = {
            "git_commit": commit.removesuffix("-dirty") if commit else None,
            "git_dirty": commit.endswith("-dirty") if commit else None,
            "seed": seed,
            "launched_by": who(),
            "launched_at": self._launched_at(),
            **slurm_job(os.environ),
        }
        facts = {k: v for k, v in launch.items() if v is not None}
        write_json_atomic(self.path / "launch.json", facts)
        self._write_progress(force=True)

    def _launched_at(self) -> str:
        """When the run was first launched: a resumed run keeps its first launch time."""
        try:
            before = json.loads((self.path / "launch.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            before = None
        first = before.get("launched_at") if isinstance(before, dict) else None
        return first if isinstance(first, str) else dt.datetime.now().isoformat("T", "seconds")

    def progress(
        self,
        step: int | None = None,
        tokens: int | None = None,
        *,
        steps_planned: int | None = None,
        tokens_planned: int | None = None,
        decay_end_step: int | None = None,
        loss: float | None = None,
    ) -> None:
        """Record how far the run is (and its loss, if given); cheap to call every step. A NaN
        or infinite loss records the run as `diverged`; later calls change nothing."""
        with self._lock:
            if self._ended and self.state == "diverged":
                return  # the trainer may go on stepping; the record stays as it diverged
            if self._ended:
                raise RunError(f"{self.path}: run already ended ({self.state})")
            given = {
                "step": step,
                "tokens": tokens,
                "steps_planned": steps_planned,
                "tokens_planned": tokens_planned,
                "decay_end_step": decay_end_step,
            }
            for key, value in given.items():
                if value is not None:
                    self._progress[key] = count(key, value)
            planned, reached = self._progress["steps_planned"], self._progress["step"]
            if planned is not None and reached is not None and reached > planned:
                raise RunError(f"step {reached} is beyond steps_planned {planned}")
            if loss is not None:
                self._progress["loss"] = loss_value("loss", loss)
                if isinstance(self._progress["loss"], str):
                    self._end("diverged")
                    return
            self._write_progress()

    def finish(
        self,
        final_loss: float,
        *,
        params: float | None = None,
        active_params: float | None = None,
        flops: float | None = None,
        tokens: int | None = None,
    ) -> None:
        """Record the result, then the `finished` state (so no reader sees one without the other);
        a NaN or infinite `final_loss` (or an earlier one given to `progress`) records `diverged`.

        Whether the run counts as finished is still decided by its planned steps or tokens.
        """
        results = {
            "final_loss": loss_value("final_loss", final_loss),
            "params": measure("params", params),
            "active_params": measure("active_params", active_params),
            "flops": measure("flops", flops),
            "tokens": count("tokens", tokens),
        }
        with self._lock:
            if tokens is not None and self._progress["tokens"] is None:
                self._progress["tokens"] = results["tokens"]
            write_json_atomic(
                self.path / "results.json", {k: v for k, v in results.items() if v is not None}
            )
            diverged = isinstance(results["final_loss"], str) or self.state == "diverged"
            self._end("diverged" if diverged else "finished")

    def stop(self, state: str = "failed") -> None:
        """Record that the run ended without a result: `failed`, `killed` or `timeout`."""
        if state not in ("failed", "killed", "timeout"):
            raise RunError(f"stop state must be failed, killed or timeout, not {state!r}")
        with self._lock:
            if not self._ended:
                self._end(state)

    def _end(self, state: str) -> None:
        self._progress["state"] = state
        self._ended = True
        self._write_progress(force=True)

    def _write_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._written_at < self.min_interval:
            return
        data = {k: v for k, v in self._progress.items() if v is not None}
        decay = data.pop("decay_end_step", None)
        if decay is not None:
            data["lr_schedule"] = {"decay_end_step": decay}
        write_json_atomic(self.path / "progress.json", data)
        self._written_at = now
        if self._progress["state"] != data["state"]:  # a signal ended the run mid-write
            self._write_progress(force=True)

    # --- as a context manager: failed on an exception, killed on SIGTERM / SIGINT ----------

    def __enter__(self) -> RunLog:
        if threading.current_thread() is threading.main_thread():
            for sig in KILLING_SIGNALS:
                previous = signal.getsignal(sig)
                if previous is signal.SIG_IGN:
                    continue
                self._previous[sig] = previous
                signal.signal(sig, self._on_signal)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()
        if kind is None:
            self.stop("failed")  # the block ended without finish(): no result to show
        elif issubclass(kind, KeyboardInterrupt | SystemExit):
            self.stop("killed")
        else:
            self.stop("failed")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop("killed")
        previous = self._previous.get(signum, signal.SIG_DFL)
        if callable(previous):
            previous(signum, frame)  # e.g. Python's SIGINT handler raises KeyboardInterrupt
            return
        # The default action: restore it and let the signal end the process as it would have.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
