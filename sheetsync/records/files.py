"""Files read and written safely: regular files only, read up to a size limit, paths kept
inside the project's folders, and outputs whose folder is missing refused in one line.

A FIFO or a device (`/dev/zero`) is refused from its `stat`, without opening it, so a read
can neither block nor run forever; a file that grows while read stops at the limit.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from sheetsync.errors import RunError, UsageError, file_error
from sheetsync.records.atomic import discard as discard
from sheetsync.records.atomic import put_in_place as put_in_place  # re-exported: staged files
from sheetsync.records.atomic import stage, write_atomic

MAX_FILE_BYTES = 20_000_000  # any file sheetsync reads (eval results are the largest)
MAX_CONFIG_BYTES = 5_000_000  # a run's or a baseline's config, sheetsync.yaml, layout.yaml
MAX_RECORD_BYTES = 1_000_000  # progress.json, results.json, launch.json, the launch copy
MAX_CREDENTIALS_BYTES = 100_000  # a service-account or OAuth JSON is about 2,000 bytes

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _why(exc: OSError) -> str:
    return "a symlink loop" if exc.errno == errno.ELOOP else (exc.strerror or type(exc).__name__)


def read_bytes(
    path: Path,
    limit: int = MAX_FILE_BYTES,
    what: str = "sheetsync",
    error: type[Exception] = RunError,
) -> bytes:
    """A regular file's bytes, at most `limit` of them; anything else is a one-line error."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise file_error(error, path, f"{path}: file not found") from None
    except OSError as exc:
        raise file_error(error, path, f"{path}: cannot read ({_why(exc)})") from None
    if not stat.S_ISREG(st.st_mode):
        raise file_error(
            error,
            path,
            f"{path}: {_kind(st.st_mode)}, not a file; sheetsync reads regular files only",
        )
    if st.st_size > limit:
        raise file_error(
            error, path, f"{path}: {st.st_size:,} bytes is too large for {what} (limit {limit:,})"
        )
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, open does not wait
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise file_error(error, path, f"{path}: cannot read ({_why(exc)})") from None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise file_error(error, path, f"{path}: {_kind(os.fstat(fd).st_mode)}, not a file")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise file_error(error, path, f"{path}: cannot read ({_why(exc)})") from None
    if len(data) > limit:
        raise file_error(
            error, path, f"{path}: more than {limit:,} bytes is too large for {what} (it grew)"
        )
    return data


def read_text(
    path: Path,
    error: type[Exception] = RunError,
    limit: int = MAX_FILE_BYTES,
    what: str = "sheetsync",
) -> str:
    """A regular file's UTF-8 text, bounded as `read_bytes`; one-line errors name the file."""
    data = read_bytes(path, limit, what, error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise file_error(
            error, path, f"{path}: not UTF-8 text (bad byte at offset {exc.start})"
        ) from None


def is_inside(path: Path, folders: Sequence[Path]) -> bool:
    """Whether `path` (already resolved) is one of `folders` or inside one."""
    return any(path == f or path.is_relative_to(f) for f in folders)


def confine(path: Path, within: Sequence[Path], error: type[Exception] = RunError) -> Path:
    """`path` with its symlinks resolved, refused when it leads outside `within` (if given)."""
    try:
        real = Path(path).resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        raise file_error(error, path, f"{path}: cannot read (a symlink loop)") from None
    if within and not is_inside(real, within):
        raise file_error(
            error,
            path,
            f"{path}: leads outside the project's folders (to {real}); sheetsync follows "
            "symlinks only within the project (list the target in 'trusted_folders' of "
            "sheetsync.yaml to allow it)",
        )
    return real


def confine_in(
    path: Path, real_folder: Path, within: Sequence[Path], error: type[Exception] = RunError
) -> Path:
    """`confine(path)` for a path directly inside a folder already confined (`real_folder`,
    its resolved form): an entry that is not a symlink cannot lead anywhere else, so one lstat
    stands for the walk of every component; a symlink is resolved and checked in full."""
    try:
        if not stat.S_ISLNK(os.lstat(path).st_mode):
            return real_folder / path.name
    except FileNotFoundError:
        return real_folder / path.name  # as resolve() gives for a missing name
    except OSError:
        pass
    return confine(path, within, error)


def output_path(path: Path, what: str = "--out") -> Path:
    """A file to write: its folder must exist (a typo is not silently created); refused in
    one line before any work is done."""
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"{path}: folder {parent} does not exist (for {what}); create it first")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; {what} names a file")
    return path


def output_folder(path: Path, what: str = "--out") -> Path:
    """A folder to write into: it may be new, but its parent folder must exist."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: is a file; {what} names a folder")
    if not path.exists() and not path.parent.is_dir():
        raise UsageError(
            f"{path}: folder {path.parent} does not exist (for {what}); create it first"
        )
    return path


def write_file(path: Path, data: str | bytes, error: type[Exception] = UsageError) -> None:
    """Write a whole file atomically (`records.atomic`); one-line errors."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise file_error(error, path, f"{path}: cannot write ({_why(exc)})") from None


def staged(path: Path, data: bytes, error: type[Exception] = RunError) -> Path:
    """Write `data` to a new temp file beside `path` (never through a symlink); `put_in_place`
    renames it into place. Lets a command prove it can write before it touches the sheet."""
    try:
        return stage(path, data)
    except OSError as exc:
        raise file_error(error, path, f"{path}: cannot write ({_why(exc)})") from None
