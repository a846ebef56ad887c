"""Start-up: `sheetsync --help` and `sheetsync ls --help` against `python -c "import click"`.

python -m benchmarks.bench_startup
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

REPEATS = 7


def seconds(args: list[str]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> dict[str, float]:
    floor = seconds([sys.executable, "-c", "import click"])
    help_s = seconds([sys.executable, "-m", "sheetsync", "--help"])
    ls_s = seconds([sys.executable, "-m", "sheetsync", "ls", "--help"])
    print(
        f"start-up: import click {floor * 1000:.0f} ms; sheetsync --help {help_s * 1000:.0f} ms "
        f"= {help_s / floor:.2f}x; sheetsync ls --help {ls_s * 1000:.0f} ms = "
        f"{ls_s / floor:.2f}x (goal <= 2x)"
    )
    return {
        "click_s": floor,
        "help_s": help_s,
        "ls_help_s": ls_s,
        "help_ratio": help_s / floor,
        "ls_ratio": ls_s / floor,
    }


if __name__ == "__main__":
    main()
