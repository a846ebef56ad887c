"""`check` over the sheet, and the checks cell at sync: the rules of
`sheetsync.records.checks` applied to each run's row and folder."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sheetsync.errors import RunError, SheetsyncError, UsageError
from sheetsync.project import Project
from sheetsync.records.checks import (
    LIVE_RULES,
    RULES,
    CodeVerdict,
    Finding,
    Peer,
    Subject,
    check_run,
    ladder_keys,
    subject,
    summary,
)
from sheetsync.records.endings import Judge
from sheetsync.records.git import contains
from sheetsync.records.names import BaselineRef
from sheetsync.records.runcache import LAUNCH_FILES, RunCache, gc_paused
from sheetsync.records.runs import Run
from sheetsync.sheet.cycle import all_tabs
from sheetsync.sheet.header import read_header
from sheetsync.sheet.rows import Row, parse_rows
from sheetsync.vocab import BASELINE_ROLES, Value

T = TypeVar("T")
_UNSET = object()


class _NotKept(Exception):
    """A value not to keep in the run cache (it may change without the folder changing)."""

    def __init__(self, value: object):
        self.value = value


def _unsure(findings: list[Finding]) -> bool:
    """A code rule that could not say (a commit the repository does not know yet)."""
    return any(f.unsure for f in findings)


def _plain_findings(findings: list[Finding]) -> list[tuple[str, ...]]:
    return [tuple(vars(f).values()) for f in findings]


# the row's cells the rules read: with the run folder and the baseline's files, all they read
ROW_INPUTS = (
    "fingerprint", "changes", "baseline", "baseline_date", "role", "git_commit", "question",
)  # fmt: skip


class CheckContext:
    """The sheet's rows and the runs found for them, read once per check or sync."""

    def __init__(self, project: Project, rows: Mapping[str, Row], cache: RunCache | None = None):
        self.project = project
        self.cache = (
            cache if cache is not None else RunCache.for_project(project.root, project.folders)
        )
        self.registry = project.registry()
        self.rows = rows
        self._peers: list[Peer] | None = None
        self._versions: dict[str, tuple[tuple[str, int, int], ...]] = {}
        self._repo: object = _UNSET
        self._verdicts: dict[tuple[str, ...], bool | None] = {}

    def code(self, run: Run) -> CodeVerdict | None:
        """The `code` rule's question for one run, asked of the code repository (`code_repo`);
        a yes or no is kept with the run's folder, an unknown commit asked again next time."""
        if self._repo is _UNSET:
            self._repo = self.project.code_repo()
        repo = self._repo
        if not isinstance(repo, Path):
            return None

        def verdict(mine: str, theirs: str) -> bool | None:
            key = ("code verdict", str(repo), mine, theirs)
            if key not in self._verdicts:

                def ask() -> bool:
                    found = contains(repo, mine, theirs)
                    if found is None:
                        raise _NotKept(None)
                    return found

                try:
                    self._verdicts[key] = self.cache.memo(run.path, key, ask, files=())
                except _NotKept:
                    self._verdicts[key] = None
            return self._verdicts[key]

        return verdict

    def peers(self) -> list[Peer]:
        """The sheet's baseline runs whose folders can be read (read once)."""
        if self._peers is None:
            self._peers = []
            for rid, row in self.rows.items():
                if row.role in BASELINE_ROLES and self.project.run_dir(rid).is_dir():
                    try:
                        run = self.cache.run(self.project.run_dir(rid))
                    except RunError:
                        continue
                    self._peers.append((run, row.baseline_ref))
        return self._peers

    def check(self, run: Run, row: Mapping[str, Value], strict: bool = False) -> list[Finding]:
        """Every rule on one run; kept with its folder while nothing the rules read changed."""
        kept = self._kept(run, row, "findings", strict, _plain_findings)
        return [Finding(*values) for values in kept]

    def summary(self, run: Run, row: Mapping[str, Value]) -> str:
        """The checks cell of one run (kept as the cell's text: cheaper to keep than findings)."""
        return self._kept(run, row, "summary", False, summary)

    def _kept(
        self,
        run: Run,
        row: Mapping[str, Value],
        what: str,
        strict: bool,
        form: Callable[[list[Finding]], T],
    ) -> T:
        if str(row.get("role") or "") in BASELINE_ROLES:  # its quality rule reads other runs
            registry, guarded = self.registry, self.project.guarded
            s = subject(run, row, registry, guarded, strict, self.peers(), self.code(run))
            return form(check_run(s))
        inputs = self._inputs(row, strict)

        def findings() -> T:
            found = self._findings(run, row, strict, inputs, what == "summary")
            if _unsure(found):
                raise _NotKept(form(found))
            return form(found)

        try:
            return self.cache.memo(run.path, (what, *inputs, run.ending), findings)
        except _NotKept as unsure:
            return unsure.value  # type: ignore[return-value]

    def _inputs(self, row: Mapping[str, Value], strict: bool) -> tuple[object, ...]:
        """What the rules read besides the run folder."""
        rows = tuple(row.get(k) for k in ROW_INPUTS)
        guarded = tuple(self.project.guarded)
        ref = BaselineRef.of_row(row)
        sizes = tuple(sorted(ladder_keys(self.peers(), ref))) if guarded else ()
        return rows, self._baselines(str(row.get("baseline"))), guarded, strict, sizes

    def _findings(
        self,
        run: Run,
        row: Mapping[str, Value],
        strict: bool,
        inputs: tuple[object, ...],
        brief: bool = False,
    ) -> list[Finding]:
        """Every rule on a run that is not a baseline's (`brief`: only those not ok, all the
        checks cell shows): the rules that read its config and launch facts kept while those
        files are unchanged, the progress rules run anew."""
        registry, guarded = self.registry, self.project.guarded

        def settled() -> list[tuple[str, ...]]:
            s = subject(run, row, registry, guarded, strict, self.peers())
            found = check_run(s, [r for r in RULES if r not in LIVE_RULES])
            return _plain_findings([f for f in found if f.level != "ok"] if brief else found)

        key = ("settled findings", brief, *inputs)
        kept = self.cache.memo(run.path, key, settled, LAUNCH_FILES)
        s = Subject(run, row, registry, tuple(guarded), strict, code=self.code(run))
        live = [f for f in check_run(s, LIVE_RULES) if not (brief and f.level == "ok")]
        order = list(RULES)
        return sorted([Finding(*v) for v in kept] + live, key=lambda f: order.index(f.rule))

    def _baselines(self, name: str) -> tuple[tuple[str, int, int], ...]:
        """The dated files of one baseline name as they are now: what the rules read of it."""
        if name not in self._versions:
            versions = []
            for b in self.registry.history(name):
                for path in (b.path, b.commit_file):
                    try:
                        st = path.stat()
                    except OSError:
                        continue
                    versions.append((path.name, st.st_mtime_ns, st.st_size))
            self._versions[name] = tuple(versions)
        return self._versions[name]


