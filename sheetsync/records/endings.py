"""How runs that are not finished really ended, from outside their files: the scheduler's
word (Slurm's sacct, asked once for all of them) and their signs of life (stalled).

`judge` returns the runs with `Run.ending` set where something outside the files decides the
status; a run the files call finished (or diverged) keeps its own word.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from sheetsync.records import liveness, slurm
from sheetsync.records.runs import Run

clock = time.time  # seconds since the epoch; tests move it


class Judge:
    """Judges the runs of one command: sacct is asked at most once (a sync that re-plans
    because the sheet changed underneath reuses the answer); the clock is read once."""

    def __init__(
        self,
        stalled_after: float | None = None,
        *,
        now: float | None = None,
        scheduler: bool = True,
        runner: slurm.Runner | None = None,
    ) -> None:
        self.stalled_after = liveness.STALLED_AFTER if stalled_after is None else stalled_after
        self.now = clock() if now is None else now
        self.scheduler = scheduler
        self.runner = runner
        self._asked: set[str] | None = None
        self._jobs: dict[str, slurm.Job] = {}
        self._notes: list[str] = []

    def __call__(self, runs: Sequence[Run]) -> tuple[list[Run], list[str]]:
        """The runs, each with the status the world outside its files gives it, and the
        notes (sacct missing or failing: one note, never a failure)."""
        wanted = {r.launch.slurm_job_id for r in runs if _open(r) and r.launch.slurm_job_id}
        if self.scheduler and wanted and (self._asked is None or not wanted <= self._asked):
            ids = sorted(str(j) for j in wanted)
            self._jobs, note = slurm.ask(ids, self.runner)
            self._notes = [note] if note else []
            self._asked = set(ids)
        out = []
        for run in runs:
            ending = self._ending(run) if _open(run) else None
            out.append(_with(run, ending) if ending != run.ending else run)
        return out, list(self._notes) if wanted else []

    def _ending(self, run: Run) -> str | None:
        job = self._jobs.get(run.launch.slurm_job_id or "")
        if job is not None:
            if job.waiting:
                return "queued"
            if job.alive:
                return None  # the files' own word, however old they are
            why = job.reason
            if why is not None and (job.state != "COMPLETED" or run.going):
                return f"unfinished: {why} (slurm job {run.launch.slurm_job}){run.where}"
        sign = liveness.sign_of_life(run)
        return liveness.stalled(run, sign, self.now, self.stalled_after)


def judge(
    runs: Sequence[Run], stalled_after: float | None = None, **options: Any
) -> tuple[list[Run], list[str]]:
    """`Judge(stalled_after, **options)(runs)`: one command's runs judged at once."""
    return Judge(stalled_after, **options)(runs)


def _open(run: Run) -> bool:
    """Not finished, and not a result of its own (a diverged run is one)."""
    return not run.finished and not run.diverged


def _with(run: Run, ending: str | None) -> Run:
    judged = dataclasses.replace(run, ending=ending)
    if "fingerprint" in run.__dict__:  # computed once per run (cached_property)
        judged.__dict__["fingerprint"] = run.__dict__["fingerprint"]
    return judged
