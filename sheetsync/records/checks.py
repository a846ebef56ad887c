"""The check rules: prove that what the sheet says was launched is what was launched.

Each rule is a function of one `Subject` (the run folder, the run's row in the sheet, its
dated baseline) and says ok, warn or fail in one line. `RULES` lists them in the order
`check` reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sheetsync.errors import BaselineError
from sheetsync.records.baselines import Baseline, Registry
from sheetsync.records.configs import Change, diff, format_changes, load_mapping
from sheetsync.records.names import BaselineRef
from sheetsync.records.runs import Run, launch_copy, same_size
from sheetsync.vocab import (
    BASELINE_ROLES,
    DIVERGED,
    Level,
    Value,
    is_diverged,
    is_empty,
    is_unfinished,
)

QUALITY_TOLERANCE = 1e-3  # a newer baseline may not be worse by more than this in loss
Peer = tuple[Run, str]
"""A baseline run of the sheet and the dated baseline (`NAME@DATE`) its row names."""
CodeVerdict = Callable[[str, str], bool | None]
"""(run's commit, baseline's commit) -> whether the run's history contains the baseline's
(None: the repository does not know one of them)."""


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one run."""

    run: str
    rule: str
    level: Level
    reason: str
    detail: str = ""  # the few words the checks cell shows, when the rule name is not enough
    short: str = ""  # what the checks cell says of it instead of the rule's name (not in JSON)
    unsure: bool = False  # the rule could not say (not in JSON): its reason is a note

    def to_dict(self) -> dict[str, str]:
        data = asdict(self)
        del data["short"], data["unsure"]
        return data


def _keys(changes: Sequence[Change], limit: int = 4) -> str:
    shown = ", ".join(c.key for c in changes[:limit])
    return shown + (f" +{len(changes) - limit} more" if len(changes) > limit else "")


def guarded_changes(changes: Sequence[Change], guarded: Sequence[str]) -> list[Change]:
    """Changes to keys the team guards (a dotted prefix guards everything under it)."""
    return [c for c in changes if any(c.key == g or c.key.startswith(g + ".") for g in guarded)]


def ladder_keys(peers: Sequence[Peer], ref: str) -> frozenset[str]:
    """The keys whose values differ between the baseline's own runs (its ladder rungs, its
    baseline runs): the sizes it is run at, which a feature run may take without a warning."""
    configs = [run.config for run, peer_ref in peers if peer_ref == ref]
    keys: set[str] = set()
    for other in configs[1:]:
        keys |= {c.key for c in diff(configs[0], other)}
    return frozenset(keys)


@dataclass
class Subject:
    """One run under check, with what several rules share (computed once)."""

    run: Run
    row: Mapping[str, Value]
    registry: Registry
    guarded: Sequence[str] = ()
    strict: bool = False
    peers: Sequence[Peer] = ()
    code: CodeVerdict | None = None  # None: no repository at hand to check code in
    launched: dict[str, Any] | None = None  # the config as `add` saw it, when it drifted since
    baseline: Baseline | None = None
    changes: list[Change] = field(default_factory=list)  # vs the baseline, as launched

    @property
    def ref(self) -> str:
        return BaselineRef.of_row(self.row)

    @property
    def role(self) -> str:
        return str(self.row.get("role") or "feature")

    def finding(
        self, rule: str, level: Level, reason: str, detail: str = "", short: str = ""
    ) -> Finding:
        return Finding(self.run.run_id, rule, level, reason, detail, short)


def subject(
    run: Run,
    row: Mapping[str, Value],
    registry: Registry,
    guarded: Sequence[str] = (),
    strict: bool = False,
    peers: Sequence[Peer] = (),
    code: CodeVerdict | None = None,
) -> Subject:
    """What the rules share: the launch copy (for a drifted run only), the baseline, the diff."""
    s = Subject(run, row, registry, tuple(guarded), strict, peers, code)
    recorded = row.get("fingerprint")
    if not is_empty(recorded) and recorded != run.fingerprint:
        s.launched = launch_copy(run)
    try:
        s.baseline = registry.resolve(s.ref)
    except BaselineError:
        s.baseline = None
    if s.baseline is not None:
        as_launched = s.launched if s.launched is not None else run.config
        s.changes = diff(s.baseline.config(), as_launched)
    return s