class CheckSource:
    """The checks cell of each run at sync: `ok`, or the failing and warning rules."""

    def __init__(self, context: CheckContext):
        self.context = context

    def __call__(self, run: Run, row: Row) -> dict[str, Value]:
        return {"checks": self.context.summary(run, row)}


@dataclass
class CheckReport:
    findings: list[Finding]
    notices: list[str] = field(default_factory=list)
    not_here: list[str] = field(default_factory=list)  # runs of the sheet not on this machine

    @property
    def failed(self) -> bool:
        return any(f.level == "fail" for f in self.findings)

    def to_json(self) -> str:
        return json.dumps([f.to_dict() for f in self.findings], indent=2)


def check_runs(project: Project, run_ids: Sequence[str] = (), strict: bool = False) -> CheckReport:
    """Run every rule on the named runs (default: every run in the sheet). Reads only."""
    with gc_paused():
        return _check_runs(project, run_ids, strict)  # its runs freed before the collector resumes


def _check_runs(project: Project, run_ids: Sequence[str], strict: bool) -> CheckReport:
    layout = project.layout()
    from sheetsync.sheet.backends import open_backend  # sources import no backend

    backend = open_backend(project)
    with backend.session():
        snapshot = backend.read(all_tabs(layout))
    grid = snapshot.grid(layout.runs.tab)
    notices: list[str] = []
    rows = parse_rows(grid, read_header(grid, layout.runs), notices) if grid else {}
    context = CheckContext(project, rows)
    source = project.run_source(context.cache.run)  # every run read through the stamp cache
    named = [source.run_id(r) for r in run_ids]  # as typed: ids or run folders
    for rid in named:
        if rid not in context.rows:
            raise SheetsyncError(f"{layout.runs.tab} tab: run {rid!r} is not in the sheet")
    # a run without a folder here is on another machine (or a tracker's, elsewhere)
    read = source.read_runs(named or list(context.rows), keep_broken=True)
    not_here = list(read.missing)
    runs, said = Judge(project.stalled_after)(read.runs)  # stalled, and the scheduler's word
    notices += said
    findings: list[Finding] = []
    for run in runs:
        findings += context.check(run, context.rows[run.run_id], strict)
    for run_id, error in read.broken.items():  # malformed files: a failed finding each
        findings.append(Finding(run_id, "files", "fail", " ".join(str(error).split())))
    context.cache.save()
    if named and not_here:
        raise NotHere(
            f"run {not_here[0]!r} is in the sheet but not on this machine (no folder "
            f"{project.run_dir(not_here[0])} from {source.describe()}): not checked"
        )
    for f in findings:
        if f.unsure:
            notices.append(f"{f.run}: {f.reason.removeprefix('note: ')}")
    return CheckReport(findings, notices, not_here)


class NotHere(UsageError):
    """`check RUN` of a run whose folder is on another machine: exit code 2."""
