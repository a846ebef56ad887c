"""Runs of a tracker, kept as native run folders under the project (`.sheetsync/runs/<id>/`).

A reader turns each tracker run into the native records (config, progress, results, launch
facts), checked with messages that name the tracker's file and key; they are written into a
folder of their own so that everything downstream (checks, evals, gains, `add`'s launch copy)
reads one format. A run is read again only when its tracker stamp changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import RunError
from sheetsync.records.names import run_id_problem
from sheetsync.records.runlog import write_atomic, write_json_atomic
from sheetsync.records.runs import Run
from sheetsync.records.sources import RunsRead, read_each
from sheetsync.records.sources.fields import Found, Native, to_native
from sheetsync.records.sources.spec import SourceSpec

if TYPE_CHECKING:
    from sheetsync.records.sources import Access

MANIFEST = ".sheetsync-source.json"
RECORD_FILES = ("config.yaml", "progress.json", "results.json", "launch.json")


def usable_id(name: str) -> str | None:
    """Why a tracker's run name cannot be a run id (a folder name and a sheet key), or None."""
    return run_id_problem(name)


def write_native(folder: Path, native: Native, manifest: Mapping[str, Any]) -> None:
    """Write the run's records, each file only if its content changed; the manifest last."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "config.yaml": yaml.safe_dump(native.config, sort_keys=False, allow_unicode=True),
        "progress.json": json.dumps(native.progress, indent=2) + "\n",
        "results.json": json.dumps(native.results, indent=2) + "\n" if native.results else None,
        "launch.json": json.dumps(native.launch, indent=2) + "\n" if native.launch else None,
    }
    for name, text in texts.items():
        path = folder / name
        if text is None:
            path.unlink(missing_ok=True)
        elif not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
    write_json_atomic(folder / MANIFEST, manifest)


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class TrackerSource:
    """Base of the tracker readers: `discover` lists runs, `found` reads one of them."""

    kind = "tracker"
    extra = ""

    def __init__(self, spec: SourceSpec, access: Access) -> None:
        self.spec = spec
        self.access = access
        self.home = access.home
        self.skipped: dict[str, str] = {}  # tracker run -> why it has no run id
        self._handles: dict[str, list[Any]] | None = None

    # --- what a reader provides --------------------------------------------------------

    def discover(self) -> list[tuple[str, Any]]:
        """Every run as (run id, handle); a name that is no run id goes to `skipped`."""
        raise NotImplementedError

    def stamp(self, handle: Any) -> str | None:
        """A cheap fingerprint of the tracker run (None: read it every time)."""
        return None

    def found(self, handle: Any) -> Found:
        raise NotImplementedError

    def pick(self, run_id: str, handles: list[Any]) -> Any:
        """One of several tracker runs with the same id; by default, an error."""
        names = ", ".join(self.origin(h) for h in handles[:3])
        raise RunError(
            f"{self.describe()}: {len(handles)} runs are named {run_id!r} ({names}); "
            "give them distinct names, or map `run: id` in sheetsync.yaml"
        )

    def origin(self, handle: Any) -> str:
        return str(handle)

    def describe(self) -> str:
        return f"{self.kind} {self.spec.location}"

    # --- the source protocol -----------------------------------------------------------

    def handles(self) -> dict[str, list[Any]]:
        if self._handles is None:
            self._handles = {}
            for run_id, handle in self.discover():
                why = usable_id(run_id)
                if why:
                    self.skipped[self.origin(handle)] = f"name {run_id!r} {why}"
                    continue
                self._handles.setdefault(run_id, []).append(handle)
        return self._handles

    def run_ids(self) -> list[str]:
        return sorted(self.handles())

    def read_runs(self, run_ids: Sequence[str], *, keep_broken: bool = False) -> RunsRead:
        handles = self.handles()
        reads = (
            (rid, partial(self._materialise, rid, handles[rid]) if rid in handles else None)
            for rid in run_ids
        )
        return read_each(reads, keep_broken)

    def run_id(self, ref: str | Path) -> str:
        return Path(str(ref)).name

    def read(self, ref: str | Path) -> Run:
        run_id = self.run_id(ref)
        found = self.read_runs([run_id])
        if found.missing:
            known = ", ".join(self.run_ids()[:8]) or "none"
            raise RunError(f"{self.describe()}: no run named {run_id!r} (runs: {known})")
        return found.runs[0]

    def refresh(self, run_ids: Sequence[str]) -> None:
        self.read_runs(run_ids)

    def folder(self, ref: str | Path) -> Path:
        return self.read(ref).path

    def _materialise(self, run_id: str, handles: list[Any]) -> Run:
        handle = handles[0] if len(handles) == 1 else self.pick(run_id, handles)
        folder = self.home / run_id
        stamp = self.stamp(handle)
        origin = self.origin(handle)
        manifest = read_manifest(folder)
        fresh = (
            stamp is not None
            and manifest.get("stamp") == stamp
            and manifest.get("origin") == origin
            and (folder / "config.yaml").is_file()
        )
        if not fresh:
            found = self.found(handle)
            native = to_native(found, self.spec.fields)
            record = {"source": self.kind, "origin": origin, "stamp": stamp}
            # the run's signs of life, for `stalled` (records/liveness.py)
            record |= {"heartbeat": found.heartbeat, "damage": found.damage}
            if found.broken:
                record["broken"] = True
            write_native(folder, native, record)
        return self.access.read(folder)
