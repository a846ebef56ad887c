"""Google Sheets at scale, on the strict emulator: what a sync costs in requests and bytes.

For 100 / 2,000 / 10,000 runs in a formatted sheet of 40 columns (the layout's 29 and a
person's 11): the first sync after the runs were added, a sync after 1% of the runs changed
results, and a sync with nothing to write. Bytes sent are URLs and bodies; bytes received
are the JSON as served and on the wire (gzip, which sheetsync asks for). Goals: a 1%-change
sync of 2,000 runs receives <= 1 MB, every request <= 2 MB, requests per sync constant.

    python -m benchmarks.bench_google [RUNS ...]
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml
from click.testing import CliRunner

from sheetsync.cli import main as cli
from sheetsync.sheet.state import digest
from tests.sheets_emulator import Emulator

KEY = "bench-sheet"
BASE = {
    "model": {"d_model": 1024, "n_layers": 16, "prores": False},
    "optim": {"lr": 3e-4},
    "data": {"global_batch_size": 256},
}
PERSON_COLUMNS = 11
WORDS = [
    "loss",
    "spike",
    "lr",
    "warmup",
    "data",
    "mix",
    "tokenizer",
    "longer",
    "shorter",
    "retry",
    "seed",
    "ablation",
    "moe",
]


def launch(rng: random.Random, i: int) -> dict[str, str]:
    """Launch cells as `add` writes them, varied as a team's sheet is (gzip is honest)."""
    return {
        "launched": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}",
        "launched_by": rng.choice(["ana", "bo", "chen", "dara", "eli"]),
        "role": "feature",
        "baseline": "b",
        "baseline_date": "2026-06-01",
        "fingerprint": f"cfg-{rng.getrandbits(48):012x}",
        "changes": f"model.d_model: 1024 -> 512; optim.lr: 3e-4 -> {rng.uniform(1, 9):.1f}e-4",
        "git_commit": f"{rng.getrandbits(28):07x}",
    }


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    return result.output


def write_results(folder: Path, loss: float, tokens: int) -> None:
    loss = round(loss + random.Random(str(folder)).uniform(0, 0.1), 4)
    progress = {"step": 1000, "steps_planned": 1000, "tokens": tokens, "state": "finished"}
    (folder / "progress.json").write_text(json.dumps(progress))
    (folder / "results.json").write_text(json.dumps({"final_loss": loss, "flops": 6e18}))


