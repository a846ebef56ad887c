"""Dated baselines: `NAME@YYYY-MM-DD.yaml` configs in a folder. One baseline word, one meaning."""

from __future__ import annotations

import datetime as dt
import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.errors import BaselineError
from sheetsync.records.configs import diff, fingerprint, format_changes, load_mapping
from sheetsync.records.git import who

_FILE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)@(?P<date>\d{4}-\d{2}-\d{2})\.(ya?ml|json)$"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Baseline:
    """A named config as of a date: `4b-moe@2026-06-01`."""

    name: str
    date: dt.date
    path: Path

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.date.isoformat()}"

    def config(self) -> dict[str, Any]:
        """The baseline's config (read once per file version; callers must not mutate it)."""
        try:
            st = self.path.stat()
        except OSError:
            return load_mapping(self.path, BaselineError)
        return _cached_config(self.path, st.st_mtime_ns, st.st_size)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.config())


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
    if not _NAME.match(name):
        raise BaselineError(
            f"baseline name {name!r} must be letters, digits, '.', '_' or '-' (e.g. 4b-moe)"
        )
    return name, parse_date(date, f"baseline {ref!r}: date") if date else None


class Registry:
    """The baselines folder: every dated config, grouped by name."""

    def __init__(self, folder: Path):
        self.folder = folder
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
            m = _FILE.match(path.name)
            if not m:
                continue
            date = parse_date(m["date"], f"{path}: date")
            key = (m["name"], date)
            if key in found:
                raise BaselineError(
                    f"{path}: {m['name']}@{m['date']} also exists as {found[key].path.name}; "
                    "keep one file"
                )
            found[key] = Baseline(m["name"], date, path)
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
    """A dated baseline about to be registered: its file to copy and its Baselines-tab row."""

    baseline: Baseline
    source: Path
    row: dict[str, str]

    def save(self) -> None:
        """Copy the config into the baselines folder (atomically: temp file, then rename)."""
        target = self.baseline.path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(self.source, tmp)
        tmp.replace(target)


def new_baseline(
    registry: Registry,
    name: str,
    config_file: Path,
    date: dt.date | None = None,
    note: str | None = None,
    backfill: bool = False,
    person: str | None = None,
) -> NewBaseline:
    """Validate a new dated baseline and compute its row; writes nothing.

    Refuses a date that exists, a date older than the newest (unless `backfill`), and a config
    whose fingerprint equals the previous date's (nothing changed).
    """
    split_ref(name)  # validates the name
    date = date or dt.date.today()
    config = load_mapping(Path(config_file), BaselineError)
    history = registry.history(name)
    ref = f"{name}@{date.isoformat()}"
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
    suffix = ".json" if Path(config_file).suffix == ".json" else ".yaml"
    target = registry.folder / f"{ref}{suffix}"
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    tier = config.get("tier") or model.get("name") or model.get("size") or ""
    row = {
        "baseline": ref,
        "name": name,
        "date": date.isoformat(),
        "fingerprint": fingerprint(config),
        "tier": str(tier),
        "changes": changes or "(none)",
        "added_by": person or who(),
        "note": note or "",
    }
    return NewBaseline(Baseline(name, date, target), Path(config_file), row)
