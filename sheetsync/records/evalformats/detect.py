"""Finding a run's eval files by content: every JSON under its eval folders (and its
`evals.json`) is read by the reader whose shape it has, whatever its name; JSON that looks like
eval output in no known shape is reported once, by path."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records.evalformats import lighteval, lm_eval_03, lm_eval_04, native, olmes
from sheetsync.records.evalformats.identity import split_models
from sheetsync.records.evalformats.result import Found, Read, Unused

EVAL_DIRS = ("evals", "eval", "lm_eval", "lm-eval", "lighteval", "olmes", "eval_results")
MAX_BYTES = 64 * 2**20  # the largest results file a harness writes is a few MB
MAX_FILES = 2000
# Top-level keys of JSON that is eval output in a shape no reader knows.
EVAL_WORDS = frozenset(
    {
        "results",
        "metrics",
        "scores",
        "score",
        "accuracy",
        "acc",
        "acc_norm",
        "exact_match",
        "primary_score",
        "tasks",
        "task",
        "evals",
        "eval",
        "benchmark",
        "benchmarks",
    }
)

Reader = Callable[[Any, Path, float], Read]
# Order matters: the most specific shapes first; evals.json only by its name.
SHAPES: tuple[tuple[str, Callable[[Any], bool], Reader], ...] = (
    (lighteval.FORMAT, lighteval.looks_like, lighteval.read),
    (lm_eval_04.FORMAT, lm_eval_04.looks_like, lm_eval_04.read),
    (lm_eval_03.FORMAT, lm_eval_03.looks_like, lm_eval_03.read),
    (olmes.FORMAT, olmes.looks_like_task, olmes.read_task),
    ("olmes summary", olmes.looks_like_summary, olmes.read_summary),
)


def load_json(path: Path) -> Any:
    """A JSON file's data, or a one-line error naming the file (size, encoding, syntax, an
    integer too long or nesting too deep for Python's parser)."""
    from sheetsync.records.files import read_bytes

    raw = read_bytes(path, MAX_BYTES, "an eval results file")  # regular files only: no FIFO
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RunError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RunError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # an integer over 4300 digits; deep nesting
        reason = str(exc).split(";")[0] or type(exc).__name__
        raise RunError(f"{path}: unreadable JSON ({reason})") from None


def eval_files(run_dir: Path) -> tuple[list[Path], int]:
    """The run's `evals.json` and every `*.json` under its eval folders (symlinked folders
    not followed), at most MAX_FILES; and how many more there were."""
    files: list[Path] = []
    if (run_dir / native.NAME).is_file():
        files.append(run_dir / native.NAME)
    for name in EVAL_DIRS:
        folder = run_dir / name
        if not folder.is_dir() or folder.is_symlink():
            continue
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            files += [Path(root) / n for n in sorted(names) if n.endswith(".json")]
    return files[:MAX_FILES], max(0, len(files) - MAX_FILES)


def _file_time(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _date(data: Any, path: Path) -> float:
    """A harness's `date` (a Unix time), else the file's modification time."""
    when = data.get("date") if isinstance(data, dict) else None
    if isinstance(when, int | float) and not isinstance(when, bool):
        try:
            if math.isfinite(float(when)) and when >= 0:
                return float(when)
        except OverflowError:
            pass
    return _file_time(path)


def _looks_like_evals(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    for item in items[:20]:
        if isinstance(item, dict):
            keys = {str(k).casefold() for k in item}
            nested = {str(k).casefold() for v in item.values() if isinstance(v, dict) for k in v}
            if keys & EVAL_WORDS or nested & EVAL_WORDS:
                return True
    return False


def read_file(path: Path, found: Found) -> str | None:
    """Read one file into `found`; returns the format read, or None when it is none."""
    data = load_json(path)
    when = _date(data, path)
    shape = next((s for s in SHAPES if s[1](data)), None)
    if shape is not None:
        fmt, reader = shape[0], shape[2]
    else:
        if path.name != native.NAME:
            if _looks_like_evals(data):
                found.skipped.append(Unused(path, "", "looks like eval output in no known format"))
                found.notices.append(
                    f"{path}: looks like eval output but is in no format sheetsync reads "
                    "(lm-evaluation-harness 0.3/0.4, lighteval, OLMES, evals.json); not read"
                )
            else:
                found.skipped.append(Unused(path, "", "not eval output"))
            return None
        fmt, reader = native.FORMAT, native.read
    read = reader(data, path, when)
    found.results += read.results
    for task, message in read.problems:
        found.fail(task, message, when)
    return fmt


def scan(run_dir: Path) -> Found:
    """Read every eval file of a run; a broken file or task is an error entry, not an abort.
    Results of other models are set aside (`skipped`) with the reason."""
    found = Found()
    files, more = eval_files(run_dir)
    if more:
        found.notices.append(f"{run_dir}: {more} more JSON files under its eval folders not read")
    summaries: list[Path] = []
    for path in files:
        try:
            if read_file(path, found) == "olmes summary":
                summaries.append(path)
        except RunError as exc:
            found.errors.setdefault("*", str(exc))
            found.skipped.append(Unused(path, "", str(exc).removeprefix(f"{path}: ")))
    _drop_summaries(found, summaries)
    mine, others, ambiguous = split_models(found.results, run_dir)
    found.results, found.ambiguous = mine, ambiguous
    found.skipped += others
    for checkpoint, paths in _by_reason(others).items():
        found.notices.append(
            f"{len(paths)} eval file(s) not used, {checkpoint}: {', '.join(map(str, paths[:3]))}"
        )
    return found


def _drop_summaries(found: Found, summaries: list[Path]) -> None:
    """An OLMES summary repeats the per-task files beside it: read each result once."""
    for summary in summaries:
        beside = {
            r.variant or r.task
            for r in found.results
            if r.source.parent == summary.parent and r.source != summary
        }
        kept = []
        for r in found.results:
            if r.source == summary and (r.variant or r.task) in beside:
                found.skipped.append(Unused(r.source, r.task, "also in its per-task file"))
            else:
                kept.append(r)
        found.results = kept


def _by_reason(others: list[Unused]) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for u in others:
        paths = out.setdefault(u.reason, [])
        if u.source not in paths:
            paths.append(u.source)
    return out