def build(root: Path, emulator: Emulator, runs: int) -> Path:
    """A project on the emulator whose Runs tab holds `runs` rows as `add` leaves them."""
    CliRunner().invoke(cli, ["init", str(root)])  # project files (and a local sheet)
    config = root / "sheetsync.yaml"
    config.write_text(config.read_text().replace("  local: experiments.xlsx", f"  google: {KEY}"))
    (root / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
    emulator.create(KEY).add_sheet("Sheet1")
    run(config, "init")  # tabs, header, formats, protections
    layout = yaml.safe_load((root / "layout.yaml").read_text())
    book = emulator.books[KEY]
    sheet, state = book.sheet("Runs"), book.sheet("_sheetsync")
    header = sheet.grid()[0]
    rng = random.Random(runs)
    col = {c["key"]: header.index(c["header"]) + 1 for c in layout["runs"]}
    width = len(header)
    sheet.cols = max(sheet.cols, width + PERSON_COLUMNS)
    sheet.rows = state.rows = runs + 200
    for j in range(PERSON_COLUMNS):
        sheet.put(1, width + 1 + j, f"person {j}")
    for i in range(runs):
        run_id, r = f"run-{i:05d}", i + 2
        cells = {"run": run_id, **launch(rng, i)}
        for key, value in cells.items():
            sheet.put(r, col[key], value)
        sheet.put(r, col["question"], " ".join(rng.sample(WORDS, 5)) + "?")
        for j in range(PERSON_COLUMNS):
            sheet.put(r, width + 1 + j, rng.choice([rng.choice(WORDS), rng.random(), None]))
        state.put(r, 1, "Runs")
        state.put(r, 2, run_id)
        state.put(r, 3, json.dumps(cells, sort_keys=True, separators=(",", ":")))
        state.put(r, 4, digest(cells))
        folder = root / "runs" / run_id
        folder.mkdir(parents=True)
        config_ = json.loads(json.dumps(BASE))
        config_["model"]["d_model"] = 512
        (folder / "config.yaml").write_text(yaml.safe_dump(config_))
        write_results(folder, 2.5, 10**9)
    return config


def measure(emulator: Emulator, config: Path, label: str) -> dict[str, float]:
    emulator.reset_counts()
    start = time.perf_counter()
    output = run(config, "sync")
    seconds = time.perf_counter() - start
    return {
        "label": label,
        "requests": len(emulator.log),
        "sent": emulator.sent,
        "received": emulator.received,
        "wire": emulator.received_wire,
        "largest": emulator.largest_request,
        "seconds": seconds,
        "wrote": output.strip().splitlines()[-1],
        "by_kind": {x.kind: x.received for x in emulator.log},
    }


def one(runs: int) -> list[dict[str, float]]:
    emulator = Emulator()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SHEETSYNC_SHEETS_API"] = emulator.base
            root = Path(tmp) / "proj"
            config = build(root, emulator, runs)
            out = [measure(emulator, config, "first sync")]
            changed = max(runs // 100, 1)
            for i in range(0, runs, runs // changed):
                write_results(root / "runs" / f"run-{i:05d}", 2.25, 2 * 10**9)
            out.append(measure(emulator, config, f"1% changed ({changed} runs)"))
            out.append(measure(emulator, config, "nothing changed"))
    finally:
        os.environ.pop("SHEETSYNC_SHEETS_API", None)
        emulator.close()
    for r in out:
        r["runs"] = runs
    return out


def quiet(emulator: Emulator, config: Path) -> dict[str, float]:
    """A cron tick: `sync --quiet`; what it cost and what it printed."""
    emulator.reset_counts()
    result = CliRunner().invoke(cli, ["--config", str(config), "sync", "--quiet"])
    return {
        "requests": len(emulator.log),
        "sent": emulator.sent,
        "received": emulator.received,
        "wire": emulator.received_wire,
        "lines": len(result.output.splitlines()),
        "exit": result.exit_code,
    }


def cron(runs: int = 2_000) -> list[dict[str, float]]:
    """Cron's `sync --quiet` of a sheet where nothing changed: on the machine that has the
    runs (synced already), and on a cron machine with no run folders (every run not here)."""
    emulator = Emulator()
    out = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["SHEETSYNC_SHEETS_API"] = emulator.base
            config = build(Path(tmp) / "proj", emulator, runs)
            run(config, "sync")
            out.append({"label": "machine with the runs", **quiet(emulator, config)})
            bare = Path(tmp) / "cron"
            CliRunner().invoke(cli, ["init", str(bare)])
            other = bare / "sheetsync.yaml"
            other.write_text(
                other.read_text().replace("  local: experiments.xlsx", f"  google: {KEY}")
            )
            (bare / "baselines" / "b@2026-06-01.yaml").write_text(yaml.safe_dump(BASE))
            out.append({"label": "cron machine, no runs", **quiet(emulator, other)})
    finally:
        os.environ.pop("SHEETSYNC_SHEETS_API", None)
        emulator.close()
    for r in out:
        print(
            f"google cron: {runs:,} runs, nothing changed, `sync --quiet` on the "
            f"{r['label']}: {r['requests']} requests, sent {r['sent'] / 1e3:,.1f} kB, received "
            f"{r['received'] / 1e3:,.1f} kB ({r['wire'] / 1e3:,.1f} kB gzip), lines printed "
            f"{r['lines']} (goal 0), exit code {r['exit']}",
            flush=True,
        )
    return out


def main(sizes: tuple[int, ...] = (100, 2_000, 10_000)) -> list[dict[str, float]]:
    cron()
    results = []
    for runs in sizes:
        for r in one(runs):
            results.append(r)
            print(
                f"google: {runs:>6,} runs, {r['label']:<22} {r['requests']:>2} requests, "
                f"sent {r['sent'] / 1e3:>8,.1f} kB (largest {r['largest'] / 1e3:,.1f} kB), "
                f"received {r['received'] / 1e3:>8,.1f} kB ({r['wire'] / 1e3:,.1f} kB gzip), "
                f"{r['seconds']:.1f}s; {r['wrote']}"
            )
    return results


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or (100, 2_000, 10_000))
