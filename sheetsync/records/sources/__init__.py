"""Where a project's runs come from: native folders (local or on object storage) or a tracker
(W&B, MLflow, TensorBoard). Every source yields the same `records.runs.Run`.

The source is chosen by `runs:` in sheetsync.yaml (see `spec.py`); the readers of optional
libraries are imported only when a project uses them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Protocol

from sheetsync.errors import ConfigError, RunError
from sheetsync.records.runs import Run
from sheetsync.records.sources.spec import SourceSpec, parse_runs_setting

__all__ = [
    "Access",
    "RunSource",
    "RunsRead",
    "SourceSpec",
    "open_source",
    "parse_runs_setting",
    "read_each",
    "require",
]


@dataclass(frozen=True)
class Access:
    """How the project lets a source reach run folders: where they are kept, how a run id or
    a folder named on the command line becomes a folder, and how a folder is read (confined
    to the project's folders)."""

    home: Path
    run_dir: Callable[[str], Path]
    run_folder: Callable[[str | Path], Path]
    read: Callable[[Path], Run]


@dataclass(frozen=True)
class RunsRead:
    """What `RunSource.read_runs` found: the runs read (in the order asked), the ids the source
    does not have, and the runs whose files are malformed (id -> its one-line error; kept
    only when asked, else the error is raised)."""

    runs: tuple[Run, ...] = ()
    missing: tuple[str, ...] = ()
    broken: Mapping[str, RunError] = field(default_factory=dict)


class RunSource(Protocol):
    kind: str

    def describe(self) -> str: ...

    def read_runs(self, run_ids: Sequence[str], *, keep_broken: bool = False) -> RunsRead:
        """The runs with these ids, in this order, and the ids the source does not have. With
        `keep_broken`, a run whose files are malformed is returned in `broken` (its one-line
        error) and the others are read; without, its error is raised."""
        ...

    def run_id(self, ref: str | Path) -> str:
        """The id of a run named on the command line (its id, or a path ending in it)."""
        ...

    def read(self, ref: str | Path) -> Run:
        """One run by its id (a path's last part), for `add` and `sync RUN`."""
        ...

    def folder(self, ref: str | Path) -> Path:
        """The folder a named run's records are kept in (a tracker's brought up to date), for
        what reads its files rather than the run (`evals`, `add --restore`)."""
        ...

    def refresh(self, run_ids: Sequence[str]) -> None:
        """Bring these runs' folders under `Project.runs_dir` up to date."""
        ...


def read_each(reads: Iterable[tuple[str, Callable[[], Run] | None]], keep_broken: bool) -> RunsRead:
    """Each run id with how to read it (None: the source does not have it) read in turn; a
    run whose files are malformed is kept aside with `keep_broken`, else its error is raised
    (`RunSource.read_runs`)."""
    runs: list[Run] = []
    missing: list[str] = []
    broken: dict[str, RunError] = {}
    for run_id, read in reads:
        if read is None:
            missing.append(run_id)
            continue
        try:
            runs.append(read())
        except RunError as exc:
            if not keep_broken:
                raise
            broken[run_id] = exc
    return RunsRead(tuple(runs), tuple(missing), broken)


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import an optional library; its absence is one line naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(
            f"{what} needs the {module.split('.')[0]!r} package: pip install 'sheetsync[{extra}]'"
        ) from None


def open_source(spec: SourceSpec, access: Access) -> RunSource:
    """The reader for a project's `runs:` setting; `access.home` holds the native folders."""
    if spec.kind == "folder":
        from sheetsync.records.sources.folder import FolderSource

        return FolderSource(access)
    if spec.kind == "wandb":
        from sheetsync.records.sources.wandb import WandbSource

        return WandbSource(spec, access)
    if spec.kind == "mlflow":
        from sheetsync.records.sources.mlflow import MlflowSource

        return MlflowSource(spec, access)
    if spec.kind == "tensorboard":
        from sheetsync.records.sources.tensorboard import TensorboardSource

        return TensorboardSource(spec, access)
    from sheetsync.records.sources.objectstore import ObjectStoreSource

    return ObjectStoreSource(spec, access)
