"""Plain data: what a config or a run record may hold once parsed, and its bounds.

Plain means mappings with text keys, lists, text, numbers, true/false and null: the values
whose fingerprint is the same in every process. The bounds keep every later step (flatten,
fingerprint, diff) quick and free of recursion errors: nesting depth, the number of values
after YAML aliases are expanded (a billion-laughs file is refused here, in milliseconds,
before anything copies it), and integer size.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 100
MAX_VALUES = 2_000_000  # counted with aliases expanded, as the fingerprint would see them
MAX_INT_DIGITS = 100

_END = object()


def describe(value: Any) -> str:
    """What kind of value a person wrote, in their words (for one-line errors)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


def _at(dotted: str) -> str:
    if len(dotted) > 60:
        dotted = dotted[:57] + "..."
    return f" at {dotted}" if dotted else ""


def check_plain(
    data: Any,
    where: str,
    error: type[Exception],
    max_depth: int = MAX_DEPTH,
    max_values: int = MAX_VALUES,
) -> None:
    """Raise `error` (one line, starting with `where`) unless `data` is plain and bounded.

    Walks without recursion; a value shared through YAML aliases is counted every time it
    is used but visited once, so the check itself stays fast on a billion-laughs file.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # frames: [value, dotted path, depth, iterator over (key, child), values so far]
    stack: list[list[Any]] = [[data, "", 1, None, 0]]
    while stack:
        frame = stack[-1]
        value, dotted, depth, children, count = frame
        if children is None:
            size = _scalar_size(value, dotted, where, error)
            if size is None and id(value) in sizes:
                size = sizes[id(value)]
            if size is not None:
                stack.pop()
                _add(stack, size, where, error, max_values)
                continue
            if id(value) in active:
                raise error(f"{where}: a YAML alias{_at(dotted)} refers to itself")
            if depth > max_depth:
                raise error(f"{where}: nested deeper than {max_depth} levels")
            active.add(id(value))
            if isinstance(value, Mapping):
                for key in value:
                    if not isinstance(key, str):
                        raise error(
                            f"{where}: key {key!r}{_at(dotted)} is {describe(key)}, not "
                            "text; quote it"
                        )
                frame[3] = iter(value.items())
            else:
                frame[3] = iter(enumerate(value))
            continue
        item = next(children, _END)
        if item is _END:
            stack.pop()
            active.discard(id(value))
            sizes[id(value)] = count + 1
            _add(stack, count + 1, where, error, max_values)
            continue
        key, child = item
        path = (
            f"{dotted}.{key}"
            if dotted and isinstance(key, str)
            else (f"{dotted}[{key}]" if dotted else str(key))
        )
        stack.append([child, path, depth + 1, None, 0])


def _scalar_size(value: Any, dotted: str, where: str, error: type[Exception]) -> int | None:
    """1 for a plain scalar, None for a container; raises for anything else."""
    if value is None or isinstance(value, bool | float | str):
        return 1
    if isinstance(value, int):
        if abs(value) >= 10**MAX_INT_DIGITS:
            raise error(f"{where}: an integer of more than {MAX_INT_DIGITS} digits{_at(dotted)}")
        return 1
    if isinstance(value, Mapping | list):
        return None
    raise error(f"{where}: {describe(value)}{_at(dotted)} is not plain data")


def _add(stack: list[list[Any]], size: int, where: str, error: type[Exception], limit: int) -> None:
    if stack:
        stack[-1][4] += size
        if stack[-1][4] > limit:
            raise error(
                f"{where}: more than {limit:,} values once YAML aliases are expanded "
                "(an alias bomb?); refused"
            )


def loads_json(text: str, where: str, error: type[Exception], **hooks: Any) -> Any:
    """JSON text as plain data, or a one-line error (bad syntax, depth, a huge integer)."""
    try:
        data = json.loads(text, **hooks)
    except json.JSONDecodeError as exc:
        raise error(f"{where}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise error(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # an integer over Python's 4,300-digit conversion limit
        raise error(f"{where}: an integer of more than {MAX_INT_DIGITS} digits") from None
    check_plain(data, where, error)
    return data


def plain_or_none(text: str, max_depth: int = 8) -> Any:
    """A sheet cell's JSON (sheetsync's own bookkeeping) as plain data, or None if it is not
    JSON, not plain, or nested deeper than `max_depth`: a mangled cell is ignored, never fatal."""

    class _Bad(Exception):
        pass

    try:
        data = json.loads(text)
        check_plain(data, "", _Bad, max_depth=max_depth, max_values=100_000)
    except (ValueError, RecursionError, _Bad):
        return None
    return data
