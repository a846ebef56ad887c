"""Dated baselines: `NAME@YYYY-MM-DD.yaml` configs in a folder. One baseline word, one meaning."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sheetsync.errors import BaselineError
from sheetsync.records.configs import diff, fingerprint, format_changes, load_mapping, parse_mapping
from sheetsync.records.files import (
    MAX_CONFIG_BYTES,
    confine,
    put_in_place,
    read_bytes,
    read_text,
    staged,
)
from sheetsync.records.git import head, repo_root, resolve_commit, who
from sheetsync.records.names import BaselineRef, one_line, shown

_FILE = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,127})@(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})\.(ya?ml|json)"
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SHA = re.compile(r"[0-9a-f]{7,40}")
COMMIT_SUFFIX = ".commit"  # beside NAME@DATE.yaml: the code commit the baseline was trained with


@dataclass(frozen=True)
class Baseline:
    """A named config as of a date: `4b-moe@2026-06-01`."""

    name: str
    date: dt.date
    path: Path
    within: tuple[Path, ...] = field(default=(), compare=False, repr=False)

    @property
    def ref(self) -> str:
        return BaselineRef.of(self.name, self.date.isoformat())

    def config(self) -> dict[str, Any]:
        """The baseline's config (read once per file version; callers must not mutate it)."""
        confine(self.path, self.within, BaselineError)
        try:
            st = self.path.stat()
        except OSError:
            return load_mapping(self.path, BaselineError)
        return _cached_config(self.path, st.st_mtime_ns, st.st_size)

    def text(self) -> str:
        """The baseline file as written (bounded, inside the project's folders)."""
        confine(self.path, self.within, BaselineError)
        return read_text(self.path, BaselineError, MAX_CONFIG_BYTES, "a config")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.config())

    @property
    def commit_file(self) -> Path:
        return self.path.with_suffix(COMMIT_SUFFIX)

    def commit(self) -> str | None:
        """The code commit the baseline was trained with (`baseline add` records it beside
        the config), or None when none was recorded or the file is not a commit hash."""
        try:
            text = read_text(self.commit_file, BaselineError, 1000, "a commit")
        except BaselineError:
            return None
        sha = text.strip().lower()
        return sha if _SHA.fullmatch(sha) else None


