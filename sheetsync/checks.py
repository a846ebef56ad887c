"""`sheetsync check`: prove that what the sheet says was launched is what was launched.

Each rule is a pure function of the run folder, the run's row in the sheet and the baseline
registry, and says ok, warn or fail in one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sheetsync.backends.base import Value
from sheetsync.baselines import Baseline, Registry
from sheetsync.configs import Change, diff, format_changes
from sheetsync.engine import cell_source
from sheetsync.errors import BaselineError, RunError, SheetsyncError
from sheetsync.plan import is_empty
from sheetsync.runs import Run, launch_copy, read_run, same_size

if TYPE_CHECKING:
    from sheetsync.backends.base import Snapshot
    from sheetsync.layout import Layout
    from sheetsync.project import Project

RULES = ("drift", "baseline", "stale", "feature", "finished", "reproducible", "question", "quality")
BASELINE_ROLES = ("baseline", "ladder")
QUALITY_TOLERANCE = 1e-3  # a newer baseline may not be worse by more than this in loss


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one run."""

    run: str
    rule: str
    level: str  # ok | warn | fail
    reason: str
    detail: str = ""  # the few words the checks cell shows, when the rule name is not enough

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _keys(changes: Sequence[Change], limit: int = 4) -> str:
    shown = ", ".join(c.key for c in changes[:limit])
    return shown + (f" +{len(changes) - limit} more" if len(changes) > limit else "")


def guarded_changes(changes: Sequence[Change], guarded: Sequence[str]) -> list[Change]:
    """Changes to keys the team guards (a dotted prefix guards everything under it)."""
    return [c for c in changes if any(c.key == g or c.key.startswith(g + ".") for g in guarded)]


def _ref(row: Mapping[str, Value]) -> str:
    return f"{row.get('baseline')}@{row.get('baseline_date')}"


def _baseline(row: Mapping[str, Value], registry: Registry) -> Baseline | None:
    try:
        return registry.resolve(_ref(row))
    except BaselineError:
        return None


