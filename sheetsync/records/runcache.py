"""Run folders read once and kept: each folder's parsed run and eval results, stored under the
project's `.sheetsync/` folder and reused only while every file they came from has the same
(mtime_ns, size). Safe to delete; a folder whose files changed is read again.

A value kept with a folder may name the files it was computed from (`files`): it then
outlives changes to the folder's other files. A run whose results.json moved keeps its parsed
config and its eval results; a value that names none (the default) goes with any change.

A sync of 10,000 runs would otherwise parse 10,000 configs and 30,000 JSON files every time.

The stored form is data, never code (a teammate who can write the project folder must not be
able to run code in your sync): a first line naming the format, then one line per folder,
`<folder as JSON>\t<stamp as JSON>\t<values as JSON>`, each folder's values parsed only when
that folder is asked for. A file that is not this format, or a folder's line or value that
does not parse or has the wrong shape, is dropped and read again from the folder.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from sheetsync.records.atomic import write_atomic
from sheetsync.records.configs import CONFIG_NAMES
from sheetsync.records.evals import EVAL_DIRS, NATIVE
from sheetsync.records.runs import LAUNCH_COPY, Launch, Progress, Results, Run, read_run

CACHE_FILE = Path(".sheetsync") / "runs.cache"
VERSION = 9  # 7: a finding keeps its checks-cell words (short); 8: and whether it is unsure;
# 9: a NaN or infinite loss (progress.json `loss`, results.json) is read as diverged
HEADER = json.dumps({"sheetsync run cache": VERSION})
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
_CONFIG = ("run config",)  # the memo key of the parsed config

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
    for key, held in memo.items():
        files = _files_of(held)
        if files and _part(before, files) == _part(now, files):
            out[key] = held
    return out


def _files_of(held: Any) -> list[str] | None:
    """The files a kept [files, value] pair names; None for none, or for a damaged pair."""
    if not (isinstance(held, list) and len(held) == 2 and isinstance(held[0], list)):
        return None
    files = held[0]
    return files if all(isinstance(f, str) for f in files) else None


def _pack(run: Run) -> list[Any]:
    """A run's progress, results and launch facts (its config is kept once, as the memo's
    `_CONFIG`; its paths are rebuilt from the folder)."""
    return [list(vars(run.progress).values()), list(vars(run.results).values()),
            list(vars(run.launch).values())]  # fmt: skip


_CONFIG_KEY = repr(_CONFIG)
_SCALARS = frozenset((str, int, float, bool, type(None)))
_FIELDS = tuple(len(fields(kind)) for kind in (Progress, Results, Launch))


def _unpack(folder: Path, packed: Any, held: Any) -> Run | None:
    """The run a stored line holds (`held`: its kept config), or None when the line is not
    one `_pack` wrote."""
    if not (isinstance(packed, list) and len(packed) == 3 and _config_held(held)):
        return None
    config_name, config, fingerprint = held
    progress, results, launch = packed
    if not (
        all(isinstance(p, list) and len(p) == n for p, n in zip(packed, _FIELDS, strict=True))
        and set(map(type, progress + results + launch)) <= _SCALARS
    ):
        return None
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


def memo_key(key: Hashable) -> str:
    """A memo key as stored: its repr (keys are tuples of plain values, so it is stable)."""
    return key if isinstance(key, str) else repr(key)


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _stamp_text(stamp: Stamp) -> str:
    return _COMPACT(stamp)


def _stamp_of(text: str) -> Stamp | None:
    try:
        lines = json.loads(text)
        return tuple((str(n), int(m), int(s)) for n, m, s in lines)
    except (ValueError, TypeError):
        return None


def _slot_of(text: str) -> dict[str, Any] | None:
    """A folder's stored values, or None when they do not parse or have the wrong shape."""
    try:
        slot = json.loads(text)
    except ValueError:
        return None
    if not isinstance(slot, dict) or not isinstance(slot.get("memo"), dict):
        return None
    return slot  # each kept pair is checked where it is used (`memo`, `_carried`)


