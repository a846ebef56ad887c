"""MLflow runs, read through MLflow's own client from any tracking store it opens: a local
`mlruns` folder, a `sqlite:///...` database or an `http(s)://` tracking server.

Params become the config (dotted names nested: `optim.lr` is `optim: {lr: ...}`, values parsed
as YAML scalars since MLflow keeps them as text), metrics give loss and tokens (their latest
values, the step from the loss's history), the run status gives the state, and the
`mlflow.source.git.commit` tag the commit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from sheetsync.errors import RunError
from sheetsync.records.sources import require
from sheetsync.records.sources.fields import DEFAULT_NAMES, Found, nest
from sheetsync.records.sources.home import TrackerSource

STATES = {
    "FINISHED": "finished",
    "FAILED": "failed",
    "KILLED": "killed",
    "RUNNING": "running",
    "SCHEDULED": "running",
}
PAGE = 1000


def parse_param(text: str) -> Any:
    """MLflow stores params as text: `0.0003` is a number again, `True` a boolean."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, int | float | bool | list | dict) else text


class MlflowSource(TrackerSource):
    kind = "mlflow"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        tracking = require("mlflow.tracking", "mlflow", "an MLflow run source")
        location = self.spec.location
        if "://" not in location:  # a local `mlruns` folder: MLflow would create it if absent
            if not Path(location).is_dir():
                raise RunError(f"{location}: MLflow folder not found (runs.path in sheetsync.yaml)")
            # MLflow 3 refuses folder stores unless this is set (its own opt-out, for old data)
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            location = Path(location).as_uri()
        elif location.startswith("sqlite:///"):
            db = Path(location.removeprefix("sqlite:///"))
            if not db.is_absolute():
                db = Path.cwd() / db
            if not db.is_file():
                raise RunError(f"{db}: MLflow database not found (runs.path in sheetsync.yaml)")
        self.uri = location
        self.client = tracking.MlflowClient(tracking_uri=location)

    def describe(self) -> str:
        return f"MLflow runs in {self.uri}"

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # MlflowException, or the store's own (sqlalchemy, requests)
            if type(exc).__module__.split(".")[0] not in ("mlflow", "sqlalchemy", "requests"):
                raise
            line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise RunError(f"{self.uri}: {what}: {line}") from None

    def _experiments(self) -> list[str]:
        wanted = self.spec.options.get("experiment")
        if wanted is None:
            found = self._call("listing experiments", self.client.search_experiments)
            return [e.experiment_id for e in found]
        ids = []
        for name in [wanted] if isinstance(wanted, str) else wanted:
            exp = self._call("reading experiments", self.client.get_experiment_by_name, name)
            if exp is None:
                raise RunError(f"{self.uri}: no experiment named {name!r}")
            ids.append(exp.experiment_id)
        return ids

    def discover(self) -> list[tuple[str, Any]]:
        experiments = self._experiments()
        by = (self.spec.fields.get("run") or ("name",))[0]
        found, token = [], None
        while experiments:
            page = self._call(
                "listing runs",
                self.client.search_runs,
                experiments,
                max_results=PAGE,
                page_token=token,
            )
            for run in page:
                name = run.info.run_name if by == "name" else run.info.run_id
                found.append((name or run.info.run_id, run))
            token = page.token
            if not token:
                break
        return found

    def origin(self, handle: Any) -> str:
        return f"{self.uri} run {handle.info.run_id}"

    def stamp(self, handle: Any) -> str:
        info, data = handle.info, handle.data
        return json.dumps([info.status, info.end_time, data.metrics, data.params], sort_keys=True)

    def found(self, handle: Any) -> Found:
        info, data = handle.info, handle.data
        config = nest({k: parse_param(v) for k, v in data.params.items()})
        metrics = dict(data.metrics)
        loss_names = self.spec.fields.get("loss", DEFAULT_NAMES["loss"])
        step = None
        beats = [t / 1000 for t in (info.start_time, info.end_time) if t]
        loss_key = next((n for n in loss_names if n in metrics), None)
        if loss_key is not None:
            history = self._call(
                "reading metric history", self.client.get_metric_history, info.run_id, loss_key
            )
            if history:
                step = max(history, key=lambda m: (m.step, m.timestamp)).step
                beats.append(max(m.timestamp for m in history) / 1000)
        tags = data.tags
        launch: dict[str, Any] = {
            "git_commit": tags.get("mlflow.source.git.commit"),
            "launched_by": tags.get("mlflow.user") or info.user_id or None,
        }
        if info.start_time:
            started = dt.datetime.fromtimestamp(info.start_time / 1000)
            launch["launched_at"] = started.isoformat(timespec="seconds")
        return Found(
            origin=self.origin(handle),
            config=config,
            metrics=metrics,
            step=step,
            state=STATES.get(info.status),
            launch={k: v for k, v in launch.items() if v},
            heartbeat=max(beats) if beats else None,
        )
