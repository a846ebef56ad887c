"""The sheet read back for people and notebooks: rows as records, filters, a typed DataFrame."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import UsageError
from sheetsync.records.files import output_path, write_file
from sheetsync.sheet.read import SheetRows, read_rows
from sheetsync.vocab import Value

if TYPE_CHECKING:
    import pandas as pd


NUMERIC = ("int", "number", "loss", "flops", "fraction", "score", "gain")


def _date(value: Value) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def select(
    records: Sequence[dict[str, Value]],
    since: dt.date | None = None,
    baseline: str | None = None,
    status: str | None = None,
    question: str | None = None,
) -> list[dict[str, Value]]:
    """Runs launched on or after `since`, on a baseline (NAME or NAME@DATE), whose status
    starts with `status`, whose question contains `question` (any case)."""
    out = []
    for r in records:
        if since is not None:
            launched = _date(r.get("launched"))
            if launched is None or launched < since:
                continue
        if baseline is not None:
            name, _, date = baseline.partition("@")
            if str(r.get("baseline") or "") != name:
                continue
            if date and str(r.get("baseline_date") or "") != date:
                continue
        if status is not None and not str(r.get("status") or "").startswith(status):
            continue
        if (
            question is not None
            and question.casefold() not in str(r.get("question") or "").casefold()
        ):
            continue
        out.append(r)
    return out


def frame(rows: SheetRows, records: Sequence[dict[str, Value]] | None = None) -> pd.DataFrame:
    """Records as a DataFrame typed by the layout: dates as datetimes, numbers as numbers
    (text such as `unfinished` in a number column becomes NA; the status column keeps why)."""
    import pandas as pd

    records = rows.records if records is None else records
    columns = [c for c in rows.layout.runs.columns]
    data: dict[str, Any] = {}
    for col in columns:
        values = [r.get(col.key) for r in records]
        if col.type in NUMERIC:
            series = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
            data[col.key] = series.astype("Int64") if col.type == "int" else series.astype(float)
        elif col.type in ("date", "datetime"):
            data[col.key] = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce")
        else:
            data[col.key] = pd.Series(
                [None if v is None else str(v) for v in values], dtype="string"
            )
    for name in rows.extra_columns:
        data[name] = pd.Series([r.get(name) for r in records], dtype=object)
    return pd.DataFrame(data)


def load_runs(config: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The Runs tab as a typed DataFrame, for notebooks: `sheetsync.load_runs()`."""
    from sheetsync.project import open_project

    return frame(read_rows(open_project(config)))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def inert(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a
    leading `'`, as OWASP advises against CSV injection; plain numbers and non-text pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _inert_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for name in out.columns:
        if out[name].dtype == object or str(out[name].dtype) == "string":
            out[name] = out[name].map(inert, na_action="ignore")
    return out


def export(df: pd.DataFrame, fmt: str, out: Path | None) -> str | None:
    """Write (or return, without `out`) the runs as csv, json or parquet. In CSV and JSON,
    text that a spreadsheet would run as a formula is made inert (see `inert`)."""
    if out is not None:
        output_path(Path(out))
    if fmt == "csv":
        text = _inert_frame(df).to_csv(index=False, date_format="%Y-%m-%d %H:%M")
    elif fmt == "json":
        text = (
            _inert_frame(df).to_json(orient="records", date_format="iso", date_unit="s", indent=1)
            + "\n"
        )
    elif fmt == "parquet":
        if out is None:
            raise UsageError("--format parquet needs --out FILE")
        try:
            df.to_parquet(out, index=False)
        except ImportError:
            raise UsageError("parquet needs pyarrow: pip install 'sheetsync[parquet]'") from None
        except OSError as exc:
            raise UsageError(f"{out}: cannot write ({exc.strerror or exc})") from None
        return None
    else:
        raise UsageError(f"unknown format {fmt!r} (csv, json or parquet)")
    if out is None:
        return text
    write_file(Path(out), text)
    return None


def records_text(records: Sequence[dict[str, Value]], keys: Sequence[str], fmt: str) -> str:
    """Records exactly as the sheet holds them (partial averages keep their k/n marker); in
    CSV, formula-like text is made inert (see `inert`)."""
    import csv
    import io
    import json

    if fmt == "json":
        return json.dumps([{k: r.get(k) for k in keys} for r in records], indent=1) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(keys)
    for r in records:
        writer.writerow(["" if r.get(k) is None else inert(r.get(k)) for k in keys])
    return buffer.getvalue()
