"""The project config `sheetsync.yaml`: found by walking up from the current folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import ConfigError

if TYPE_CHECKING:
    from sheetsync.layout import Layout
    from sheetsync.records.baselines import Registry
    from sheetsync.records.sources import RunSource, SourceSpec

CONFIG_NAME = "sheetsync.yaml"
ENV_VAR = "SHEETSYNC_CONFIG"
KNOWN_KEYS = {"sheet", "runs", "baselines", "layout", "guarded"}


@dataclass(frozen=True)
class Project:
    """A team's sheetsync project: where the sheet, runs, baselines and layout are."""

    path: Path
    sheet_kind: str
    sheet_target: str
    runs_dir: Path
    baselines_dir: Path
    layout_path: Path | None
    guarded: tuple[str, ...] = ()
    credentials: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)
    runs_source: SourceSpec | None = None  # None: native folders in runs_dir

    @property
    def root(self) -> Path:
        return self.path.parent

    def layout(self) -> Layout:
        from sheetsync.layout import load_layout

        return load_layout(self.layout_path)

    def registry(self) -> Registry:
        from sheetsync.records.baselines import Registry

        return Registry(self.baselines_dir)

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def run_source(self) -> RunSource:
        """Where the runs come from (`runs:`); a tracker's runs are kept in `runs_dir`."""
        from sheetsync.records.sources import SourceSpec, open_source

        spec = self.runs_source or SourceSpec("folder", str(self.runs_dir))
        return open_source(spec, self.runs_dir)


def find_project_file(
    start: Path | None = None, explicit: str | os.PathLike[str] | None = None
) -> Path:
    """--config, then $SHEETSYNC_CONFIG, then sheetsync.yaml in this folder or any parent."""
    if explicit is None:
        explicit = os.environ.get(ENV_VAR) or None
    if explicit is not None:
        path = Path(explicit).expanduser()
        if path.is_dir():
            path = path / CONFIG_NAME
        if not path.is_file():
            raise ConfigError(f"{path}: project config not found")
        return path.resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_NAME} in {here} or its parents; run `sheetsync init` to create one "
        f"(or pass --config / set {ENV_VAR})"
    )


def load_project(path: Path) -> Project:
    """Read and validate sheetsync.yaml; relative paths are relative to its folder."""
    from sheetsync.records.configs import load_mapping

    data = load_mapping(path, ConfigError)
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(KNOWN_KEYS))})"
        )
    root = path.parent
    sheet = data.get("sheet", {"local": "experiments.xlsx"})
    if not isinstance(sheet, Mapping):
        raise ConfigError(f"{path}: 'sheet' must be a mapping with 'local: FILE' or 'google: URL'")
    kinds = [k for k in ("local", "google") if k in sheet]
    extra = set(sheet) - {"local", "google", "credentials"}
    if extra:
        raise ConfigError(
            f"{path}: unknown sheet backend {sorted(extra)[0]!r} (use 'local' or 'google')"
        )
    if len(kinds) != 1:
        raise ConfigError(f"{path}: 'sheet' must name exactly one of 'local' or 'google'")
    kind = kinds[0]
    target = sheet[kind]
    if not isinstance(target, str) or not target.strip():
        raise ConfigError(f"{path}: sheet.{kind} must be a file name, URL or key")
    if kind == "local":
        target = str((root / Path(target).expanduser()).resolve())
    guarded = data.get("guarded") or []
    if not isinstance(guarded, list) or not all(isinstance(g, str) for g in guarded):
        raise ConfigError(f"{path}: 'guarded' must be a list of dotted config keys")
    layout = data.get("layout")
    layout_path = None
    if layout is not None:
        if not isinstance(layout, str):
            raise ConfigError(f"{path}: 'layout' must be a file name")
        layout_path = root / layout
        if not layout_path.is_file():
            raise ConfigError(f"{path}: layout file {layout_path} not found")
    credentials = sheet.get("credentials")
    runs_dir, runs_source = _runs(path, data)
    return Project(
        path=path,
        sheet_kind=kind,
        sheet_target=target,
        runs_dir=runs_dir,
        baselines_dir=_folder(path, data, "baselines"),
        layout_path=layout_path,
        guarded=tuple(guarded),
        credentials=str(credentials) if credentials else None,
        raw=data,
        runs_source=runs_source,
    )


def _runs(path: Path, data: Mapping[str, Any]) -> tuple[Path, SourceSpec]:
    """`runs:` names a folder, an s3:// / gs:// URL or a tracker; runs that are not native
    folders on this disk are kept, as sheetsync read them, under .sheetsync/runs/."""
    from sheetsync.records.sources import parse_runs_setting

    spec = parse_runs_setting(data.get("runs"), path)
    if spec.local:
        return Path(spec.location), spec
    return (path.parent / ".sheetsync" / "runs").resolve(), spec


def _folder(path: Path, data: Mapping[str, Any], key: str) -> Path:
    value = data.get(key, key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: '{key}' must be a folder name")
    return (path.parent / Path(value).expanduser()).resolve()


def open_project(
    explicit: str | os.PathLike[str] | None = None, start: Path | None = None
) -> Project:
    return load_project(find_project_file(start, explicit))
