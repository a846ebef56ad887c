"""Google Sheets at scale, against the local emulator: API requests, bytes sent and seconds
for a sync of 100 / 1,000 / 10,000 runs (each changing one cell per run), and for a sync of
10,000 runs changing 1% of its runs.

    python -m benchmarks.bench_google
"""

from __future__ import annotations

import time

from sheetsync.sheet.backends.google import GoogleBackend
from sheetsync.sheet.grid import CellWrite
from tests.sheets_emulator import Emulator, redirect_session


def one(emulator: Emulator, runs: int, changed: int) -> dict[str, float]:
    key = f"bench-{runs}-{changed}"
    book = emulator.create(key)
    sheet = book.add_sheet("Runs", rows=runs + 10, cols=40)
    for r in range(runs + 1):
        for c in range(1, 41):
            sheet.put(r + 1, c, f"h{c}" if r == 0 else (f"run-{r}" if c == 1 else 1.0))
    backend = GoogleBackend(key, session=redirect_session(emulator.base))
    emulator.reset_counts()
    start = time.perf_counter()
    snapshot = backend.read(["Runs"])
    step = max(runs // changed, 1)
    writes = [
        CellWrite("Runs", r + 1, 5, 2.0, 1.0, f"run-{r}", 1) for r in range(1, runs + 1, step)
    ]
    backend.write(snapshot, writes)
    seconds = time.perf_counter() - start
    return {
        "runs": runs,
        "cells": len(writes),
        "requests": len(emulator.requests),
        "bytes_sent": emulator.bytes_received,
        "seconds": seconds,
    }


def main() -> list[dict[str, float]]:
    emulator = Emulator()
    try:
        results = [one(emulator, n, n) for n in (100, 1_000, 10_000)]
        results.append(one(emulator, 10_000, 100))
    finally:
        emulator.close()
    for r in results:
        print(
            f"google: {r['runs']:>6,} runs, {r['cells']:>6,} cells changed: "
            f"{r['requests']} requests, {r['bytes_sent'] / 1000:,.1f} kB sent, "
            f"{r['seconds']:.2f}s"
        )
    return results


if __name__ == "__main__":
    main()
