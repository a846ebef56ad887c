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

from sheetsync.errors import RunError, file_error
from sheetsync.records.files import MAX_CONFIG_BYTES, read_text
from sheetsync.records.plain import MAX_DEPTH, MAX_INT_DIGITS, check_plain, describe, loads_json

CONFIG_NAMES = ("config.yaml", "config.yml", "config.json")


class _Absent:
    """Marks a key present on one side of a diff only."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


def load_mapping(
    path: Path,
    error: type[Exception] = RunError,
    limit: int = MAX_CONFIG_BYTES,
    what: str = "a config",
) -> dict[str, Any]:
    """Read a YAML or JSON file that must hold a plain mapping; one-line errors name the file
    and line. Bounded: size, nesting, YAML aliases, integers (`sheetsync.records.plain`)."""
    return parse_mapping(read_text(path, error, limit, what), path, error)


def parse_mapping(text: str, path: Path, error: type[Exception] = RunError) -> dict[str, Any]:
    """The text of a YAML or JSON file (by `path`'s suffix) as a plain mapping."""
    import yaml

    if path.suffix == ".json":
        data = loads_json(text, str(path), error, object_pairs_hook=_unique_pairs(path, error))
    else:
        try:
            data = yaml.load(text, Loader=_plain_loader(path, error))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f":{mark.line + 1}" if mark is not None else ""
            reason = " ".join(str(exc.problem or exc.context).split())
            raise file_error(error, path, f"{path}{line}: invalid YAML ({reason})") from None
        except yaml.YAMLError as exc:
            raise file_error(
                error, path, f"{path}: invalid YAML ({' '.join(str(exc).split())})"
            ) from None
        except RecursionError:
            raise file_error(
                error, path, f"{path}: nested deeper than {MAX_DEPTH} levels"
            ) from None
        check_plain(data, str(path), error)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise file_error(
            error, path, f"{path}: expected a mapping at the top level, found {type(data).__name__}"
        )
    return data


def _unique_pairs(path: Path, error: type[Exception]):
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise file_error(error, path, f"{path}: duplicate key {key!r}")
            out[key] = value
        return out

    return hook


_NOT_PLAIN = {
    "tag:yaml.org,2002:set": "a set's order changes from one process to the next; write a list",
    "tag:yaml.org,2002:omap": "write a mapping",
    "tag:yaml.org,2002:pairs": "write a mapping",
    "tag:yaml.org,2002:binary": "write text",
}


def _plain_loader(path: Path, error: type[Exception]):
    """A safe YAML loader that refuses duplicate and non-text keys and non-plain tags (sets,
    binary), reads timestamps as text, and names the line of each refusal."""
    import yaml

    # libyaml's parser when the installed PyYAML has it: several times faster on big folders
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[valid-type,misc]
        pass

    def line(node: yaml.Node) -> str:
        return f"{path}:{node.start_mark.line + 1}"

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        own = sum(k.tag != "tag:yaml.org,2002:merge" for k, _ in node.value)
        loader.flatten_mapping(node)
        merged = len(node.value) - own  # pairs from `<<: *anchor` come first; own keys win
        out: dict[Any, Any] = {}
        mine: set[str] = set()
        for i, (key_node, value_node) in enumerate(node.value):
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str) or key_node.tag == "tag:yaml.org,2002:timestamp":
                raw = key_node.value if isinstance(key_node, yaml.ScalarNode) else "(a collection)"
                kind = "a date" if isinstance(key, str) else describe(key)
                raise error(
                    f"{line(key_node)}: key {raw!r} is {kind}, not text; quote it "
                    "(sheetsync reads only text keys)"
                )
            if i >= merged:
                if key in mine:
                    raise error(f"{line(key_node)}: duplicate key {key!r}")
                mine.add(key)
            out[key] = loader.construct_object(value_node, deep=True)
        return out

    def construct_timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
        value = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
        return str(value)  # as fingerprints always saw it: 2026-06-01, 2026-06-01 10:00:00

    def construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
        try:
            return yaml.SafeLoader.construct_yaml_int(loader, node)
        except ValueError:  # Python's 4,300-digit limit for int("...")
            raise error(f"{line(node)}: an integer of more than {MAX_INT_DIGITS} digits") from None

    def refuse(tag: str):
        def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
            short = "!!" + tag.rsplit(":", 1)[-1]
            raise error(f"{line(node)}: {short} is not plain YAML; {_NOT_PLAIN[tag]}")

        return construct

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor("tag:yaml.org,2002:timestamp", construct_timestamp)
    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    for tag in _NOT_PLAIN:
        Loader.add_constructor(tag, refuse(tag))
    return Loader


def find_config(run_dir: Path) -> Path:
    """The resolved config a trainer wrote into its run folder."""
    for name in CONFIG_NAMES:
        candidate = run_dir / name
        if candidate.is_file() or (candidate.exists() and not candidate.is_dir()):
            return candidate  # a FIFO or device is refused by the reader, not waited on
        if candidate.is_symlink():
            try:
                candidate.stat()
            except OSError as exc:
                why = "a symlink loop" if exc.errno == errno.ELOOP else "a broken symlink"
                raise RunError(f"{candidate}: cannot read ({why})") from None
    raise RunError(f"{run_dir}: no config.yaml or config.json in the run folder", file=run_dir)


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