def check_run(
    run: Run,
    row: Mapping[str, Value],
    registry: Registry,
    guarded: Sequence[str] = (),
    strict: bool = False,
    peers: Sequence[Run] = (),
) -> list[Finding]:
    """All rules for one run. `peers` are the other runs in the sheet (for the quality rule)."""
    rid = run.run_id
    out: list[Finding] = []

    def add(rule: str, level: str, reason: str) -> None:
        out.append(Finding(rid, rule, level, reason))

    # 1. drift: the config in the folder is the one fingerprinted at `add`
    recorded = row.get("fingerprint")
    drifted_since_add = not is_empty(recorded) and recorded != run.fingerprint
    launched = launch_copy(run) if drifted_since_add else None
    if is_empty(recorded):
        add("drift", "warn", "no config fingerprint in the sheet")
    elif recorded != run.fingerprint:
        detail, keys = "", ""
        if launched is not None:
            drifted = diff(launched, run.config)
            detail, keys = ": " + format_changes(drifted), _keys(drifted)
        reason = f"config changed since launch ({recorded} -> {run.fingerprint}){detail}"
        out.append(Finding(rid, "drift", "fail", reason, keys))
    else:
        add("drift", "ok", "config matches its fingerprint")
    # 2. baseline date exists, and the recorded changes are the diff against it
    baseline = _baseline(row, registry)
    as_launched = launched if launched is not None else run.config
    changes: list[Change] = []
    if baseline is None:
        add("baseline", "fail", f"baseline {_ref(row)} is not in {registry.folder}")
    else:
        changes = diff(baseline.config(), as_launched)
        text = format_changes(changes) or "(none)"
        if str(row.get("changes") or "").strip() != text and len(text) < 2000:
            add(
                "baseline",
                "fail",
                f"recorded changes differ from the diff vs {baseline.ref}: {text}",
            )
        else:
            add("baseline", "ok", f"changes match {baseline.ref}")
    # 3. stale baseline
    newer = registry.newer_than(baseline) if baseline else None
    role = str(row.get("role") or "feature")
    if newer is not None and role in BASELINE_ROLES:
        add("stale", "ok", f"the baseline's own run at {baseline.ref}")
    elif newer is not None:
        moved = diff(baseline.config(), newer.config())
        add(
            "stale",
            "fail" if strict else "warn",
            f"stale baseline: {newer.ref} is newer ({_keys(moved)})",
        )
    elif baseline is not None:
        add("stale", "ok", f"{baseline.ref} is the newest date")
    # 4. the feature is really there, and guarded keys are not changed silently
    if baseline is not None:
        touched = guarded_changes(changes, guarded)
        if role == "ladder":
            touched = [c for c in touched if not c.key.startswith("model.")]
        if not changes and role not in BASELINE_ROLES:
            add("feature", "fail", f"identical to {baseline.ref} but not marked as a baseline run")
        elif touched:
            reason = "guarded keys changed: " + "; ".join(str(c) for c in touched)
            out.append(Finding(rid, "feature", "warn", reason, _keys(touched)))
        else:
            add("feature", "ok", f"{len(changes)} changes vs {baseline.ref}")
    # 5. only finished runs are evidence
    status = run.status
    if run.finished:
        add("finished", "ok", "finished")
    elif status.startswith("unfinished"):
        add("finished", "fail", status)
    else:
        add("finished", "warn", f"not finished yet ({status})")
    # 6. reproducible
    commit = str(row.get("git_commit") or run.launch.git_commit or "")
    seed = run.launch.seed
    if seed is None:
        train = run.config.get("train")
        seed = run.config.get("seed") or (train.get("seed") if isinstance(train, dict) else None)
    problems = []
    if not commit:
        problems.append("no git commit recorded")
    elif commit.endswith("-dirty") or run.launch.git_dirty:
        problems.append("working tree was not clean at launch")
    if seed is None:
        problems.append("no seed recorded")
    add("reproducible", "warn" if problems else "ok", "; ".join(problems) or f"commit {commit}")
    # 7. the research question
    if is_empty(row.get("question")):
        add("question", "fail", "no research question")
    else:
        add("question", "ok", "question recorded")
    # 8. a newer baseline is not worse than the previous date at the same size
    if role == "baseline" and baseline is not None and run.finished:
        previous = registry.previous(baseline)
        older = [p for p in peers if previous and getattr(p, "baseline_ref", None) == previous.ref]
        for other in older:
            if other.finished and same_size(other, run):
                mine, theirs = run.results.final_loss, other.results.final_loss
                if mine is not None and theirs is not None and mine > theirs + QUALITY_TOLERANCE:
                    add(
                        "quality",
                        "fail",
                        f"regression: loss {mine:.4f} vs {theirs:.4f} of "
                        f"{previous.ref}'s run {other.run_id}",
                    )
                elif mine is not None and theirs is not None:
                    add("quality", "ok", f"loss {mine:.4f} vs {theirs:.4f} of {other.run_id}")
                break
    return out


def summary(findings: Sequence[Finding]) -> str:
    """The checks cell: `ok`, or the failing then warning rules, briefly."""
    parts = []
    for level in ("fail", "warn"):
        rules = [f for f in findings if f.level == level]
        if rules:
            parts.append(f"{level}: " + ", ".join(_short(f) for f in rules))
    return "; ".join(parts) or "ok"


def _short(f: Finding) -> str:
    if f.rule == "drift":
        return f"config drift ({f.detail})" if f.detail else "config drift"
    if f.rule == "feature" and f.detail:
        return f"guarded {f.detail}"
    if f.rule == "stale":
        return f.reason.split(" (")[0]
    if f.rule == "finished":
        return f.reason.split(":")[0]
    return f.rule


@dataclass(frozen=True)
class PeerRun:
    """A run with the dated baseline its row names, for cross-run rules."""

    run: Run
    baseline_ref: str

    def __getattr__(self, name: str):  # noqa: ANN204 - delegate to the run
        return getattr(self.run, name)


