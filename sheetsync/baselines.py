"""Dated baselines: `NAME@YYYY-MM-DD.yaml` configs in a folder. One baseline word, one meaning."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.configs import fingerprint, load_mapping
from sheetsync.errors import BaselineError

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
        return load_mapping(self.path, BaselineError)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.config())


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

    def all(self) -> list[Baseline]:
        if not self.folder.is_dir():
            return []
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
