"""Every figure in one run: `python -m benchmarks` from the repository root."""

from __future__ import annotations

import os
import platform
import sys

from benchmarks import (
    bench_fits,
    bench_google,
    bench_local,
    bench_report,
    bench_sources,
    bench_startup,
    bench_wait,
)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    sizes = tuple(int(a) for a in sys.argv[1:]) or bench_local.SIZES
    print(f"machine: {machine()}")
    bench_startup.main()
    bench_wait.main()
    bench_report.main()
    bench_local.main(sizes)
    bench_google.main()
    bench_fits.main()
    bench_sources.main()


if __name__ == "__main__":
    main()
