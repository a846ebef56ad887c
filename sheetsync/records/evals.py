"""Reading a run's eval outputs. The formats (lm-evaluation-harness 0.3 and 0.4, lighteval,
OLMES, the native `evals.json`) are read by `sheetsync.records.evalformats`, which finds files by
content; a `Measurement` is one task's result from one file with its shots, limit and model.
"""

from __future__ import annotations

from pathlib import Path

from sheetsync.records.evalformats.detect import EVAL_DIRS, scan
from sheetsync.records.evalformats.native import NAME as NATIVE
from sheetsync.records.evalformats.result import Found as RawEvals
from sheetsync.records.evalformats.result import Result as Measurement

__all__ = ["EVAL_DIRS", "NATIVE", "Measurement", "RawEvals", "read_raw"]


def read_raw(run_dir: Path) -> RawEvals:
    """Read every eval file of a run; a broken file or task is an error entry, not an abort."""
    return scan(run_dir)