def rule_drift(s: Subject) -> list[Finding]:
    """The config in the folder is the one fingerprinted at `add`."""
    recorded = s.row.get("fingerprint")
    if is_empty(recorded):
        return [s.finding("drift", "warn", "no config fingerprint in the sheet")]
    if recorded == s.run.fingerprint:
        return [s.finding("drift", "ok", "config matches its fingerprint")]
    detail, keys = "", ""
    if s.launched is not None:
        drifted = diff(s.launched, s.run.config)
        detail, keys = ": " + format_changes(drifted), _keys(drifted)
    reason = f"config changed since launch ({recorded} -> {s.run.fingerprint}){detail}"
    return [s.finding("drift", "fail", reason, keys)]


def rule_baseline(s: Subject) -> list[Finding]:
    """The baseline date exists, and the recorded changes are the diff against it."""
    if s.baseline is None:
        return [s.finding("baseline", "fail", f"baseline {s.ref} is not in {s.registry.folder}")]
    text = format_changes(s.changes) or "(none)"
    if str(s.row.get("changes") or "").strip() != text and len(text) < 2000:
        reason = f"recorded changes differ from the diff vs {s.baseline.ref}: {text}"
        return [s.finding("baseline", "fail", reason)]
    return [s.finding("baseline", "ok", f"changes match {s.baseline.ref}")]


def rule_stale(s: Subject) -> list[Finding]:
    """A feature run compares against the newest date of its baseline."""
    if s.baseline is None:
        return []
    newer = s.registry.newer_than(s.baseline)
    if newer is None:
        return [s.finding("stale", "ok", f"{s.baseline.ref} is the newest date")]
    if s.role in BASELINE_ROLES:
        return [s.finding("stale", "ok", f"the baseline's own run at {s.baseline.ref}")]
    moved = diff(s.baseline.config(), newer.config())
    level: Level = "fail" if s.strict else "warn"
    short = f"stale baseline: {newer.ref} is newer"
    return [s.finding("stale", level, f"{short} ({_keys(moved)})", short=short)]


def rule_feature(s: Subject) -> list[Finding]:
    """The feature is really there, and guarded keys are not changed silently."""
    if s.baseline is None:
        return []
    touched = guarded_changes(s.changes, s.guarded)
    if s.role == "ladder":
        touched = [c for c in touched if not c.key.startswith("model.")]
    elif touched and s.role not in BASELINE_ROLES:
        sizes = ladder_keys(s.peers, s.ref)  # a feature run at one of the ladder's sizes
        touched = [c for c in touched if c.key not in sizes]
    if not s.changes and s.role not in BASELINE_ROLES:
        reason = f"identical to {s.baseline.ref} but not marked as a baseline run"
        return [s.finding("feature", "fail", reason)]
    if touched:
        reason = "guarded keys changed: " + "; ".join(str(c) for c in touched)
        return [s.finding("feature", "warn", reason, _keys(touched))]
    return [s.finding("feature", "ok", f"{len(s.changes)} changes vs {s.baseline.ref}")]


def rule_finished(s: Subject) -> list[Finding]:
    """Only finished runs are evidence."""
    status = s.run.status
    if s.run.finished:
        return [s.finding("finished", "ok", "finished")]
    if is_diverged(status):
        return [s.finding("finished", "fail", status, short=DIVERGED)]
    if is_unfinished(status):
        return [s.finding("finished", "fail", status, short=status.partition(":")[0])]
    short = f"not finished yet ({status.partition(':')[0]})"  # running, queued, stalled...
    return [s.finding("finished", "warn", f"not finished yet ({status})", short=short)]


def rule_reproducible(s: Subject) -> list[Finding]:
    """A commit (clean tree) and a seed are recorded."""
    run = s.run
    commit = str(s.row.get("git_commit") or run.launch.git_commit or "")
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
    reason = "; ".join(problems) or f"commit {commit}"
    return [s.finding("reproducible", "warn" if problems else "ok", reason)]


