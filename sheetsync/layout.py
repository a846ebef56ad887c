"""The sheet's tabs and columns: who owns each column, its type, what it means."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import ConfigError, about

OWNERS = ("person", "launch", "result")
TYPES = ("text", "int", "number", "loss", "flops", "fraction", "score", "gain", "date", "datetime")
TABLES = ("runs", "baselines", "scaling")
KEY_COLUMN = {"runs": "run", "baselines": "baseline", "scaling": "fit"}
TEMPLATES = Path(__file__).parent / "templates"
if not TEMPLATES.is_dir():  # running from a source checkout
    TEMPLATES = Path(__file__).parent.parent / "templates"


@dataclass(frozen=True)
class Column:
    """One column: `key` is sheetsync's name for it, `header` the text people see."""

    key: str
    header: str
    owner: str
    type: str = "text"
    meaning: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def owned(self) -> bool:
        return self.owner != "person"


@dataclass(frozen=True)
class Table:
    """A tab of the sheet: its name, its key column, its columns in their default order."""

    kind: str
    tab: str
    columns: tuple[Column, ...]

    @property
    def key(self) -> Column:
        return self.column(KEY_COLUMN[self.kind])

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def has(self, key: str) -> bool:
        return any(col.key == key for col in self.columns)

    def owned(self, *owners: str) -> tuple[Column, ...]:
        want = owners or ("launch", "result")
        return tuple(col for col in self.columns if col.owner in want)


@dataclass(frozen=True)
class Layout:
    """All tabs sheetsync knows, plus the hidden state tab."""

    runs: Table
    baselines: Table
    scaling: Table
    state_tab: str = "_sheetsync"
    review_tab: str = "Review"  # written whole by `sync` for the review meeting
    eval_scale: str = "fraction"
    source: str = "<built-in>"

    def tables(self) -> tuple[Table, ...]:
        return (self.runs, self.baselines, self.scaling)

    def eval_columns(self) -> tuple[Column, ...]:
        return tuple(col for col in self.runs.columns if "eval" in col.options)


def default_layout_path() -> Path:
    return TEMPLATES / "layout.yaml"


def load_layout(path: Path | None = None) -> Layout:
    """Read and validate a layout file (the built-in template when `path` is None)."""
    from sheetsync.records.configs import load_mapping

    path = path or default_layout_path()
    with about(path):
        return parse_layout(load_mapping(path, ConfigError), str(path))


def parse_layout(data: Mapping[str, Any], source: str) -> Layout:
    """Validate a layout mapping; every error names the file and the column."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: a layout must be a mapping")
    unknown = set(data) - {"eval_scale", "tabs", *TABLES}
    if unknown:
        raise ConfigError(f"{source}: unknown layout key {sorted(unknown)[0]!r}")
    tabs = data.get("tabs") or {}
    if not isinstance(tabs, Mapping):
        raise ConfigError(
            f"{source}: 'tabs' must map runs/baselines/scaling/review/state to tab names"
        )
    names = {kind: tabs.get(kind, kind.capitalize()) for kind in TABLES}
    state = tabs.get("state", "_sheetsync")
    review = tabs.get("review", "Review")
    for kind, name in [*names.items(), ("state", state), ("review", review)]:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{source}: tabs.{kind} must be a non-empty tab name")
    if len({n.casefold() for n in (*names.values(), state, review)}) != 5:
        raise ConfigError(f"{source}: tabs must have five different names")
    scale = data.get("eval_scale", "fraction")
    if scale not in ("fraction", "percent"):
        raise ConfigError(f"{source}: eval_scale must be 'fraction' or 'percent', not {scale!r}")
    tables = {}
    for kind in TABLES:
        if kind not in data:
            raise ConfigError(f"{source}: no '{kind}' column list")
        tables[kind] = Table(kind, names[kind], _parse_columns(data[kind], kind, source))
    return Layout(**tables, state_tab=state, review_tab=review, eval_scale=scale, source=source)


def _parse_columns(items: Any, kind: str, source: str) -> tuple[Column, ...]:
    if not isinstance(items, list) or not items:
        raise ConfigError(f"{source}: '{kind}' must be a non-empty list of columns")
    columns: list[Column] = []
    keys: set[str] = set()
    headers: set[str] = set()
    for i, item in enumerate(items, 1):
        where = f"{source}: {kind} column {i}"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: expected a mapping with key, header, owner")
        extra = set(item) - {"key", "header", "owner", "type", "meaning", "eval"}
        if extra:
            raise ConfigError(f"{where}: unknown field {sorted(extra)[0]!r}")
        header = item.get("header")
        if not isinstance(header, str) or not header.strip():
            raise ConfigError(f"{where}: 'header' must be non-empty text")
        header = header.strip()
        where = f"{source}: {kind} column {header!r}"
        options: dict[str, Any] = {}
        if "eval" in item:
            if kind != "runs" or not isinstance(item["eval"], Mapping):
                raise ConfigError(f"{where}: 'eval' must be a mapping, on a runs column")
            options["eval"] = dict(item["eval"])
        key = item.get("key")
        if key is None and "eval" in options:
            key = f"eval:{options['eval'].get('task', header)}"
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f"{where}: 'key' must be non-empty text")
        owner = item.get("owner", "person")
        if owner not in OWNERS:
            raise ConfigError(f"{where}: owner must be one of {', '.join(OWNERS)}, not {owner!r}")
        ctype = item.get("type", "text")
        if ctype not in TYPES:
            raise ConfigError(f"{where}: type must be one of {', '.join(TYPES)}, not {ctype!r}")
        if key in keys:
            raise ConfigError(f"{where}: key {key!r} is used twice")
        if header.casefold() in headers:
            raise ConfigError(f"{where}: header {header!r} is used twice")
        keys.add(key)
        headers.add(header.casefold())
        meaning = item.get("meaning", "")
        columns.append(Column(key, header, owner, ctype, str(meaning or ""), options))
    key_col = KEY_COLUMN[kind]
    if key_col not in keys:
        raise ConfigError(f"{source}: the {kind} tab needs its key column {key_col!r}")
    if next(c for c in columns if c.key == key_col).owner != "launch":
        raise ConfigError(f"{source}: the {kind} key column {key_col!r} must be owned by launch")
    return tuple(columns)
