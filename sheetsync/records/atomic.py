"""The one way sheetsync writes a file: a temp file beside it, then a rename, so a reader sees
the old file or the new one, never half of either.

Modes are a team's: a new file gets what a plain `open(path, "w")` would give under the
current umask (0644 under umask 022, 0664 under 002), because the temp file is created with
`O_CREAT` and mode 0666 and the kernel applies the umask, as it does for `open()`. A file
replaced keeps its mode, as a plain `open()` that truncates it would. (`tempfile.mkstemp`
creates 0600, which a teammate on a shared filesystem cannot read: it is not used.)

A symlink at the target is replaced (never written through).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_TRIES = 100


def _new_temp(path: Path) -> tuple[int, Path]:
    """An open, new, empty file beside `path` with the mode `open()` would give it."""
    for _ in range(_TRIES):
        tmp = path.with_name(f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path}: no free temp name beside it")  # pragma: no cover


def _keep_mode(tmp: Path, path: Path) -> None:
    """The replaced file's permission bits onto the temp file (a regular file only)."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode):
        os.chmod(tmp, stat.S_IMODE(st.st_mode))


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def discard(tmp: Path | None) -> None:
    """Remove a temp file that will not be used."""
    if tmp is not None:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def put_in_place(tmp: Path, path: Path, durable: bool = False) -> None:
    """Rename a staged temp file into place (a file there keeps its mode)."""
    _keep_mode(tmp, path)
    os.replace(tmp, path)
    if durable:
        _sync_folder(path.parent)


def stage(path: Path, data: bytes, durable: bool = False) -> Path:
    """Write `data` to a new temp file beside `path`; `commit` renames it into place. Lets a
    command prove it can write before it touches the sheet. Raises OSError."""
    fd, tmp = _new_temp(Path(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        discard(tmp)
        raise
    return tmp


def write_atomic(path: str | os.PathLike[str], data: str | bytes, durable: bool = False) -> None:
    """Replace `path` with `data` in one step (text as UTF-8). `durable`: fsync the file and
    its folder, for what must survive a power cut (a workbook, a run's records). Raises
    OSError (nothing is left behind)."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = stage(path, raw, durable)
    try:
        put_in_place(tmp, path, durable)
    except BaseException:
        discard(tmp)
        raise


@contextlib.contextmanager
def replacing(
    path: str | os.PathLike[str],
    before_replace: Callable[[], None] | None = None,
    durable: bool = True,
) -> Iterator[Path]:
    """A temp path beside `path` for a writer that wants a file name (openpyxl's `save`,
    numpy's `savez`); on success it is (fsynced and) renamed over `path`, on failure
    removed. `before_replace` may still refuse, by raising, just before the rename."""
    target = Path(path)
    fd, tmp = _new_temp(target)
    os.close(fd)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        if before_replace is not None:
            before_replace()
        put_in_place(tmp, target, durable)
    except BaseException:
        discard(tmp)
        raise
