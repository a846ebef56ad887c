"""Run folders read once and kept: each folder's parsed run and eval results, stored under the
project's `.sheetsync/` folder and reused only while every file they came from has the same
(mtime_ns, size). Safe to delete; a folder whose files changed is read again.

A sync of 10,000 runs would otherwise parse 10,000 configs and 30,000 JSON files every time.
The stored form is pickle: the file is as trusted as the project folder it sits in.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sheetsync.records.configs import CONFIG_NAMES
from sheetsync.records.evals import EVAL_DIRS, NATIVE, RawEvals, read_raw
from sheetsync.records.runs import LAUNCH_COPY, Launch, Progress, Results, Run, read_run

CACHE_FILE = Path(".sheetsync") / "runs.cache"
VERSION = 4
RECENT_NS = 2_000_000_000  # files written this recently may change again within one mtime tick
_FILES = (*CONFIG_NAMES, "progress.json", "results.json", "launch.json", NATIVE, LAUNCH_COPY)

Stamp = tuple[tuple[str, int, int], ...]
T = TypeVar("T")


def _walk(folder: str, prefix: str, out: list[tuple[str, int, int]]) -> None:
    """Every JSON file under an eval folder, as eval_files finds them (symlinked folders
    not followed)."""
    with os.scandir(folder) as entries:
        for e in sorted(entries, key=lambda e: e.name):
            if e.is_dir(follow_symlinks=True) and not e.is_symlink():
                _walk(e.path, f"{prefix}{e.name}/", out)
            elif e.name.endswith(".json"):
                with contextlib.suppress(OSError):
                    st = e.stat()
                    out.append((prefix + e.name, st.st_mtime_ns, st.st_size))


def stamp(folder: Path) -> Stamp | None:
    """Name, mtime_ns and size of every file reading the folder may read; None when the
    folder cannot be listed (then nothing is cached for it)."""
    try:
        with os.scandir(folder) as it:
            entries = {e.name: e for e in it}
        out: list[tuple[str, int, int]] = []
        for name in _FILES:
            e = entries.get(name)
            if e is not None:
                st = e.stat()
                out.append((name, st.st_mtime_ns, st.st_size))
        for name in EVAL_DIRS:
            e = entries.get(name)
            if e is not None and e.is_dir() and not e.is_symlink():
                out.append((name + "/", 0, 0))
                _walk(e.path, name + "/", out)
    except OSError:
        return None
    return tuple(out)


def _pack(run: Run) -> tuple[Any, ...]:
    """A run without its paths (rebuilt from the folder: unpickling paths is slow)."""
    parts = (tuple(vars(run.progress).values()), tuple(vars(run.results).values()),
             tuple(vars(run.launch).values()))  # fmt: skip
    return (run.config_file.name, run.config, *parts, run.fingerprint)


def _unpack(folder: Path, packed: tuple[Any, ...]) -> Run:
    config_name, config, progress, results, launch, fingerprint = packed
    run = Run(
        folder.name,
        folder,
        config,
        folder / config_name,
        Progress(*progress),
        Results(*results),
        Launch(*launch),
    )
    run.__dict__["fingerprint"] = fingerprint  # the cached_property, as computed when read
    return run


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off for one bulk command (a sync or check of many runs): it
    would otherwise walk every cached run again and again as they are loaded (20-40% of a
    10,000-run sync). Reference counting still frees everything; cycles wait until after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class RunCache:
    """Parsed run folders by absolute path; `save()` writes what changed (atomically). Each
    folder's values are stored pickled on their own, so a save re-pickles only the folders
    read anew and a load unpickles only the folders asked for."""

    def __init__(self, path: Path | None = None, within: Sequence[Path] = ()):
        self.path = path
        self.within = tuple(within)  # folders a run's files must resolve into (the project's)
        self._stored: dict[str, tuple[Stamp, bytes]] = {}
        self._seen: dict[str, dict[str, Any] | None] = {}  # folders stamped by this command
        self._stamps: dict[str, Stamp] = {}
        self._changed: set[str] = set()
        self._dropped = False
        if path is not None and path.is_file():
            try:
                with open(path, "rb") as fh:
                    version, stored = pickle.load(fh)
                if version == VERSION and isinstance(stored, dict):
                    self._stored = stored
            except Exception:  # a damaged or foreign cache is ignored and rewritten
                self._stored = {}

    @classmethod
    def for_project(cls, root: Path, within: Sequence[Path] = ()) -> RunCache:
        return cls(root / CACHE_FILE, within)

    def _slot(self, folder: Path) -> tuple[str, dict[str, Any] | None]:
        """The folder's key and cached values (stamped once per command); None: do not cache."""
        key = str(folder if folder.is_absolute() else folder.absolute())
        if key in self._seen:
            return key, self._seen[key]
        now = stamp(folder)
        held = self._stored.get(key)
        slot: dict[str, Any] | None = None
        if now is not None and held is not None and held[0] == now:
            try:
                slot = pickle.loads(held[1])
            except Exception:  # one damaged entry: read the folder again
                slot = None
        if slot is None and now is not None:
            fresh = time.time_ns() - RECENT_NS
            if all(mtime <= fresh for _, mtime, _ in now):  # else too new to trust its mtime
                slot = {}
                self._changed.add(key)
        if slot is not None and now is not None:
            self._stamps[key] = now
        elif key in self._stored:
            del self._stored[key]
            self._dropped = True
        self._seen[key] = slot
        return key, slot

    def run(self, folder: Path) -> Run:
        """`read_run(folder)`, from the cache while its files are unchanged."""
        key, slot = self._slot(folder)
        if slot is None:
            return read_run(folder, self.within)
        if "run" in slot:
            return _unpack(folder, slot["run"])
        run = read_run(folder, self.within)
        slot["run"] = _pack(run)
        self._changed.add(key)
        return run

    def evals(self, folder: Path) -> RawEvals:
        """`read_raw(folder)`, from the cache while its files are unchanged."""
        key, slot = self._slot(folder)
        if slot is None:
            return read_raw(folder)
        if "evals" not in slot:
            slot["evals"] = read_raw(folder)
            self._changed.add(key)
        return slot["evals"]

    def memo(self, folder: Path, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()`, kept with the folder under `key` while its files are unchanged. The key
        must name every other input of `compute`; the value must be plain data (it is
        pickled)."""
        where, slot = self._slot(folder)
        if slot is None:
            return compute()
        memo = slot.setdefault("memo", {})
        if key not in memo:
            memo[key] = compute()
            self._changed.add(where)
        return memo[key]

    def save(self) -> None:
        """Write the cache if anything was read anew; a failure to write is not an error."""
        if self.path is None or not (self._changed or self._dropped):
            return
        for key in self._changed:
            blob = pickle.dumps(self._seen[key], protocol=pickle.HIGHEST_PROTOCOL)
            self._stored[key] = (self._stamps[key], blob)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                pickle.dump((VERSION, self._stored), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
            self._changed.clear()
            self._dropped = False
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
