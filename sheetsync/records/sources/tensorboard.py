"""TensorBoard event files, read with TensorBoard's own event reader: one run per folder of the
log directory (`<logdir>/<run id>/**/events.out.tfevents.*`; restarts and sub-folders such as
Lightning's `version_N/` are one run).

Scalars give loss and tokens (each tag's last value, by step then time) and the step of the
last loss. The config is the run's `config.yaml`, `config.json` or `hparams.yaml` (Lightning's),
else the hyperparameters logged with `add_hparams`. Event files carry no run status: a run is
finished when it reached its planned steps, else running (map `state` to a tag that says it).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records.configs import load_mapping
from sheetsync.records.sources import require
from sheetsync.records.sources.fields import DEFAULT_NAMES, Found, nest
from sheetsync.records.sources.home import TrackerSource

EVENTS = "events.out.tfevents.*"
CONFIG_FILES = ("config.yaml", "config.yml", "config.json", "hparams.yaml")


class TensorboardSource(TrackerSource):
    kind = "tensorboard"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.loader = require(
            "tensorboard.backend.event_processing.event_file_loader",
            "tensorboard",
            "a TensorBoard run source",
        )
        self.root = Path(self.spec.location)

    def describe(self) -> str:
        return f"TensorBoard runs in {self.root}"

    def discover(self) -> list[tuple[str, Any]]:
        if not self.root.is_dir():
            raise RunError(f"{self.root}: TensorBoard log folder not found (runs.path)")
        runs: dict[str, Path] = {}
        for events in sorted(self.root.rglob(EVENTS)):
            parts = events.relative_to(self.root).parts
            folder = self.root / parts[0] if len(parts) > 1 else self.root
            runs.setdefault(folder.name, folder)
        return sorted(runs.items())

    def origin(self, handle: Path) -> str:
        return str(handle)

    def _files(self, folder: Path) -> list[Path]:
        found = [*folder.rglob(EVENTS)]
        for name in CONFIG_FILES:
            found += folder.rglob(name)
        return sorted(p for p in found if p.is_file())

    def stamp(self, handle: Path) -> str:
        return ";".join(
            f"{p.relative_to(handle)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
            for p in self._files(handle)
        )

    def found(self, handle: Path) -> Found:
        last: dict[str, tuple[int, float, float]] = {}  # tag -> (step, wall time, value)
        hparams: dict[str, Any] = {}
        for path in sorted(handle.rglob(EVENTS)):
            self._read_events(path, last, hparams)
        times = [wall for _, wall, _ in last.values()]
        newest = max(handle.rglob(EVENTS), key=lambda p: (p.stat().st_mtime, p.name), default=None)
        torn = newest is not None and cut_short(newest)
        metrics = {tag: value for tag, (_, _, value) in last.items()}
        loss_names = self.spec.fields.get("loss", DEFAULT_NAMES["loss"])
        loss_tag = next((n for n in loss_names if n in last), None)
        return Found(
            origin=str(handle),
            config=self._config(handle, hparams),
            metrics=metrics,
            step=last[loss_tag][0] if loss_tag else None,
            state=None,
            heartbeat=max(times) if times else None,
            damage=f"{newest.name} cut short" if torn and newest is not None else None,
        )

    def _read_events(
        self, path: Path, last: dict[str, tuple[int, float, float]], hparams: dict[str, Any]
    ) -> None:
        from tensorboard.util import tensor_util

        try:
            events = list(self.loader.EventFileLoader(str(path)).Load())
        except Exception as exc:  # the reader raises its own and protobuf's errors
            raise RunError(f"{path}: unreadable event file ({type(exc).__name__})") from None
        for event in events:
            if event.WhichOneof("what") != "summary":
                continue
            for value in event.summary.value:
                plugin = value.metadata.plugin_data
                if plugin.plugin_name == "hparams":
                    hparams.update(_hparams(plugin.content))
                    continue
                kind = value.WhichOneof("value")
                if kind == "simple_value":
                    number = float(value.simple_value)
                elif kind == "tensor" and plugin.plugin_name in ("scalars", ""):
                    array = tensor_util.make_ndarray(value.tensor)
                    if array.size != 1:
                        continue
                    number = float(array.reshape(()).item())
                else:
                    continue
                key = (event.step, event.wall_time, number)
                if value.tag not in last or key[:2] >= last[value.tag][:2]:
                    last[value.tag] = key

    def _config(self, folder: Path, hparams: dict[str, Any]) -> dict[str, Any]:
        for name in CONFIG_FILES:
            found = sorted(folder.rglob(name), key=lambda p: p.stat().st_mtime)
            if found:
                return load_mapping(found[-1])
        if hparams:
            return nest(hparams)
        raise RunError(
            f"{folder}: no config (a config.yaml or hparams.yaml in the run folder, "
            "or hyperparameters logged with add_hparams)"
        )


def cut_short(path: Path) -> bool:
    """Whether an event file ends inside a record (TensorBoard's reader stops there without a
    word). A record is framed as: length (8 bytes), its checksum (4), data, data checksum (4)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            pos = 0
            while pos + 12 <= size:
                fh.seek(pos)
                (length,) = struct.unpack("<Q", fh.read(8))
                pos += 12 + length + 4
            return pos != size
    except OSError:
        return False


def _hparams(content: bytes) -> dict[str, Any]:
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData()
    try:
        data.ParseFromString(content)
    except Exception:  # protobuf's DecodeError: not hyperparameters after all
        return {}
    out: dict[str, Any] = {}
    for name, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        if kind == "number_value":
            number = value.number_value
            out[name] = int(number) if number.is_integer() else number
        elif kind in ("string_value", "bool_value"):
            out[name] = getattr(value, kind)
    return out
