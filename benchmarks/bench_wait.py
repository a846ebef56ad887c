"""The user's wait: commands a person runs on the demo project, side by side with their floor.

python -m benchmarks.bench_wait

- `sheetsync sync` that changes nothing (the project has its fit) vs `sheetsync --help`;
- `sheetsync demo` end to end vs `python -c "import numpy, yaml, openpyxl, python_calamine"`
  (the libraries it cannot do without: it imports no pandas, scipy or matplotlib).
BLAS threads are left as the machine sets them: this is what a person gets.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS = 5


def seconds(args: list[str], cwd: Path | None = None, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, cwd=cwd)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> dict[str, float]:
    cli = [sys.executable, "-m", "sheetsync"]
    help_s = seconds([*cli, "--help"])
    imports = "import numpy, yaml, openpyxl, python_calamine"
    floor_s = seconds([sys.executable, "-c", imports])
    with tempfile.TemporaryDirectory() as tmp:
        demo_times = []
        for i in range(3):
            folder = Path(tmp) / f"demo{i}"
            start = time.perf_counter()
            subprocess.run([*cli, "demo", str(folder)], check=True, capture_output=True)
            demo_times.append(time.perf_counter() - start)
        demo_s = statistics.median(demo_times)
        config = Path(tmp) / "demo0" / "sheetsync.yaml"
        sync_s = seconds([*cli, "--config", str(config), "sync"])
    print(
        f"wait: no-change sync of the demo (with its fit) {sync_s * 1000:.0f} ms = "
        f"{sync_s / help_s:.1f}x `sheetsync --help` ({help_s * 1000:.0f} ms; goal <= 4x)"
    )
    print(
        f"wait: `sheetsync demo` {demo_s:.2f} s = {demo_s / floor_s:.1f}x importing numpy, yaml, "
        f"openpyxl and python_calamine ({floor_s * 1000:.0f} ms; goal <= 6x)"
    )
    return {"help_s": help_s, "sync_s": sync_s, "demo_s": demo_s, "imports_s": floor_s}


if __name__ == "__main__":
    main()
