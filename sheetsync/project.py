"""The project config `sheetsync.yaml`: found by walking up from the current folder."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import ConfigError, about

if TYPE_CHECKING:
    from sheetsync.layout import Layout
    from sheetsync.records.baselines import Registry
    from sheetsync.records.runs import Run
    from sheetsync.records.sources import RunSource, SourceSpec

CONFIG_NAME = "sheetsync.yaml"
ENV_VAR = "SHEETSYNC_CONFIG"
KNOWN_KEYS = {"sheet", "runs", "baselines", "layout", "guarded", "trusted_folders"}
KNOWN_KEYS |= {"target_compute", "code_repo", "review_days", "stalled_after"}
REVIEW_DAYS = 14


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
    timeout: tuple[float, float] | None = None  # Google: connect and read seconds
    raw: Mapping[str, Any] = field(default_factory=dict)
    trusted_folders: tuple[Path, ...] = ()
    runs_source: SourceSpec | None = None  # None: native folders in runs_dir
    target_compute: float | None = None  # FLOPs the team means to train at (projections)
    review_days: int = REVIEW_DAYS  # the Review tab: runs launched in the last N days
    stalled_after: float | None = None  # `stalled_after: 2h`, in seconds (None: the default)

    @property
    def root(self) -> Path:
        return self.path.parent

    def layout(self) -> Layout:
        """The layout file, parsed on first use: once per command (a command loads its
        Project once; `sheetsync.open()` loads one per call, so a notebook sees edits)."""
        cached = self.__dict__.get("_layout")
        if cached is None:
            from sheetsync.layout import load_layout

            cached = load_layout(self.layout_path)
            object.__setattr__(self, "_layout", cached)  # frozen: a cache, not a field
        return cached

    @property
    def folders(self) -> tuple[Path, ...]:
        """Where sheetsync may read and write once symlinks are followed: the project's
        folder, its runs and baselines folders, and the `trusted_folders` it lists."""
        return (self.root.resolve(), self.runs_dir, self.baselines_dir, *self.trusted_folders)

    def code_repo(self) -> Path | None:
        """The git repository where runs' and baselines' commits are looked up (`code_repo:`,
        default the repository containing the project); None when there is none."""
        from sheetsync.records.git import repo_root

        value = self.raw.get("code_repo")
        folder = self.root / Path(str(value)).expanduser() if value else self.root
        return repo_root(folder) if folder.is_dir() else None

    def registry(self) -> Registry:
        from sheetsync.records.baselines import Registry

        return Registry(self.baselines_dir, self.folders)

    def run_dir(self, run_id: str) -> Path:
        """The folder of a run id: `runs/<run id>`. A run id is a name, never a path."""
        from sheetsync.errors import RunError
        from sheetsync.records.names import check_run_id

        return self.runs_dir / check_run_id(run_id, f"run {run_id[:60]!r}", RunError)

    def run_folder(self, given: str | os.PathLike[str]) -> Path:
        """A run folder named on the command line: a folder of the runs folder (named by its
        run id), or a bare run id. Anything else is a one-line usage error; a folder that is a
        symlink out of the project's folders is refused."""
        from sheetsync.errors import UsageError
        from sheetsync.records.files import confine
        from sheetsync.records.names import check_run_id

        path = Path(given)
        check_run_id(path.name, str(given), UsageError)
        bare_id = path.parent == Path(".") and not path.exists()
        if not bare_id and path.parent.resolve() != self.runs_dir:
            raise UsageError(
                f"{given}: not in the runs folder {self.runs_dir}; a run folder lives there, "
                "named by its run id"
            )
        folder = self.runs_dir / path.name
        confine(folder, self.folders)
        return folder

    def read_run(self, folder: Path) -> Run:
        """A run folder read with every path kept inside the project's folders."""
        from sheetsync.records.runs import read_run

        return read_run(folder, self.folders)

    def run_source(self, read: Callable[[Path], Run] | None = None) -> RunSource:
        """Where the runs come from (`runs:`); a tracker's runs are kept in `runs_dir`. Every
        command turns a run id into a run through it; `read` reads a run's folder (default
        `read_run`; a command's `RunCache.run` reads it through the cache)."""
        from sheetsync.records.sources import Access, SourceSpec, open_source

        spec = self.runs_source or SourceSpec("folder", str(self.runs_dir))
        access = Access(self.runs_dir, self.run_dir, self.run_folder, read or self.read_run)
        return open_source(spec, access)


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
    """Read and validate sheetsync.yaml; relative paths are relative to its folder. Its
    errors carry its path as their `file`."""
    with about(path):
        return _load_project(path)


