"""Reading a run's eval outputs: a native `evals.json`, and lm-evaluation-harness results files.

Native `evals.json` (values are fractions in [0, 1]):
    {"hellaswag": {"acc_norm": 0.61, "acc_norm_stderr": 0.004},
     "gsm8k": {"exact_match": {"samples": [0.31, 0.29, 0.33]}}}
A metric is a number, or `{"samples": [...]}` (alias `repeats`) for a generative eval
repeated over seeds; `<metric>_stderr` is optional.

lm-evaluation-harness: every `results*.json` under `lm_eval/` or `evals/` in the run folder,
as the harness writes it (`results` keyed by task with `metric,filter` keys such as
`acc_norm,none` and `acc_norm_stderr,none`; `groups` for group tasks such as MMLU; `config`
with `model_args`; `date` as a Unix time). Files whose `config.model_args` match are repeats
of one checkpoint; per task the newest checkpoint wins (by `date`, else file mtime), and
within it a generative task's repeats are averaged while a likelihood task takes the newest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError

NATIVE = "evals.json"
HARNESS_DIRS = ("lm_eval", "evals")


@dataclass(frozen=True)
class Measurement:
    """One task's metrics from one file: metric -> value (or samples), and stderrs."""

    task: str
    values: Mapping[str, float | tuple[float, ...]]
    stderrs: Mapping[str, float]
    source: Path
    when: float = 0.0
    checkpoint: str = ""


@dataclass
class RawEvals:
    """Everything read from a run folder, before picking metrics."""

    native: dict[str, Measurement] = field(default_factory=dict)
    harness: list[Measurement] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # task (or "*") -> one-line message
    error_when: dict[str, float] = field(default_factory=dict)  # task -> newest failing file

    def fail(self, task: str, message: str, when: float) -> None:
        """Keep the newest file's error per task, so it can outrank an older good value."""
        if task not in self.errors or when >= self.error_when.get(task, -math.inf):
            self.errors[task] = message
            self.error_when[task] = when


def _finite(path: Path, task: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RunError(f"{path}: task {task!r}: {key} must be a number, not {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range, e.g. 10**400
        number = math.inf
    if not math.isfinite(number):
        raise RunError(f"{path}: task {task!r}: {key} is {number} (not a finite number)")
    return number


def _load_json(path: Path) -> Any:
    from sheetsync.records.configs import read_text

    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # an integer over 4300 digits; deep nesting
        reason = str(exc).split(";")[0] or type(exc).__name__
        raise RunError(f"{path}: unreadable JSON ({reason})") from None


def read_native(path: Path, raw: RawEvals) -> None:
    data = _load_json(path)
    if not isinstance(data, dict):
        raise RunError(f"{path}: expected a mapping of task -> metrics")
    for task, metrics in data.items():
        try:
            if not isinstance(metrics, dict) or not metrics:
                raise RunError(f"{path}: task {task!r}: expected a mapping of metric -> value")
            values: dict[str, float | tuple[float, ...]] = {}
            stderrs: dict[str, float] = {}
            for key, value in metrics.items():
                if key.endswith("_stderr"):
                    stderrs[key[: -len("_stderr")]] = _finite(path, task, key, value)
                elif isinstance(value, dict):
                    samples = value.get("samples", value.get("repeats"))
                    if not isinstance(samples, list) or not samples:
                        raise RunError(
                            f"{path}: task {task!r}: {key} must be a number or "
                            '{"samples": [...]} with at least one value'
                        )
                    values[key] = tuple(_finite(path, task, key, s) for s in samples)
                else:
                    values[key] = _finite(path, task, key, value)
            raw.native[task] = Measurement(task, values, stderrs, path, path.stat().st_mtime)
        except RunError as exc:
            raw.fail(task, str(exc), path.stat().st_mtime)


def _is_time(value: float) -> bool:
    """A usable Unix time (the harness writes `date` as one); anything else falls back to mtime."""
    try:
        return math.isfinite(float(value)) and value >= 0
    except OverflowError:
        return False


def harness_files(run_dir: Path) -> list[Path]:
    files: list[Path] = []
    for name in HARNESS_DIRS:
        folder = run_dir / name
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("results*.json") if p.is_file())
    return files


def read_harness(path: Path, raw: RawEvals) -> None:
    data = _load_json(path)
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise RunError(f"{path}: no 'results' mapping: not an lm-evaluation-harness results file")
    tasks = dict(results)
    groups = data.get("groups")
    if isinstance(groups, dict):
        for name, metrics in groups.items():
            tasks.setdefault(name, metrics)
    when = data.get("date")
    if isinstance(when, bool) or not isinstance(when, int | float) or not _is_time(when):
        when = path.stat().st_mtime
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    checkpoint = str(config.get("model_args") or config.get("pretrained") or "")
    for task, metrics in tasks.items():
        if not isinstance(metrics, dict):
            raw.fail(task, f"{path}: task {task!r}: expected a mapping of metrics", float(when))
            continue
        values: dict[str, float | tuple[float, ...]] = {}
        stderrs: dict[str, float] = {}
        try:
            for key, value in metrics.items():
                if "," not in key or value in ("N/A", None):
                    continue  # alias, name, sample_len, ... and stderrs the harness left out
                metric, filt = key.split(",", 1)
                name = f"{metric},{filt}"
                if metric.endswith("_stderr"):
                    stderrs[f"{metric[: -len('_stderr')]},{filt}"] = _finite(path, task, key, value)
                elif not isinstance(value, dict | list):
                    values[name] = _finite(path, task, key, value)
        except RunError as exc:
            raw.fail(task, str(exc), float(when))
            continue
        raw.harness.append(Measurement(task, values, stderrs, path, float(when), checkpoint))


def read_raw(run_dir: Path) -> RawEvals:
    """Read every eval file of a run; a broken file or task is an error entry, not an abort."""
    raw = RawEvals()
    native = run_dir / NATIVE
    if native.exists():
        try:
            read_native(native, raw)
        except RunError as exc:
            raw.errors["*"] = str(exc)
    for path in harness_files(run_dir):
        try:
            read_harness(path, raw)
        except RunError as exc:
            raw.errors.setdefault("*", str(exc))
    return raw