class CheckContext:
    """The sheet's rows and the runs found for them, read once per check or sync."""

    def __init__(self, project: Project, layout: Layout, snapshot: Snapshot):
        from sheetsync.plan import cell, index_rows, read_header

        self.project = project
        self.registry = project.registry()
        self.rows: dict[str, dict[str, Value]] = {}
        grid = snapshot.grid(layout.runs.tab)
        if grid:
            header = read_header(grid, layout.runs)
            for rid, r in index_rows(grid, header).items():
                self.rows[rid] = {k: cell(grid, r, c) for k, c in header.positions.items()}
        self._peers: list[PeerRun] | None = None

    def peers(self) -> list[PeerRun]:
        if self._peers is None:
            self._peers = []
            for rid, row in self.rows.items():
                if row.get("role") in BASELINE_ROLES and self.project.run_dir(rid).is_dir():
                    try:
                        run = read_run(self.project.run_dir(rid))
                    except RunError:
                        continue
                    self._peers.append(PeerRun(run, _ref(row)))
        return self._peers

    def check(self, run: Run, row: Mapping[str, Value], strict: bool = False) -> list[Finding]:
        return check_run(run, row, self.registry, self.project.guarded, strict, self.peers())


@cell_source
def _check_sources(project: Project, layout: Layout, snapshot: Snapshot) -> list:
    if not layout.runs.has("checks"):
        return []
    context = CheckContext(project, layout, snapshot)
    return [lambda run, row: {"checks": summary(context.check(run, row))}]


@dataclass
class CheckReport:
    findings: list[Finding]

    @property
    def failed(self) -> bool:
        return any(f.level == "fail" for f in self.findings)

    def to_json(self) -> str:
        return json.dumps([f.to_dict() for f in self.findings], indent=2)


def check_runs(project: Project, run_ids: Sequence[str] = (), strict: bool = False) -> CheckReport:
    """Run every rule on the named runs (default: every run in the sheet). Reads only."""
    from sheetsync.engine import all_tabs

    layout = project.layout()
    backend = project.backend()
    with backend.session():
        snapshot = backend.read(all_tabs(layout))
    context = CheckContext(project, layout, snapshot)
    wanted = list(run_ids) or list(context.rows)
    findings: list[Finding] = []
    for rid in wanted:
        rid = rid.rstrip("/").rsplit("/", 1)[-1]
        if rid not in context.rows:
            raise SheetsyncError(f"{layout.runs.tab} tab: run {rid!r} is not in the sheet")
        folder = project.run_dir(rid)
        if not folder.is_dir():
            findings.append(Finding(rid, "drift", "fail", f"run folder {folder} not found"))
            continue
        findings += context.check(read_run(folder), context.rows[rid], strict)
    return CheckReport(findings)


@dataclass(frozen=True)
class Verification:
    """A config checked before launch against the dated baseline it will claim."""

    baseline: Baseline
    changes: list[Change]
    guarded: list[Change]
    newer: Baseline | None
    problems: list[str]


def verify_config(
    project: Project, config_file, baseline_ref: str, strict: bool = False
) -> Verification:  # noqa: ANN001
    """The diff a person should read before submitting a job; problems make a launch script stop."""
    from pathlib import Path

    from sheetsync.configs import load_mapping

    config = load_mapping(Path(config_file))
    registry = project.registry()
    baseline = registry.resolve(baseline_ref)
    changes = diff(baseline.config(), config)
    touched = guarded_changes(changes, project.guarded)
    newer = registry.newer_than(baseline)
    problems = []
    if not changes:
        problems.append(f"identical to {baseline.ref}: the feature is not enabled")
    if strict and touched:
        problems.append("guarded keys changed: " + ", ".join(c.key for c in touched))
    if strict and newer is not None:
        problems.append(f"stale baseline: {newer.ref} is newer")
    return Verification(baseline, changes, touched, newer, problems)


def _demo_check(result, project) -> None:  # noqa: ANN001 - a sheetsync.demo step
    report = check_runs(project)
    for f in report.findings:
        if f.level == "fail":
            result.log.append(f"check: {f.run}: {f.rule}: {f.reason}")
    stale = sorted({f.run for f in report.findings if f.rule == "stale" and f.level != "ok"})
    result.log.append(f"check: {len(stale)} runs compare against a stale baseline")


def _register_demo_step() -> None:
    from sheetsync.demo import EXTRA_STEPS

    if _demo_check not in EXTRA_STEPS:
        EXTRA_STEPS.append(_demo_check)


_register_demo_step()
