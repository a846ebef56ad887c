"""Run folders read once and kept: each folder's parsed run and eval results, stored under the
project's `.sheetsync/` folder and reused only while every file they came from has the same
(mtime_ns, size). Safe to delete; a folder whose files changed is read again.

A value kept with a folder may name the files it was computed from (`files`): it then
outlives changes to the folder's other files. A run whose results.json moved keeps its parsed
config and its eval results; a value that names none (the default) goes with any change.

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
VERSION = 5
RECENT_NS = 2_000_000_000  # files written this recently may change again within one mtime tick
_FILES = frozenset(
    (*CONFIG_NAMES, "progress.json", "results.json", "launch.json", NATIVE, LAUNCH_COPY)
)
_EVAL_DIRS = frozenset(EVAL_DIRS)
# what a value kept with a folder may name as the files it comes from (a name ending in "/":
# that folder and everything under it)
CONFIG_FILES = CONFIG_NAMES
LAUNCH_FILES = (*CONFIG_NAMES, "launch.json", LAUNCH_COPY)  # the config and the launch facts
EVAL_FILES = (NATIVE, *(f"{name}/" for name in EVAL_DIRS))
_CONFIG = ("run config",)  # the memo keys of the parsed config and the eval results
_EVALS = ("run evals",)

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
    """Name, mtime_ns and size of every file reading the folder may read, by name; None when
    the folder cannot be listed (then nothing is cached for it)."""
    out: list[tuple[str, int, int]] = []
    dirs = []
    try:
        with os.scandir(folder) as it:
            for e in it:
                name = e.name
                if name in _FILES:
                    st = e.stat()
                    out.append((name, st.st_mtime_ns, st.st_size))
                elif name in _EVAL_DIRS and e.is_dir() and not e.is_symlink():
                    dirs.append(name)
        out.sort()
        for name in sorted(dirs):
            out.append((name + "/", 0, 0))
            _walk(os.path.join(folder, name), name + "/", out)
    except OSError:
        return None
    return tuple(out)


def _part(stamp: Stamp, files: Sequence[str]) -> Stamp:
    """The lines of `stamp` about `files` (a name ending in "/": everything under it)."""
    under = tuple(f for f in files if f.endswith("/"))
    return tuple(line for line in stamp if line[0] in files or line[0].startswith(under))


def _carried(memo: dict[Hashable, Any], before: Stamp, now: Stamp) -> dict[Hashable, Any]:
    """The kept values whose own files are as they were (the folder's others changed)."""
    out = {}
    for key, (files, value) in memo.items():
        if files is not None and _part(before, files) == _part(now, files):
            out[key] = (files, value)
    return out


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

    def _load(self, blob: bytes) -> dict[str, Any] | None:
        try:
            slot = pickle.loads(blob)
        except Exception:  # one damaged entry: read the folder again
            return None
        return slot if isinstance(slot, dict) and isinstance(slot.get("memo"), dict) else None

    def _slot(self, folder: Path) -> tuple[str, dict[str, Any] | None]:
        """The folder's key and cached values (stamped once per command); None: do not cache.

        Values: "run" (the parsed run, while no file changed) and "memo" (key -> (files,
        value)), which keeps across a change the values whose own `files` did not change."""
        key = str(folder if folder.is_absolute() else folder.absolute())
        if key in self._seen:
            return key, self._seen[key]
        now = stamp(folder)
        held = self._stored.get(key)
        slot: dict[str, Any] | None = None
        if now is not None and held is not None and held[0] == now:
            slot = self._load(held[1])
        if slot is None and now is not None:
            fresh = time.time_ns() - RECENT_NS
            if all(mtime <= fresh for _, mtime, _ in now):  # else too new to trust its mtime
                before = self._load(held[1]) if held is not None else None
                memo = _carried(before["memo"], held[0], now) if before and held else {}
                slot = {"memo": memo}
                self._changed.add(key)
        if slot is not None and now is not None:
            self._stamps[key] = now
        elif key in self._stored:
            del self._stored[key]
            self._dropped = True
        self._seen[key] = slot
        return key, slot

    def run(self, folder: Path) -> Run:
        """`read_run(folder)`, from the cache while its files are unchanged (its config, while
        the config is)."""
        key, slot = self._slot(folder)
        if slot is None:
            return read_run(folder, self.within)
        if "run" in slot:
            return _unpack(folder, slot["run"])
        held = slot["memo"].get(_CONFIG)
        if held is None:
            run = read_run(folder, self.within)
            fingerprint = run.fingerprint
        else:
            name, config, fingerprint = held[1]
            run = read_run(folder, self.within, (name, config))
            run.__dict__["fingerprint"] = fingerprint  # the cached_property, as computed then
        slot["memo"][_CONFIG] = (CONFIG_FILES, (run.config_file.name, run.config, fingerprint))
        slot["run"] = _pack(run)
        self._changed.add(key)
        return run

    def evals(self, folder: Path) -> RawEvals:
        """`read_raw(folder)`, from the cache while its eval files are unchanged."""
        return self.memo(folder, _EVALS, lambda: read_raw(folder), EVAL_FILES)

    def memo(
        self,
        folder: Path,
        key: Hashable,
        compute: Callable[[], T],
        files: Sequence[str] | None = None,
    ) -> T:
        """`compute()`, kept with the folder under `key` while its files are unchanged: all of
        them, or only `files` when it names the files `compute` reads of the folder (a name
        ending in "/": everything under that folder). The key must name every other input of
        `compute`; the value must be plain data (it is pickled)."""
        where, slot = self._slot(folder)
        if slot is None:
            return compute()
        held = slot["memo"].get(key)
        if held is None:
            value = compute()
            slot["memo"][key] = (None if files is None else tuple(files), value)
            self._changed.add(where)
            return value
        return held[1]

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
