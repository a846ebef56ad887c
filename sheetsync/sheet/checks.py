"""`check` over the sheet, and the checks cell at sync: the rules of
`sheetsync.records.checks` applied to each run's row and folder."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sheetsync.errors import RunError, SheetsyncError
from sheetsync.project import Project
from sheetsync.records.checks import Finding, Peer, check_run, subject, summary
from sheetsync.records.runcache import RunCache, gc_paused
from sheetsync.records.runs import Run
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cycle import all_tabs
from sheetsync.sheet.header import read_header
from sheetsync.sheet.rows import Row, parse_rows
from sheetsync.vocab import BASELINE_ROLES, Value

T = TypeVar("T")


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
        self.cache = cache if cache is not None else RunCache.for_project(project.root)
        self.registry = project.registry()
        self.rows = rows
        self._peers: list[Peer] | None = None
        self._versions: dict[str, tuple[tuple[str, int, int], ...]] = {}

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
        guarded = self.project.guarded

        def run_rules() -> T:
            found = check_run(subject(run, row, self.registry, guarded, strict, self.peers()))
            return form(found)

        if str(row.get("role") or "") in BASELINE_ROLES:
            return run_rules()  # its quality rule reads other runs: never kept
        key = (
            what,
            tuple(row.get(k) for k in ROW_INPUTS),
            self._baselines(str(row.get("baseline"))),
            tuple(guarded),
            strict,
        )
        return self.cache.memo(run.path, key, run_rules)

    def _baselines(self, name: str) -> tuple[tuple[str, int, int], ...]:
        """The dated files of one baseline name as they are now: what the rules read of it."""
        if name not in self._versions:
            versions = []
            for b in self.registry.history(name):
                try:
                    st = b.path.stat()
                except OSError:
                    continue
                versions.append((b.path.name, st.st_mtime_ns, st.st_size))
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

    @property
    def failed(self) -> bool:
        return any(f.level == "fail" for f in self.findings)

    def to_json(self) -> str:
        return json.dumps([f.to_dict() for f in self.findings], indent=2)


def check_runs(project: Project, run_ids: Sequence[str] = (), strict: bool = False) -> CheckReport:
    """Run every rule on the named runs (default: every run in the sheet). Reads only."""
    layout = project.layout()
    backend = open_backend(project)
    with backend.session():
        snapshot = backend.read(all_tabs(layout))
    grid = snapshot.grid(layout.runs.tab)
    rows = parse_rows(grid, read_header(grid, layout.runs)) if grid else {}
    with gc_paused():
        return _check_rows(project, layout.runs.tab, rows, run_ids, strict)


def _check_rows(
    project: Project,
    tab: str,
    rows: Mapping[str, Row],
    run_ids: Sequence[str],
    strict: bool,
) -> CheckReport:
    context = CheckContext(project, rows)
    wanted = list(run_ids) or list(context.rows)
    findings: list[Finding] = []
    for rid in wanted:
        rid = rid.rstrip("/").rsplit("/", 1)[-1]
        if rid not in context.rows:
            raise SheetsyncError(f"{tab} tab: run {rid!r} is not in the sheet")
        folder = project.run_dir(rid)
        if not folder.is_dir():
            findings.append(Finding(rid, "drift", "fail", f"run folder {folder} not found"))
            continue
        findings += context.check(context.cache.run(folder), context.rows[rid], strict)
    context.cache.save()
    return CheckReport(findings)