def _load_project(path: Path) -> Project:
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
    extra = set(sheet) - {"local", "google", "credentials", "timeout"}
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
    timeout = _timeout(path, sheet.get("timeout"))
    if not isinstance(data.get("code_repo", ""), str):
        raise ConfigError(f"{path}: 'code_repo' must be a folder (a git repository)")
    trusted = data.get("trusted_folders") or []
    if not isinstance(trusted, list) or not all(isinstance(t, str) and t for t in trusted):
        raise ConfigError(f"{path}: 'trusted_folders' must be a list of folders")
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
        timeout=timeout,
        trusted_folders=tuple((root / Path(t).expanduser()).resolve() for t in trusted),
        runs_source=runs_source,
        target_compute=_target_compute(path, data.get("target_compute")),
        review_days=_review_days(path, data.get("review_days", REVIEW_DAYS)),
        stalled_after=_stalled_after(path, data.get("stalled_after")),
    )


def _stalled_after(path: Path, value: Any) -> float | None:
    """`stalled_after: 2h` (30m, 6h, 1d...): how long a going run may be silent (None: the
    default, `records.liveness.STALLED_AFTER`)."""
    if value is None:
        return None
    from sheetsync.records.liveness import parse_duration

    return parse_duration(value, f"{path}: stalled_after")


def _review_days(path: Path, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3650:
        raise ConfigError(f"{path}: review_days must be a whole number of days, 1-3650")
    return value


def _target_compute(path: Path, value: Any) -> float | None:
    """`target_compute: 1e23`: positive FLOPs (YAML reads 1e23 as text, so text is parsed)."""
    if value is None:
        return None
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise ConfigError(f"{path}: target_compute must be a positive number of FLOPs, e.g. 1e23")
    return number


def _runs(path: Path, data: Mapping[str, Any]) -> tuple[Path, SourceSpec]:
    """`runs:` names a folder, an s3:// / gs:// URL or a tracker; runs that are not native
    folders on this disk are kept, as sheetsync read them, under .sheetsync/runs/."""
    from sheetsync.records.sources import parse_runs_setting

    spec = parse_runs_setting(data.get("runs"), path)
    if spec.local:
        folder = Path(spec.location)
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"{path}: 'runs' names {folder}, which is not a folder")
        return folder, spec
    return (path.parent / ".sheetsync" / "runs").resolve(), spec


def _timeout(path: Path, value: Any) -> tuple[float, float] | None:
    """sheet.timeout: read seconds, or [connect, read] seconds, for every Sheets request."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    ok = 1 <= len(items) <= 2 and all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 3600 for v in items
    )
    if not ok:
        raise ConfigError(
            f"{path}: sheet.timeout must be seconds (read) or [connect, read], each 0-3600"
        )
    seconds = [float(v) for v in items]
    return (seconds[0], seconds[-1]) if len(seconds) == 2 else (min(10.0, seconds[0]), seconds[0])


def _folder(path: Path, data: Mapping[str, Any], key: str) -> Path:
    value = data.get(key, key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: '{key}' must be a folder name")
    folder = (path.parent / Path(value).expanduser()).resolve()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{path}: '{key}' names {folder}, which is not a folder")
    return folder


def open_project(
    explicit: str | os.PathLike[str] | None = None, start: Path | None = None
) -> Project:
    return load_project(find_project_file(start, explicit))
