"""The `runs:` setting of sheetsync.yaml: where a project's runs come from.

runs: runs                          # native run folders (the default)
runs: s3://bucket/prefix            # native run folders on object storage (s3://, gs://)
runs: {source: wandb, path: wandb, map: {loss: train/loss}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import ConfigError

SCHEMES = {"s3": "s3", "gs": "gcs", "gcs": "gcs"}  # URL scheme -> extra
KINDS = ("folder", "wandb", "mlflow", "tensorboard", "s3", "gs")
FIELDS = (
    "run",
    "loss",
    "step",
    "tokens",
    "steps_planned",
    "tokens_planned",
    "decay_end_step",
    "state",
    "params",
    "active_params",
    "flops",
    "seed",
)
OPTIONS = {
    "folder": set(),
    "wandb": {"map"},
    "tensorboard": {"map"},
    "mlflow": {"map", "experiment"},
    "objectstore": {"storage_options", "timeout", "concurrency"},
}


@dataclass(frozen=True)
class SourceSpec:
    """A project's run source: its kind, where it is, and how tracker names map to ours."""

    kind: str = "folder"  # folder | wandb | mlflow | tensorboard | objectstore
    location: str = "runs"  # an absolute folder, a tracking URI, or an s3:// / gs:// URL
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        return self.kind == "folder"


def parse_runs_setting(value: Any, config_file: Path) -> SourceSpec:
    """Validate `runs:`; relative folders are relative to sheetsync.yaml's folder."""
    where = f"{config_file}: runs"
    if value is None:
        value = "runs"
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a folder, an s3:// or gs:// URL, or a mapping")
    path = value.get("path", value.get("uri"))
    kind = value.get("source")
    if kind is None:
        kind = _scheme(path) or "folder"
    if kind not in KINDS:
        raise ConfigError(f"{where}.source must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind in ("s3", "gs"):
        kind = "objectstore"
    if not isinstance(path, str) or not path.strip():
        default = {"folder": "runs", "wandb": "wandb", "tensorboard": "runs"}.get(kind)
        if default is None:
            raise ConfigError(f"{where}.path is missing: name the {kind} location")
        path = default
    if kind == "objectstore":
        if _scheme(path) is None:
            raise ConfigError(f"{where}.path must be an s3:// or gs:// URL, not {path!r}")
        location = path.rstrip("/")
    elif kind == "mlflow" and "://" in path:
        location = path  # a tracking URI: sqlite:///..., http://..., file:///...
    elif "://" in path:
        raise ConfigError(f"{where}.path: a {kind} source reads a local folder, not {path!r}")
    else:
        location = str((config_file.parent / Path(path).expanduser()).resolve())
    known = {"source", "path", "uri"} | OPTIONS[kind]
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} for a {kind} source "
            f"(known: {', '.join(sorted(known))})"
        )
    options = {k: v for k, v in value.items() if k in OPTIONS[kind] and k != "map"}
    _check_options(where, options)
    return SourceSpec(kind, location, _fields(where, value.get("map")), options)


def _scheme(path: Any) -> str | None:
    if isinstance(path, str) and "://" in path:
        scheme = path.split("://", 1)[0].lower()
        return scheme if scheme in SCHEMES else None
    return None


def _fields(where: str, value: Any) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}.map must be a mapping of our field to the tracker's name")
    out: dict[str, tuple[str, ...]] = {}
    for key, names in value.items():
        if key not in FIELDS:
            raise ConfigError(f"{where}.map: unknown field {key!r} (known: {', '.join(FIELDS)})")
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"{where}.map.{key} must be a name or a list of names")
        out[key] = tuple(names)
    return out


def _check_options(where: str, options: Mapping[str, Any]) -> None:
    for key in ("timeout", "concurrency"):
        number = options.get(key)
        if number is not None and (
            isinstance(number, bool) or not isinstance(number, int | float) or number <= 0
        ):
            raise ConfigError(f"{where}.{key} must be a positive number, not {number!r}")
    storage = options.get("storage_options")
    if storage is not None and not isinstance(storage, Mapping):
        raise ConfigError(f"{where}.storage_options must be a mapping (passed to fsspec)")
    experiment = options.get("experiment")
    if experiment is not None and not isinstance(experiment, str | list):
        raise ConfigError(f"{where}.experiment must be a name or a list of names")
