"""A stand-in for Slurm's `sacct`, put on the PATH by tests as an executable named `sacct`.

It answers `sacct --parsable2 --noheader -j ID,ID,... --format=JobIDRaw,State,ExitCode,End`
the way Slurm's sacct(1) manual describes (doc/man/man1/sacct.1 in SchedMD/slurm: "-P,
--parsable2: output will be '|' delimited without a '|' at the end"; "JobIDRaw ... in the
form JobID[.JobStep] for regular, heterogeneous and array jobs"; "End: YYYY-MM-DDTHH:MM:SS",
`Unknown` while a job runs; "ExitCode ... following the colon is the signal"; the JOB STATE
CODES list; a state followed by more information such as the UID that cancelled the job):
one line for the job, then one per step (`.batch`, `.extern`, `.0`), jobs not known printed
not at all. Every call is appended to the file named by $SACCT_CALLS; $SACCT_FAIL makes it
fail as sacct does when it cannot reach the accounting database.
"""

import os
import sys

JOBS = {
    "4242": [  # hit its time limit: the batch step was signalled (15: SIGTERM)
        "4242|TIMEOUT|0:0|2026-12-05T16:02:11",
        "4242.batch|CANCELLED|0:15|2026-12-05T16:02:12",
        "4242.extern|COMPLETED|0:0|2026-12-05T16:02:11",
    ],
    "4243": [
        "4243|OUT_OF_MEMORY|0:125|2026-12-05T15:40:02",
        "4243.batch|OUT_OF_MEMORY|0:125|2026-12-05T15:40:02",
        "4243.extern|COMPLETED|0:0|2026-12-05T15:40:02",
    ],
    "4244": [
        "4244|PREEMPTED|0:0|2026-12-05T15:00:00",
        "4244.batch|CANCELLED|0:15|2026-12-05T15:00:01",
    ],
    "4245": [
        "4245|CANCELLED by 1000|0:0|2026-12-05T14:10:00",
        "4245.batch|CANCELLED|0:15|2026-12-05T14:10:01",
    ],
    "4246": ["4246|NODE_FAIL|0:0|2026-12-05T13:00:00"],
    "4247": [
        "4247|FAILED|1:0|2026-12-05T12:30:00",
        "4247.batch|FAILED|1:0|2026-12-05T12:30:00",
    ],
    "4248": ["4248|RUNNING|0:0|Unknown", "4248.batch|RUNNING|0:0|Unknown"],
    "4249": ["4249|PENDING|0:0|Unknown"],
    "4251": [  # task 7 of array job 4250: JobIDRaw is the task's own id
        "4251|TIMEOUT|0:0|2026-12-05T16:00:00",
        "4251.batch|CANCELLED|0:15|2026-12-05T16:00:01",
    ],
    "4252": [  # an older Slurm: the job FAILED, its step ran out of memory
        "4252|FAILED|0:125|2026-12-05T11:00:00",
        "4252.batch|OUT_OF_MEMORY|0:125|2026-12-05T11:00:00",
    ],
    "4253": ["4253|COMPLETED|0:0|2026-12-05T10:00:00"],
}


def main(argv: list[str]) -> int:
    calls = os.environ.get("SACCT_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as fh:
            fh.write(" ".join(argv) + "\n")
    if os.environ.get("SACCT_FAIL"):
        print("sacct: error: Problem talking to the database: Connection refused", file=sys.stderr)
        return 1
    expected = ["--parsable2", "--noheader", "-j"]
    if argv[:3] != expected or argv[4:] != ["--format=JobIDRaw,State,ExitCode,End"]:
        print(f"sacct: error: unexpected arguments {argv}", file=sys.stderr)
        return 1
    for job in argv[3].split(","):
        for line in JOBS.get(job, []):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
