"""The scheduler's word on a run: Slurm's accounting (`sacct`), asked once per sync for every
unfinished run that recorded its job id (`slurm_job_id` in launch.json).

    sacct --parsable2 --noheader -j 4242,4250 --format=JobIDRaw,State,ExitCode,End

prints one `|`-separated line per job and per job step (`4242`, `4242.batch`, `4242.extern`,
`4242.0`); JobIDRaw is the raw id even for an array's task (SLURM_JOB_ID, not `4242_7`).
State is a code such as TIMEOUT, OUT_OF_MEMORY or `CANCELLED by 1000` (the UID that cancelled
it); ExitCode is `code:signal`; End is `YYYY-MM-DDTHH:MM:SS` or `Unknown` while the job runs.
(Slurm's sacct(1) manual: "Job Accounting Fields" and "JOB STATE CODES".)
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

SACCT = "sacct"
FORMAT = "JobIDRaw,State,ExitCode,End"
TIMEOUT = 30.0  # seconds sacct may take before it is given up on (one note, never a failure)
REMEMBER = 300.0  # seconds a long-lived command (`watch`) keeps sacct's answer

# A job that is alive, or waiting to run (again): the run is `running` / `queued` whatever
# its files' age.
ALIVE = frozenset({"RUNNING", "COMPLETING", "CONFIGURING", "RESIZING", "SUSPENDED", "STOPPED",
                   "SIGNALING", "STAGE_OUT"})  # fmt: skip
WAITING = frozenset({"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD"})
# A job that ended: the reason an unfinished run's status gives.
ENDED = {
    "TIMEOUT": "timeout",
    "OUT_OF_MEMORY": "out of memory",
    "PREEMPTED": "preempted",
    "CANCELLED": "cancelled",
    "NODE_FAIL": "node failure",
    "BOOT_FAIL": "boot failure",
    "DEADLINE": "deadline",
    "FAILED": "failed",
    "COMPLETED": "job ended",
}


@dataclass(frozen=True)
class Job:
    """One job's accounting line: its state code (`CANCELLED`, without `by <uid>`), exit code
    (`1:0`) and end time as sacct printed them."""

    job_id: str
    state: str
    exit_code: str = ""
    end: str = ""

    @property
    def alive(self) -> bool:
        return self.state in ALIVE

    @property
    def waiting(self) -> bool:
        return self.state in WAITING

    @property
    def reason(self) -> str | None:
        """Why the job ended, as a status says it (`timeout`, `failed (exit 1:0)`); None while
        it runs or waits, or for a state sheetsync does not know."""
        why = ENDED.get(self.state)
        if why == "failed" and self.exit_code:
            why = f"failed (exit {self.exit_code})"
        return why


Runner = Callable[[Sequence[str]], str]


def run_sacct(args: Sequence[str]) -> str:
    """sacct's output; an OSError, a timeout or a non-zero exit is an `OSError` whose text is
    one line (the caller turns it into a note)."""
    try:
        done = subprocess.run(
            list(args), capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"no answer in {TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise OSError(said[:200])
    return done.stdout


@dataclass
class _Memory:
    seconds: float
    clock: Callable[[], float]
    asked_at: float | None = None
    ids: frozenset[str] = frozenset()
    answer: tuple[dict[str, Job], str | None] = ({}, None)


_memory: _Memory | None = None


@contextmanager
def remembered(
    seconds: float = REMEMBER, clock: Callable[[], float] = time.monotonic
) -> Iterator[None]:
    """Within this block sacct is asked again only when `seconds` have passed since its last
    answer, or when a job it was not asked about appears. For a long-lived command (`watch`,
    which syncs at every change): sacct(1), PERFORMANCE, asks that programs not call it in
    loops, since each call is a remote procedure call to slurmdbd. One command (a sync, a
    cron's sync) asks once anyway and needs no memory."""
    global _memory
    outer, _memory = _memory, _Memory(seconds, clock)
    try:
        yield
    finally:
        _memory = outer


def ask(job_ids: Sequence[str], runner: Runner | None = None) -> tuple[dict[str, Job], str | None]:
    """The jobs sacct knows among `job_ids` (one call for all), and a note when sacct is not
    on the PATH or failed (then no job is known). Inside `remembered()`, a recent answer that
    covers these jobs is given again without asking."""
    ids = sorted(set(job_ids), key=lambda j: (len(j), j))
    if not ids:
        return {}, None
    memory = _memory
    if memory is None:
        return _ask(ids, runner)
    now = memory.clock()
    fresh = memory.asked_at is not None and now - memory.asked_at < memory.seconds
    if not (fresh and set(ids) <= memory.ids):
        memory.answer, memory.asked_at, memory.ids = _ask(ids, runner), now, frozenset(ids)
    jobs, note = memory.answer
    return {j: jobs[j] for j in ids if j in jobs}, note


def _ask(ids: list[str], runner: Runner | None) -> tuple[dict[str, Job], str | None]:
    if runner is None:
        path = shutil.which(SACCT)
        if path is None:
            return {}, (
                f"{len(ids)} unfinished run(s) name a Slurm job, but sacct is not on the PATH: "
                "the scheduler's word is not shown"
            )
        runner = run_sacct
        command = path
    else:
        command = SACCT
    args = [command, "--parsable2", "--noheader", "-j", ",".join(ids), f"--format={FORMAT}"]
    try:
        text = runner(args)
    except OSError as exc:
        return {}, f"sacct failed ({exc}): the scheduler's word is not shown"
    return parse(text, ids), None


def parse(text: str, wanted: Sequence[str]) -> dict[str, Job]:
    """Each wanted job's own line (`4242`), its state made more precise by its steps: a job
    FAILED whose step ran OUT_OF_MEMORY (older Slurm versions) ran out of memory."""
    jobs: dict[str, Job] = {}
    oom: set[str] = set()
    want = set(wanted)
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 2 or not parts[0]:
            continue
        raw = parts[0]
        job_id, _, step = raw.partition(".")
        if job_id not in want:
            continue
        state = parts[1].split()[0].rstrip("+") if parts[1].split() else ""
        if step:
            if state == "OUT_OF_MEMORY":
                oom.add(job_id)
            continue
        exit_code = parts[2] if len(parts) > 2 else ""
        end = parts[3] if len(parts) > 3 else ""
        jobs[job_id] = Job(job_id, state, exit_code, end)
    for job_id in oom:
        job = jobs.get(job_id)
        if job is not None and job.state == "FAILED":
            jobs[job_id] = Job(job_id, "OUT_OF_MEMORY", job.exit_code, job.end)
    return jobs
