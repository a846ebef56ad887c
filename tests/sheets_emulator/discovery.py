"""Requests checked against Google's own description of Sheets API v4: the discovery document
that google-api-python-client ships (`discovery_cache/documents/sheets.v4.json`).

Routes, query parameters (names, types, enums, repetition), request bodies (field names,
JSON types, enums, the `Request.kind` and `ExtendedValue.value` one-ofs) and `fields` masks
(names in the response schema) are checked; a violation is a 400 worded as Google's JSON
parser words it (recorded in gspread's cassettes, e.g. `Invalid value at 'data.values'
(type.googleapis.com/google.protobuf.ListValue), "X"`).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.sheets_emulator.fields import Mask
from tests.sheets_emulator.model import ApiError

ONEOFS = {"Request": "kind", "ExtendedValue": "value"}
PROTO_TYPES = {
    ("string", None): "TYPE_STRING",
    ("string", "int64"): "TYPE_INT64",
    ("string", "google-fieldmask"): "type.googleapis.com/google.protobuf.FieldMask",
    ("integer", "int32"): "TYPE_INT32",
    ("number", "double"): "TYPE_DOUBLE",
    ("number", "float"): "TYPE_FLOAT",
    ("boolean", None): "TYPE_BOOL",
}


def document_path() -> Path:
    try:
        import googleapiclient
    except ImportError as exc:  # pragma: no cover - a dev dependency
        raise RuntimeError(
            "the Sheets emulator checks requests against the discovery document that "
            "google-api-python-client ships: pip install -e '.[dev]'"
        ) from exc
    return Path(googleapiclient.__file__).parent / "discovery_cache/documents/sheets.v4.json"


@cache
def discovery() -> Discovery:
    return Discovery(json.loads(document_path().read_text()))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _join(path: str, name: str) -> str:
    return f"{path}.{_snake(name)}" if path else _snake(name)


class Discovery:
    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self.schemas: dict[str, dict[str, Any]] = doc["schemas"]
        self.globals: dict[str, dict[str, Any]] = doc["parameters"]
        self.routes: list[tuple[str, re.Pattern[str], list[str], str, dict[str, Any]]] = []
        self._collect(doc["resources"])
        # most literal characters first, so `values:batchGet` wins over `values/{range}`
        self.routes.sort(key=lambda r: -len(re.sub(r"\{[^}]*\}", "", r[4]["flatPath"])))

    def _collect(self, resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                names = re.findall(r"\{([^}]*)\}", method["flatPath"])
                pattern = re.escape(method["flatPath"])
                for name in names:
                    group = "(.+?)" if name == "range" else "([^/:]+)"
                    pattern = pattern.replace(re.escape("{" + name + "}"), group)
                regex = re.compile("^/" + pattern + "$")
                self.routes.append((method["httpMethod"], regex, names, method["id"], method))
            self._collect(resource.get("resources", {}))

    # --- routes and query parameters -------------------------------------------------------

    def route(self, http: str, raw_path: str) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(method id, method, path parameters) for an HTTP method and a raw URL path."""
        for verb, regex, names, method_id, method in self.routes:
            m = regex.match(raw_path)
            if m and verb == http:
                params = {n: unquote(v) for n, v in zip(names, m.groups(), strict=True)}
                return method_id, method, params
        raise ApiError(404, f"The requested URL {raw_path} was not found on this server.")

    def check_query(self, method: dict[str, Any], query: dict[str, list[str]]) -> None:
        allowed = {**self.globals, **method.get("parameters", {})}
        for name, values in query.items():
            spec = allowed.get(name)
            if spec is None or spec.get("location") != "query":
                raise ApiError(
                    400,
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message.",
                )
            if len(values) > 1 and not spec.get("repeated"):
                raise ApiError(400, f"Invalid value at '{_snake(name)}': repeated value")
            for value in values:
                if spec.get("enum") and value not in spec["enum"]:
                    kind = name[0].upper() + name[1:]
                    raise ApiError(
                        400,
                        f"Invalid value at '{_snake(name)}' "
                        f'(type.googleapis.com/google.apps.sheets.v4.{kind}), "{value}"',
                    )
                if spec.get("type") == "boolean" and value.lower() not in ("true", "false"):
                    raise ApiError(400, f"Invalid value at '{_snake(name)}' (TYPE_BOOL), {value}")
                if spec.get("type") == "integer" and not re.fullmatch(r"-?\d+", value):
                    raise ApiError(
                        400, f"Invalid value at '{_snake(name)}' (TYPE_INT32), \"{value}\""
                    )

    # --- bodies ----------------------------------------------------------------------------

    def check_body(self, ref: str, body: Any) -> None:
        self._check({"$ref": ref}, body, "")

    def _bad(self, path: str, kind: str, value: Any) -> ApiError:
        text = f"Invalid value at '{path}' ({kind}), {json.dumps(value)}"
        return ApiError(
            400,
            text,
            [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": path, "description": text}],
                }
            ],
        )

    def _check(self, spec: dict[str, Any], value: Any, path: str) -> None:
        if value is None:
            return  # proto3 JSON: null is the field's default
        ref = spec.get("$ref")
        if ref:
            spec = self.schemas[ref]
        kind = spec.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                raise self._bad(path, f"type.googleapis.com/google.apps.sheets.v4.{ref}", value)
            props, extra = spec.get("properties"), spec.get("additionalProperties")
            if props is None and extra is None:
                return
            for name, item in value.items():
                if props is not None and name in props:
                    self._check(props[name], item, _join(path, name))
                elif extra is not None:
                    self._check(extra, item, f"{path}[{name}]")
                else:
                    where = f" at '{path}'" if path else ""
                    raise ApiError(
                        400,
                        f'Invalid JSON payload received. Unknown name "{name}"{where}: '
                        "Cannot find field.",
                    )
            if ref in ONEOFS:
                set_ = [k for k, v in value.items() if v is not None]
                if len(set_) > 1:
                    raise ApiError(
                        400,
                        f"Invalid JSON payload received. Oneof field '{ONEOFS[ref]}' is "
                        f"already set. Cannot set '{set_[1]}'",
                    )
                if ref == "Request" and not set_:
                    raise ApiError(400, f"Invalid {path or 'request'}: No request set.")
        elif kind == "array":
            if not isinstance(value, list):
                raise self._bad(path, "type.googleapis.com/google.protobuf.ListValue", value)
            for i, item in enumerate(value):
                self._check(spec.get("items", {}), item, f"{path}[{i}]")
        elif kind == "string":
            fmt = spec.get("format")
            ok = isinstance(value, str) or (fmt == "int64" and _integral(value))
            if not ok:
                raise self._bad(path, PROTO_TYPES.get(("string", fmt), "TYPE_STRING"), value)
            if spec.get("enum") and value not in spec["enum"]:
                name = path.rsplit(".", 1)[-1].split("[")[0]
                enum = "".join(p.capitalize() for p in name.split("_"))
                raise self._bad(path, f"type.googleapis.com/google.apps.sheets.v4.{enum}", value)
        elif kind == "integer":
            if not (_integral(value) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value))):
                raise self._bad(path, "TYPE_INT32", value)
        elif kind == "number":
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if not numeric and value not in ("NaN", "Infinity", "-Infinity"):
                proto = PROTO_TYPES.get(("number", spec.get("format")), "TYPE_DOUBLE")
                raise self._bad(path, proto, value)
        elif kind == "boolean" and not isinstance(value, bool):
            raise self._bad(path, "TYPE_BOOL", value)

    # --- field masks -----------------------------------------------------------------------

    def check_mask(self, ref: str, mask: Mask) -> None:
        """Every name in a `fields` mask must be a field of the response (or of CellData)."""
        self._mask(self.schemas[ref], mask)

    def _mask(self, spec: dict[str, Any], mask: Mask) -> None:
        while True:
            if "$ref" in spec:
                spec = self.schemas[spec["$ref"]]
            elif spec.get("type") == "array":
                spec = spec.get("items", {})
            else:
                break
        props = spec.get("properties")
        if props is None:
            return
        for name, sub in mask.items():
            if name == "*":
                continue
            if name not in props:
                raise ApiError(400, f"Request contains an invalid argument. (fields: {name})")
            if sub is not None:
                self._mask(props[name], sub)


def _integral(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
