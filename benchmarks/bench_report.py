"""`sheetsync report` on the demo project, as a person runs it (a new process each time), beside
`sheetsync --help`; and what importing the plotting library costs on its own.

    python -m benchmarks.bench_report

Median of REPEATS, wall and CPU seconds of the child process (resource's children times): the
machine's cores are shared, and CPU time is what other programs do not blur. Goal: under 1 s,
judged on CPU time (wall time is that on an idle machine).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 5
GOAL_S = 1.0


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """Median wall and CPU seconds of running `args` REPEATS times."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    walls, cpus = [], []
    for _ in range(REPEATS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, cwd=cwd, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> dict[str, float]:
    from sheetsync.demo_project import build_demo

    with tempfile.TemporaryDirectory() as tmp:
        demo = build_demo(Path(tmp) / "sheetsync-demo")
        wall, cpu = timed([sys.executable, "-m", "sheetsync", "report"], demo.folder)
        help_wall, help_cpu = timed([sys.executable, "-m", "sheetsync", "--help"], demo.folder)
        plot_code = "import matplotlib.figure, matplotlib.backends.backend_agg"
        plot_wall, plot_cpu = timed([sys.executable, "-c", plot_code], demo.folder)
        bare_wall, bare_cpu = timed([sys.executable, "-c", "pass"], demo.folder)
    met = "met" if cpu < GOAL_S else "NOT met"
    print(
        f"report: `sheetsync report` on the demo {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms "
        f"CPU (goal < {GOAL_S * 1000:.0f} ms: {met}); sheetsync --help {help_wall * 1000:.0f} ms; "
        f"importing matplotlib's Figure and Agg alone {(plot_cpu - bare_cpu) * 1000:.0f} ms CPU"
    )
    return {
        "report_s": wall,
        "report_cpu_s": cpu,
        "help_s": help_wall,
        "help_cpu_s": help_cpu,
        "matplotlib_import_cpu_s": plot_cpu - bare_cpu,
        "bare_s": bare_wall,
    }


if __name__ == "__main__":
    main()
