"""Run and baseline configs: loading with clear errors, canonical fingerprints, dotted diffs."""

from __future__ import annotations

import errno
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError

CONFIG_NAMES = ("config.yaml", "config.yml", "config.json")
MAX_CONFIG_BYTES = 5_000_000


class _Absent:
    """Marks a key present on one side of a diff only."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


def read_text(path: Path, error: type[Exception] = RunError) -> str:
    """A file's UTF-8 text, or a one-line error naming the file."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None


def load_mapping(path: Path, error: type[Exception] = RunError) -> dict[str, Any]:
    """Read a YAML or JSON file that must hold a mapping; one-line errors name file and line."""
    import yaml

    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror})") from None
    if size > MAX_CONFIG_BYTES:
        raise error(
            f"{path}: {size:,} bytes is too large for a config (limit {MAX_CONFIG_BYTES:,})"
        )
    text = read_text(path, error)
    if path.suffix == ".json":
        try:
            data = json.loads(text, object_pairs_hook=_unique_pairs(path, error))
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    else:
        try:
            data = yaml.load(text, Loader=_unique_key_loader(path, error))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f":{mark.line + 1}" if mark is not None else ""
            reason = " ".join(str(exc.problem or exc.context).split())
            raise error(f"{path}{line}: invalid YAML ({reason})") from None
        except yaml.YAMLError as exc:
            raise error(f"{path}: invalid YAML ({' '.join(str(exc).split())})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise error(f"{path}: expected a mapping at the top level, found {type(data).__name__}")
    return data


def _unique_pairs(path: Path, error: type[Exception]):
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise error(f"{path}: duplicate key {key!r}")
            out[key] = value
        return out

    return hook


def _unique_key_loader(path: Path, error: type[Exception]):
    import yaml

    # libyaml's parser when the installed PyYAML has it: several times faster on big folders
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[valid-type,misc]
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise error(f"{path}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            out[key] = loader.construct_object(value_node, deep=True)
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def find_config(run_dir: Path) -> Path:
    """The resolved config a trainer wrote into its run folder."""
    for name in CONFIG_NAMES:
        candidate = run_dir / name
        if candidate.is_file():
            return candidate
        if candidate.is_symlink():
            try:
                candidate.stat()
            except OSError as exc:
                why = "a symlink loop" if exc.errno == errno.ELOOP else "a broken symlink"
                raise RunError(f"{candidate}: cannot read ({why})") from None
    raise RunError(f"{run_dir}: no config.yaml or config.json in the run folder")


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 2**53:
            return int(value)
        return repr(value) if not math.isfinite(value) else value
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)


def fingerprint(config: Mapping[str, Any]) -> str:
    """A short hash of a config's content: key order, formatting and 1.0-vs-1 do not change it."""
    text = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "cfg-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (`model.n_layers`); lists stay whole values."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = _canonical(value)
    return out


@dataclass(frozen=True)
class Change:
    """One dotted key whose value differs between a baseline and a config."""

    key: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.key}: {_show(self.old)} -> {_show(self.new)}"


def _show(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    return json.dumps(value, sort_keys=True) if not isinstance(value, str) else value


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Dotted-key changes from `old` to `new`, sorted by key."""
    a, b = flatten(old), flatten(new)
    changes = []
    for key in sorted(a.keys() | b.keys()):
        va, vb = a.get(key, ABSENT), b.get(key, ABSENT)
        if va is ABSENT or vb is ABSENT or _json(va) != _json(vb):
            changes.append(Change(key, va, vb))
    return changes


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def format_changes(changes: list[Change]) -> str:
    """The changes as one cell's text: `key: old -> new; ...` (empty for none)."""
    return "; ".join(str(c) for c in changes)
