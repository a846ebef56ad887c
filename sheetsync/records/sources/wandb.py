"""Weights & Biases runs as the W&B library leaves them on disk: `wandb/run-*/` and
`wandb/offline-run-*/`, read from each run's transaction log (`run-<id>.wandb`).

The log is where W&B records everything (config, summary, history, git commit, exit code),
online or offline; recent versions write no `config.yaml` or `wandb-summary.json` for an
offline run. Its framing is LevelDB's log format behind a 7-byte W&B header; the records are
decoded with the installed wandb's own protobuf classes (`wandb.proto.wandb_internal_pb2`).
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records.sources import require
from sheetsync.records.sources.fields import Found
from sheetsync.records.sources.home import TrackerSource

MAGIC = b":W&B"
BLOCK = 32 * 1024
CHUNK_HEADER = 7  # crc32 (4, of type byte + data), length (2), type (1)
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
KILLED_EXIT_CODES = {130, 137, 143, 255, -2, -9, -15}  # SIGINT, SIGKILL, SIGTERM (128 + n
# or -n); 255: W&B's exit code for a KeyboardInterrupt (Ctrl-C)


@dataclass(frozen=True)
class LogFile:
    """One run directory's transaction log."""

    path: Path
    wandb_id: str
    name: str


def records(path: Path, damage: list[str] | None = None) -> Iterator[bytes]:
    """The log's records in order, read a block at a time; a torn tail (the process died
    mid-write) ends the log, and so does a fragment that fails its checksum. A fragment never
    crosses a block; a block's last bytes, too few for a fragment header, are padding.
    `damage` gets what ended the log early, if anything (`cut short`, `unreadable after
    byte N`), so a reader can say it instead of taking the log for a live run's."""
    with path.open("rb") as fh:
        data = fh.read(BLOCK)
        if data[:4] != MAGIC or len(data) < 7:
            raise RunError(f"{path}: not a W&B transaction log")
        if data[6] != 0:
            raise RunError(f"{path}: W&B log version {data[6]} is not one sheetsync reads")
        pos, pending = 7, b""
        while data:
            while pos + CHUNK_HEADER <= len(data):
                crc, length, kind = struct.unpack_from("<IHB", data, pos)
                chunk = data[pos + CHUNK_HEADER : pos + CHUNK_HEADER + length]
                if kind == 0 and crc == 0 and length == 0:
                    return  # zeros: where the writer stopped
                if kind == 0 or len(chunk) < length or zlib.crc32(bytes([kind]) + chunk) != crc:
                    if damage is not None:
                        torn = len(chunk) < length and len(data) < BLOCK
                        at = fh.tell() - len(data) + pos
                        damage.append("cut short" if torn else f"unreadable after byte {at:,}")
                    return
                pos += CHUNK_HEADER + length
                if kind == FULL:
                    yield chunk
                elif kind == FIRST:
                    pending = chunk
                elif kind == MIDDLE:
                    pending += chunk
                elif kind == LAST:
                    yield pending + chunk
                    pending = b""
            if len(data) < BLOCK:
                if (pending or pos < len(data) and any(data[pos:])) and damage is not None:
                    damage.append("cut short")
                return
            data, pos = fh.read(BLOCK), 0


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _key(update: Any) -> str:
    return update.key or ".".join(update.nested_key)


