"""Field masks as Google parses them: the `fields` query parameter of every method (partial
responses) and the `fields` of updateCells / repeatCell / appendCells requests.

Syntax (developers.google.com/workspace/sheets/api/guides/field-masks): comma-separated paths,
`a.b.c` or `a/b/c`, sub-selections `a(b,c(d))`, and `*` for every field.
"""

from __future__ import annotations

from typing import Any

from tests.sheets_emulator.model import ApiError

Mask = dict[str, "Mask | None"]  # None: the whole field


def parse(text: str) -> Mask:
    """'sheets(properties(title),data.rowData)' -> {'sheets': {'properties': {'title': None},
    'data': {'rowData': None}}}."""
    mask, rest = _items(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise ApiError(400, f"Invalid field selection {text}")
    return mask


def _items(text: str, i: int) -> tuple[Mask, int]:
    out: Mask = {}
    while i < len(text):
        j = i
        while j < len(text) and text[j] not in ",()":
            j += 1
        path = [p for p in text[i:j].replace("/", ".").split(".")]
        if not all(path):
            raise ApiError(400, f"Invalid field selection {text}")
        sub: Mask | None = None
        if j < len(text) and text[j] == "(":
            sub, j = _items(text, j + 1)
            if j >= len(text) or text[j] != ")":
                raise ApiError(400, f"Invalid field selection {text}")
            j += 1
        _merge(out, path, sub)
        if j < len(text) and text[j] == ")":
            return out, j
        if j < len(text) and text[j] == ",":
            j += 1
        i = j
    return out, i


def _merge(out: Mask, path: list[str], sub: Mask | None) -> None:
    node = out
    for name in path[:-1]:
        nxt = node.get(name, {})
        if nxt is None:
            return  # already whole
        node[name] = nxt
        node = nxt
    last = path[-1]
    if sub is None or node.get(last, {}) is None:
        node[last] = None
    else:
        merged = node.get(last) or {}
        for k, v in sub.items():
            _merge(merged, [k], v)
        node[last] = merged


def apply(value: Any, mask: Mask | None) -> Any:
    """The parts of `value` that `mask` selects (lists are masked element-wise)."""
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        return value
    out = {}
    for key, sub in mask.items():
        if key in value:
            out[key] = apply(value[key], sub)
    return out


def leaves(mask: Mask, prefix: str = "") -> list[str]:
    """Dotted paths of the mask's leaves: {'a': {'b': None}, 'c': None} -> ['a.b', 'c']."""
    out = []
    for key, sub in mask.items():
        path = f"{prefix}.{key}" if prefix else key
        out += [path] if sub is None else leaves(sub, path)
    return out