def rule_question(s: Subject) -> list[Finding]:
    """The row says what the run is meant to find out."""
    if is_empty(s.row.get("question")):
        return [s.finding("question", "fail", "no research question")]
    return [s.finding("question", "ok", "question recorded")]


def rule_quality(s: Subject) -> list[Finding]:
    """A newer baseline is not worse than the previous date's run at the same size."""
    run = s.run
    if s.role != "baseline" or s.baseline is None or not run.finished:
        return []
    previous = s.registry.previous(s.baseline)
    if previous is None:
        return []
    for other, ref in s.peers:
        if ref != previous.ref or not other.finished or not same_size(other, run):
            continue
        mine, theirs = run.results.final_loss, other.results.final_loss
        if mine is None or theirs is None:
            return []
        if mine > theirs + QUALITY_TOLERANCE:
            reason = (
                f"regression: loss {mine:.4f} vs {theirs:.4f} of "
                f"{previous.ref}'s run {other.run_id}"
            )
            return [s.finding("quality", "fail", reason)]
        return [s.finding("quality", "ok", f"loss {mine:.4f} vs {theirs:.4f} of {other.run_id}")]
    return []


def rule_code(s: Subject) -> list[Finding]:
    """The run was launched from code that contains the code its baseline was trained with."""
    baseline = s.baseline
    if baseline is None:
        try:
            baseline = s.registry.resolve(s.ref)
        except BaselineError:
            return []
    mine = str(s.row.get("git_commit") or s.run.launch.git_commit or "").removesuffix("-dirty")
    theirs = baseline.commit()
    if s.code is None or not mine or not theirs:
        return []
    contains = s.code(mine, theirs)
    if contains is None:
        reason = f"note: commit {mine[:12]} or {theirs[:7]} is not in the code repository (fetch)"
        return [replace(s.finding("code", "ok", reason), unsure=True)]
    if contains:
        return [s.finding("code", "ok", f"contains {baseline.ref}'s code ({theirs[:7]})")]
    level: Level = "fail" if s.strict else "warn"
    short = f"behind {baseline.ref}'s code ({theirs[:7]})"
    return [s.finding("code", level, f"{short}: rebase on main", "behind", short)]


RULES: dict[str, Callable[[Subject], list[Finding]]] = {
    "drift": rule_drift,
    "baseline": rule_baseline,
    "stale": rule_stale,
    "feature": rule_feature,
    "finished": rule_finished,
    "reproducible": rule_reproducible,
    "question": rule_question,
    "quality": rule_quality,
    "code": rule_code,
}


# the rules that read the run's progress; the others read its config, launch facts and row
PROGRESS_RULES = ("finished",)
# the rules asked anew at every check: the run's progress, and the code repository (which
# may learn a commit it did not know)
LIVE_RULES = (*PROGRESS_RULES, "code")


def check_run(s: Subject, rules: Iterable[str] = RULES) -> list[Finding]:
    """Every rule (or the named ones), in order, for one run (see `subject` for what they
    share)."""
    return [f for name in rules for f in RULES[name](s)]


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
    return f.short or f.rule


@dataclass(frozen=True)
class Verification:
    """A config checked before launch against the dated baseline it will claim."""

    baseline: Baseline
    changes: list[Change]
    guarded: list[Change]
    newer: Baseline | None
    problems: list[str]


def verify_config(
    registry: Registry,
    guarded: Sequence[str],
    config_file: Path,
    baseline_ref: str,
    strict: bool = False,
) -> Verification:
    """The diff a person should read before submitting a job; problems make a launch script stop."""
    config = load_mapping(Path(config_file))
    baseline = registry.resolve(baseline_ref)
    changes = diff(baseline.config(), config)
    touched = guarded_changes(changes, guarded)
    newer = registry.newer_than(baseline)
    problems = []
    if not changes:
        problems.append(f"identical to {baseline.ref}: the feature is not enabled")
    if strict and touched:
        problems.append("guarded keys changed: " + ", ".join(c.key for c in touched))
    if strict and newer is not None:
        problems.append(f"stale baseline: {newer.ref} is newer")
    return Verification(baseline, changes, touched, newer, problems)
