"""The demo with its runs logged to Weights & Biases (offline), as a team's trainer would:
`sheetsync demo --source wandb`. Needs `pip install 'sheetsync[wandb]'`.

Each demo run is logged by the real wandb library into `<demo>/wandb/` (config, a loss curve,
tokens, the plan, parameters and FLOPs in the summary, the git commit; a killed run ends with
exit code 143); sheetsync then reads them from there.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from sheetsync.records.sources import require

SOURCE = {"source": "wandb", "path": "wandb"}
POINTS = 20  # logged points of each loss curve


def use_wandb(folder: Path) -> None:
    """Point the demo project's sheetsync.yaml at the W&B folder."""
    config = folder / "sheetsync.yaml"
    text = config.read_text()
    if "\nruns: runs\n" in text:  # keep the template's comments
        config.write_text(text.replace("\nruns: runs\n", f"\nruns: {json.dumps(SOURCE)}\n", 1))
    else:
        config.write_text(yaml.safe_dump({**yaml.safe_load(text), "runs": SOURCE}, sort_keys=False))


def log_runs(
    folder: Path,
    runs: Sequence[Any],
    write_run: Callable[[Path, Any], None],
) -> None:
    """Log each run to W&B offline: `write_run(dir, spec)` writes the native files it replays."""
    wandb = require("wandb", "wandb", "`sheetsync demo --source wandb`")
    settings = {"silent": True, "disable_code": True, "x_disable_stats": True}
    with tempfile.TemporaryDirectory() as tmp:
        for spec in runs:
            native = Path(tmp) / spec.run_id
            write_run(native, spec)
            config = yaml.safe_load((native / "config.yaml").read_text())
            progress = json.loads((native / "progress.json").read_text())
            results = json.loads((native / "results.json").read_text())
            launch = json.loads((native / "launch.json").read_text())
            run = wandb.init(
                project="sheetsync-demo",
                name=spec.run_id,
                config=config,
                mode="offline",
                dir=str(folder),
                settings=wandb.Settings(git_commit=launch["git_commit"], **settings),
            )
            _curve(run, progress, results)
            run.summary.update(
                {
                    "steps_planned": progress["steps_planned"],
                    "tokens_planned": progress["tokens_planned"],
                    "decay_end_step": progress["lr_schedule"]["decay_end_step"],
                    "params": results["params"],
                    "active_params": results["active_params"],
                    "flops": results["flops"],
                }
            )
            run.finish(exit_code=0 if progress["state"] == "finished" else 143)


def _curve(run: Any, progress: dict[str, Any], results: dict[str, Any]) -> None:
    """A loss curve that ends at the run's final loss, with the tokens seen at each point."""
    rng = random.Random(progress["step"])
    last, final = progress["step"], results["final_loss"]
    for i in range(1, POINTS + 1):
        step = max(1, last * i // POINTS)
        loss = final if i == POINTS else final * (1 + 0.8 * (1 - i / POINTS) ** 2)
        loss *= 1 + (0 if i == POINTS else rng.gauss(0, 0.002))
        tokens = progress["tokens"] * step // last
        run.log({"loss": loss, "tokens": tokens}, step=step)
