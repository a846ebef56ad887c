"""Eval result fixtures (tests/data/evals/, written by hand in each harness's shape) placed
into run folders as the harnesses write them, optionally edited."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "evals"
LM04 = "lm_eval_04/results_2024-06-01T10-00-00.123456.json"
LM04_5SHOT = "lm_eval_04_mmlu_5shot/results_2024-06-02T10-00-00.654321.json"
LM04_LIMIT = "lm_eval_04_limit/smoke_2024-06-03T10-00-00.000001.json"
LM04_GSM8K = "lm_eval_04_gsm8k/results_2024-06-04T10-00-00.000000.json"
LM03 = "lm_eval_03/results.json"
LIGHTEVAL = "lighteval/results/prores-600m/results_2024-05-10T08-15-30.123456.json"
LIGHTEVAL_NEW = "lighteval_new/results/prores-600m/results_2025-10-05T14-34-11.098252.json"


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def place(
    run_dir: Path,
    name: str,
    dest: str,
    edit: Callable[[Any], None] | None = None,
    mtime: float | None = None,
) -> Path:
    """Copy fixture `name` to `run_dir/dest`, after `edit(data)` changes it in place."""
    data = fixture(name)
    if edit is not None:
        edit(data)
    path = run_dir / dest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path