class WandbSource(TrackerSource):
    kind = "wandb"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pb = require("wandb.proto.wandb_internal_pb2", "wandb", "a W&B run source")
        root = Path(self.spec.location)
        self.root = root / "wandb" if (root / "wandb").is_dir() else root

    def describe(self) -> str:
        return f"W&B runs in {self.root}"

    def discover(self) -> list[tuple[str, Any]]:
        if not self.root.is_dir():
            raise RunError(f"{self.root}: W&B folder not found (runs.path in sheetsync.yaml)")
        by_name = (self.spec.fields.get("run") or ("name",))[0]
        found = []
        for folder in sorted(self.root.glob("*run-*")):
            logs = sorted(folder.glob("run-*.wandb"))
            if folder.is_symlink() or not folder.is_dir() or not logs:
                continue  # `latest-run` links to a run listed under its own name
            log = self._identify(logs[0])
            if log is None:
                self.skipped[str(logs[0])] = "no run record yet (just started, or died first)"
                continue
            found.append((log.name if by_name == "name" and log.name else log.wandb_id, log))
        return found

    def _identify(self, path: Path) -> LogFile | None:
        for raw in records(path):
            record = self.pb.Record()
            record.ParseFromString(raw)
            if record.WhichOneof("record_type") == "run":
                run = record.run
                return LogFile(path, run.run_id, run.display_name)
        return None

    def origin(self, handle: LogFile) -> str:
        return str(handle.path)

    def stamp(self, handle: LogFile) -> str:
        info = handle.path.stat()
        return f"{info.st_size}:{info.st_mtime_ns}"

    def pick(self, run_id: str, handles: list[LogFile]) -> LogFile:
        """A resumed run has one folder per resumption: the newest holds its latest state."""
        if len({h.wandb_id for h in handles}) == 1:
            # folders are named [offline-]run-YYYYMMDD_HHMMSS-<id>
            return max(handles, key=lambda h: h.path.parent.name.removeprefix("offline-"))
        return super().pick(run_id, handles)

    def found(self, handle: LogFile) -> Found:
        config: dict[str, Any] = {}
        summary: dict[str, Any] = {}
        launch: dict[str, Any] = {}
        state: str | None = "running"
        damage: list[str] = []
        beats: list[float] = []  # when the run logged: start, stats, summaries
        for raw in records(handle.path, damage):
            record = self.pb.Record()
            record.ParseFromString(raw)
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run = record.run
                self._config(config, run.config)
                if run.git.commit:
                    launch["git_commit"] = run.git.commit
                if run.start_time.seconds:
                    beats.append(float(run.start_time.seconds))
                    started = dt.datetime.fromtimestamp(run.start_time.seconds)
                    launch["launched_at"] = started.isoformat(timespec="seconds")
            elif kind == "config":
                self._config(config, record.config)
            elif kind == "summary":
                for update in record.summary.update:
                    summary[_key(update)] = _value(update.value_json)
                for update in record.summary.remove:
                    summary.pop(_key(update), None)
            elif kind == "environment":
                env = record.environment
                if env.git.commit and "git_commit" not in launch:
                    launch["git_commit"] = env.git.commit
                if env.username:
                    launch["launched_by"] = env.username
                slurm = dict(env.slurm)  # SLURM_* variables, without the prefix, lower case
                for key in ("job_id", "array_job_id", "array_task_id"):
                    if slurm.get(key, "").isdigit():
                        launch[f"slurm_{key}"] = slurm[key]
            elif kind == "stats" and record.stats.timestamp.seconds:
                beats.append(float(record.stats.timestamp.seconds))
            elif kind == "preempting":
                state = "killed"
            elif kind == "exit":
                code = record.exit.exit_code
                state = "finished" if code == 0 else "failed"
                if code in KILLED_EXIT_CODES:
                    state = "killed"
        metrics = {k: v for k, v in summary.items() if not k.startswith("_wandb")}
        step = metrics.get("_step")
        stamp = metrics.get("_timestamp")
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            beats.append(float(stamp))
        return Found(
            origin=str(handle.path),
            config={k: v for k, v in config.items() if not k.startswith("_wandb")},
            metrics=metrics,
            step=step if isinstance(step, int) and not isinstance(step, bool) else None,
            state=state,
            launch=launch,
            heartbeat=max(beats) if beats else None,
            damage=f"{handle.path.name} {damage[0]}" if damage else None,
            # wandb writes its log 32 KiB at a time: a live run's log ends on a whole record
            broken=bool(damage),
        )

    @staticmethod
    def _config(config: dict[str, Any], record: Any) -> None:
        for update in record.update:
            config[_key(update)] = _value(update.value_json)
        for update in record.remove:
            config.pop(_key(update), None)
