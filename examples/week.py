# %% [markdown]
# # A week of experiments, driven from Python
#
# The loop a team runs every week, as notebook cells (`# %%`: Jupyter, VS Code and
# jupytext open this file as a notebook): launch runs and add their rows, let them train,
# fill the sheet in, check what was launched, fit the baseline's scaling law, ask whether a
# method scales, and write the review meeting's report. It runs on the demo project:
#
#     python examples/week.py [FOLDER]      # FOLDER: where to build it (default: a temp folder)

# %%
import sys
import tempfile
from pathlib import Path

import sheetsync

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "demo"
demo = sheetsync.demo(folder)  # last week, already in the sheet
exp = sheetsync.open(demo.folder)
print(exp, exp.sync(dry_run=True), sep="\n")

# %% [markdown]
# ## Monday: launch two runs and add their rows
# A training script writes its run folder with `sheetsync.RunLog`; `add` shows each run's
# diff against the dated baseline before it appends the row.

# %%
logs = {}
for run_id, d_model in (("prores-2b", 6144), ("prores-3b", 7680)):
    config = exp.baseline("4b-moe").config()
    config["model"]["d_model"] = d_model
    # min_interval=0: this week passes in seconds (a trainer writes at most every 5 s)
    logs[run_id] = sheetsync.RunLog(demo.folder / "runs" / run_id, steps_planned=1000,
                                    min_interval=0)  # fmt: skip
    logs[run_id].config(config)


def show(preview: sheetsync.AddPreview) -> bool:
    print("\n".join(preview.lines()))
    return True  # a person would look, then say yes or no


for run_id in logs:
    print(exp.add(run_id, question="Does ProRes keep helping at 2-3B?", baseline="4b-moe",
                  confirm=show))  # fmt: skip

# %% [markdown]
# ## Tuesday to Thursday: the runs train; `sync` keeps their progress in the sheet

# %%
for step in (250, 500):
    for log in logs.values():
        log.progress(step=step, tokens=step * 2**21)
    synced = exp.sync()
    print(synced)
    for change in synced.by_run()["prores-2b"]:
        print("  ", change.describe(with_key=False))

# %% [markdown]
# ## Friday: results, checks, the fit, does it scale, the report

# %%
for run_id, loss in (("prores-2b", 2.41), ("prores-3b", 2.37)):
    logs[run_id].progress(step=1000, tokens=1000 * 2**21)
    logs[run_id].finish(final_loss=loss, flops=6 * 2e9 * 1000 * 2**21)
print(exp.sync())

checked = exp.check("prores-2b", "prores-3b")
print(checked)
for finding in checked.findings:
    if finding.level != "ok":
        print(f"  {finding.run}: {finding.rule}: {finding.reason}")

fitted = exp.fit("4b-moe@2026-06-01", record=False)
print(fitted.law())
print(exp.scaling("prores-1000m"))

finished = exp.runs(status="finished")
print(finished[["run", "final_loss", "gain"]].tail())
report = exp.report(out=demo.folder / "report")
print(report)
