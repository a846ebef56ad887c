"""Names people and trainers give things: run ids are names, never paths; text cells are one
line. One rule, applied wherever a run id comes in (a command's argument, a run folder's name,
a cell of the sheet's run column)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sheetsync.errors import SheetsyncError
from sheetsync.vocab import Value

RUN_ID_MAX = 128
RUN_ID_RULE = (
    "letters, digits and . _ - + =, starting with a letter or digit, "
    f"at most {RUN_ID_MAX} characters"
)
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+=-]*")
_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+=-")


def run_id_problem(text: str) -> str | None:
    """Why `text` is not a run id (a few words), or None when it is one."""
    if not text:
        return "is empty"
    if text != text.strip():
        return "has leading or trailing spaces"
    if len(text) > RUN_ID_MAX:
        return f"is {len(text):,} characters long"
    if "/" in text or "\\" in text:
        return "is a path, not a name"
    if _RUN_ID.fullmatch(text):
        return None
    if text[0] not in _ALLOWED or not text[0].isalnum():
        return f"starts with {text[0]!r}"
    bad = next(ch for ch in text if ch not in _ALLOWED)
    return f"holds {bad!r}"


def shown(text: str, width: int = 60) -> str:
    """Text quoted for a message: repr (so control characters show) and cut to `width`."""
    return repr(text[:width] + "…") if len(text) > width else repr(text)


def check_run_id(text: str, where: str, error: type[Exception]) -> str:
    """`text` if it is a run id, else a one-line `error` naming `where` and the rule."""
    problem = run_id_problem(text)
    if problem is not None:
        message = f"{where}: run id {shown(text)} {problem} (a run id is {RUN_ID_RULE})"
        if issubclass(error, SheetsyncError):
            raise error(message, rule="run id")
        raise error(message)
    return text


def one_line(text: str) -> str:
    """Text as one line: each run of spaces, tabs and line breaks becomes one space (other
    control characters are left for the sheet's own check to refuse)."""
    return _BREAKS.sub(" ", text).strip(" ")


_BREAKS = re.compile(r"[ \t\r\n\v\f]+")


class BaselineRef(str):
    """`NAME@YYYY-MM-DD`: one baseline word as of one date, written one way everywhere (a
    dated baseline's name, a run row's `baseline` and `baseline_date` cells). A str, so it
    compares, keys and prints as its text."""

    __slots__ = ()

    @classmethod
    def of(cls, name: object, date: object) -> BaselineRef:
        return cls(f"{name}@{date}")

    @classmethod
    def of_row(cls, row: Mapping[str, Value]) -> BaselineRef:
        """The dated baseline a run's row names."""
        return cls.of(row.get("baseline"), row.get("baseline_date"))

    @property
    def name(self) -> str:
        return self.rpartition("@")[0]

    @property
    def date(self) -> str:
        return self.rpartition("@")[2]