def _parse(text: str) -> dict[str, tuple[str, str]]:
    """The stored lines by folder (stamp and values still as text); {} for another format."""
    lines = text.split("\n")
    if lines[0] != HEADER:
        return {}
    stored = {}
    for line in lines[1:]:
        parts = line.split("\t", 2)
        if len(parts) != 3:
            continue
        name = parts[0]
        if "\\" in name and name[:1] == '"':
            try:
                key = json.loads(name)
            except ValueError:
                continue
        elif len(name) >= 2 and name[0] == name[-1] == '"':
            key = name[1:-1]  # JSON text of a name with nothing escaped
        else:
            continue
        if isinstance(key, str):
            stored[key] = (parts[1], parts[2])
    return stored


def _config_held(value: Any) -> bool:
    """A kept config as `run` stores it: [file name, mapping, fingerprint]."""
    return (
        isinstance(value, list)
        and len(value) == 3
        and value[0] in CONFIG_NAMES
        and isinstance(value[1], dict)
        and isinstance(value[2], str)
    )


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
    folder's values are stored as JSON on their own line, so a save encodes only the folders
    read anew and a load decodes only the folders asked for."""

    def __init__(self, path: Path | None = None, within: Sequence[Path] = ()):
        self.path = path
        self.within = tuple(within)  # folders a run's files must resolve into (the project's)
        self._stored: dict[str, tuple[str, str]] = {}  # folder -> (stamp, values) as JSON
        self._seen: dict[str, dict[str, Any] | None] = {}  # folders stamped by this command
        self._stamps: dict[str, Stamp] = {}
        self._changed: set[str] = set()
        self._dropped = False
        if path is not None and path.is_file():
            try:
                self._stored = _parse(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):  # unreadable or foreign: rewritten
                self._stored = {}

    @classmethod
    def for_project(cls, root: Path, within: Sequence[Path] = ()) -> RunCache:
        return cls(root / CACHE_FILE, within)

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
        if now is not None and held is not None and held[0] == _stamp_text(now):
            slot = _slot_of(held[1])
        if slot is None and now is not None:
            fresh = time.time_ns() - RECENT_NS
            if all(mtime <= fresh for _, mtime, _ in now):  # else too new to trust its mtime
                before = _slot_of(held[1]) if held is not None else None
                then = _stamp_of(held[0]) if held is not None else None
                memo = _carried(before["memo"], then, now) if before and then else {}
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
        held = slot["memo"].get(_CONFIG_KEY)
        if not (isinstance(held, list) and len(held) == 2 and _config_held(held[1])):
            held = None
        if "run" in slot and held is not None:
            kept = _unpack(folder, slot["run"], held[1])
            if kept is not None:
                return kept
        if held is None:
            run = read_run(folder, self.within)
            fingerprint = run.fingerprint
        else:
            name, config, fingerprint = held[1]
            run = read_run(folder, self.within, (name, config))
            run.__dict__["fingerprint"] = fingerprint  # the cached_property, as computed then
        config = [run.config_file.name, run.config, fingerprint]
        slot["memo"][_CONFIG_KEY] = [list(CONFIG_FILES), config]
        slot["run"] = _pack(run)
        self._changed.add(key)
        return run

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
        `compute`; the value must be plain data as JSON keeps it (a tuple comes back a list)."""
        where, slot = self._slot(folder)
        if slot is None:
            return compute()
        name = memo_key(key)
        held = slot["memo"].get(name)
        if not (isinstance(held, list) and len(held) == 2):  # none kept, or a damaged pair
            value = compute()
            slot["memo"][name] = [None if files is None else list(files), value]
            self._changed.add(where)
            return value
        return held[1]

    def save(self) -> None:
        """Write the cache if anything was read anew; a failure to write is not an error."""
        if self.path is None or not (self._changed or self._dropped):
            return
        for key in self._changed:
            text = _COMPACT(self._seen[key])
            self._stored[key] = (_stamp_text(self._stamps[key]), text)
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        lines = [HEADER, *(f"{dumps(k)}\t{s}\t{v}" for k, (s, v) in self._stored.items())]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, "\n".join(lines))
            self._changed.clear()
            self._dropped = False
        except OSError:
            pass