@functools.lru_cache(maxsize=256)
def _cached_config(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    return load_mapping(path, BaselineError)


def parse_date(text: str, what: str = "date") -> dt.date:
    """A YYYY-MM-DD date, or a one-line error."""
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise BaselineError(f"{what} {text!r} is not a date of the form YYYY-MM-DD") from None


def split_ref(ref: str) -> tuple[str, dt.date | None]:
    """'NAME' or 'NAME@YYYY-MM-DD' -> (name, date or None)."""
    name, _, date = ref.strip().partition("@")
    if not _NAME.fullmatch(name):
        raise BaselineError(
            f"baseline name {shown(name)} must be letters, digits, '.', '_' or '-', starting "
            "with a letter or digit, at most 128 characters (e.g. 4b-moe)"
        )
    return name, parse_date(date, f"baseline {ref!r}: date") if date else None


class Registry:
    """The baselines folder: every dated config, grouped by name."""

    def __init__(self, folder: Path, within: Sequence[Path] = ()):
        self.folder = folder
        self.within = tuple(within)
        self._listed: tuple[int, list[Baseline]] | None = None  # (folder mtime_ns, baselines)

    def all(self) -> list[Baseline]:
        try:
            mtime = self.folder.stat().st_mtime_ns
        except OSError:
            return []
        if not self.folder.is_dir():
            return []
        if self._listed is not None and self._listed[0] == mtime:
            return list(self._listed[1])  # a file added, removed or renamed changes the mtime
        baselines = self._list()
        self._listed = (mtime, baselines)
        return list(baselines)

    def _list(self) -> list[Baseline]:
        found: dict[tuple[str, dt.date], Baseline] = {}
        for path in sorted(self.folder.iterdir()):
            m = _FILE.fullmatch(path.name)
            if not m:
                continue
            date = parse_date(m["date"], f"{path}: date")
            key = (m["name"], date)
            if key in found:
                raise BaselineError(
                    f"{path}: {m['name']}@{m['date']} also exists as {found[key].path.name}; "
                    "keep one file"
                )
            found[key] = Baseline(m["name"], date, path, self.within)
        return sorted(found.values(), key=lambda b: (b.name, b.date))

    def history(self, name: str) -> list[Baseline]:
        return [b for b in self.all() if b.name == name]

    def names(self) -> list[str]:
        return sorted({b.name for b in self.all()})

    def resolve(self, ref: str) -> Baseline:
        """'NAME' -> the newest date; 'NAME@DATE' -> exactly that one."""
        name, date = split_ref(ref)
        history = self.history(name)
        if not history:
            known = ", ".join(self.names()) or "none yet"
            raise BaselineError(
                f"unknown baseline {name!r} in {self.folder} (known: {known}); "
                "add one with `sheetsync baseline add`"
            )
        if date is None:
            return history[-1]
        for baseline in history:
            if baseline.date == date:
                return baseline
        dates = ", ".join(b.date.isoformat() for b in history)
        raise BaselineError(f"baseline {name!r} has no date {date} (dates: {dates})")

    def newer_than(self, baseline: Baseline) -> Baseline | None:
        """The newest date of the same baseline, if newer than this one."""
        history = self.history(baseline.name)
        return history[-1] if history and history[-1].date > baseline.date else None

    def previous(self, baseline: Baseline) -> Baseline | None:
        """The date of the same baseline just before this one."""
        earlier = [b for b in self.history(baseline.name) if b.date < baseline.date]
        return earlier[-1] if earlier else None


@dataclass(frozen=True)
class NewBaseline:
    """A dated baseline about to be registered: its file's content and its Baselines-tab row."""

    baseline: Baseline
    content: bytes
    row: dict[str, str]
    code: str | None = None  # the code commit it was trained with

    def files(self) -> dict[Path, bytes]:
        out = {self.baseline.path: self.content}
        if self.code:
            out[self.baseline.commit_file] = f"{self.code}\n".encode()
        return out

    def stage(self) -> list[Path]:
        """Write the files under temp names in the baselines folder (proving they can be
        written) before the tab row; `put_in_place` renames them into place."""
        folder = self.baseline.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BaselineError(f"{folder}: cannot create the baselines folder ({exc})") from None
        return [staged(path, data, BaselineError) for path, data in self.files().items()]

    def put_in_place(self, temps: Sequence[Path]) -> None:
        for tmp, path in zip(temps, self.files(), strict=True):
            put_in_place(tmp, path)


def code_commit(config_file: Path, given: str | None) -> str | None:
    """The commit of the code a baseline was trained with: `given` (resolved to a full hash
    when the config's repository knows it), else the HEAD of the git repository holding the
    config when its tracked files are clean; refused when they are not."""
    folder = Path(config_file).resolve().parent
    repo = repo_root(folder)
    if given is not None:
        full = resolve_commit(repo, given.strip()) if repo is not None else None
        if full:
            return full
        if _SHA.fullmatch(given.strip().lower()):
            return given.strip().lower()
        where = f"the repository {repo}" if repo else "no git repository here"
        raise BaselineError(
            f"--commit {shown(given)}: not a commit ({where} does not know it); give its hash"
        )
    found = head(folder)
    if found is None:
        return None
    sha, dirty = found
    if dirty:
        raise BaselineError(
            f"{config_file}: the git repository {repo} has uncommitted changes, so its HEAD is "
            "not the code this baseline was trained with; commit them, or name that code "
            "with --commit HASH"
        )
    return sha


def new_baseline(
    registry: Registry,
    name: str,
    config_file: Path,
    date: dt.date | None = None,
    note: str | None = None,
    backfill: bool = False,
    person: str | None = None,
    code: str | None = None,
) -> NewBaseline:
    """Validate a new dated baseline and compute its row and file; writes nothing.

    Refuses a name holding a date (`b@2026-01-01`: the date goes in --date), a date that
    exists, a date older than the newest (unless `backfill`), and a config whose fingerprint
    equals the previous date's (nothing changed).
    """
    if "@" in name:
        bare, _, when = name.partition("@")
        raise BaselineError(
            f"baseline name {shown(name)} holds '@': give the name alone and the date as "
            f"--date (`{bare[:60]} --date {when[:20]}`)"
        )
    split_ref(name)  # validates the name
    if registry.folder.exists() and not registry.folder.is_dir():
        raise BaselineError(f"{registry.folder}: the baselines folder is a file, not a folder")
    date = date or dt.date.today()
    config_file = Path(config_file)
    suffix = ".json" if config_file.suffix == ".json" else ".yaml"
    content = read_bytes(config_file, MAX_CONFIG_BYTES, "a config", BaselineError)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BaselineError(
            f"{config_file}: not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    config = parse_mapping(text, config_file, BaselineError)
    code = code_commit(config_file, code)
    history = registry.history(name)
    ref = BaselineRef.of(name, date.isoformat())
    if any(b.date == date for b in history):
        raise BaselineError(f"baseline {ref} already exists; baselines are never redefined")
    if history and date < history[-1].date and not backfill:
        raise BaselineError(
            f"{ref} is older than the newest date {history[-1].ref}; pass --backfill to add it"
        )
    before = [b for b in history if b.date < date]
    previous = before[-1] if before else None
    if previous is not None and fingerprint(previous.config()) == fingerprint(config):
        raise BaselineError(
            f"{config_file}: same config as {previous.ref} (fingerprint "
            f"{fingerprint(config)}); nothing changed, so no new date"
        )
    changes = format_changes(diff(previous.config(), config)) if previous else "(first date)"
    target = registry.folder / f"{ref}{suffix}"
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    tier = config.get("tier") or model.get("name") or model.get("size") or ""
    row = {
        "baseline": ref,
        "name": name,
        "date": date.isoformat(),
        "fingerprint": fingerprint(config),
        "tier": one_line(str(tier)),
        "changes": changes or "(none)",
        "added_by": one_line(person or who()),
        "note": one_line(note or ""),
        "commit": code[:12] if code else "",
    }
    return NewBaseline(Baseline(name, date, target, registry.within), content, row, code)
