"""`check` over the sheet, and the checks cell at sync: the rules of
`sheetsync.records.checks` applied to each run's row and folder."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sheetsync.errors import RunError, SheetsyncError
from sheetsync.project import Project
from sheetsync.records.checks import Finding, Peer, check_run, subject, summary
from sheetsync.records.runs import Run
from sheetsync.sheet.backends import open_backend
from sheetsync.sheet.cycle import all_tabs
from sheetsync.sheet.header import read_header
from sheetsync.sheet.rows import Row, parse_rows
from sheetsync.vocab import BASELINE_ROLES, Value


class CheckContext:
    """The sheet's rows and the runs found for them, read once per check or sync."""

    def __init__(self, project: Project, rows: Mapping[str, Row]):
        self.project = project
        self.registry = project.registry()
        self.rows = rows
        self._peers: list[Peer] | None = None

    def peers(self) -> list[Peer]:
        """The sheet's baseline runs whose folders can be read (read once)."""
        if self._peers is None:
            self._peers = []
            for rid, row in self.rows.items():
                if row.role in BASELINE_ROLES and self.project.run_dir(rid).is_dir():
                    try:
                        run = self.project.read_run(self.project.run_dir(rid))
                    except RunError:
                        continue
                    self._peers.append((run, row.baseline_ref))
        return self._peers

    def check(self, run: Run, row: Mapping[str, Value], strict: bool = False) -> list[Finding]:
        guarded = self.project.guarded
        return check_run(subject(run, row, self.registry, guarded, strict, self.peers()))


class CheckSource:
    """The checks cell of each run at sync: `ok`, or the failing and warning rules."""

    def __init__(self, context: CheckContext):
        self.context = context

    def __call__(self, run: Run, row: Row) -> dict[str, Value]:
        return {"checks": summary(self.context.check(run, row))}


@dataclass
class CheckReport:
    findings: list[Finding]
    notices: list[str] = field(default_factory=list)

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
    notices: list[str] = []
    rows = parse_rows(grid, read_header(grid, layout.runs), notices) if grid else {}
    context = CheckContext(project, rows)
    named = [project.run_folder(r) for r in run_ids]  # as typed: ids or run folders
    wanted = named or [project.run_dir(r) for r in context.rows]
    project.run_source().refresh([f.name for f in wanted if f.name in context.rows])
    findings: list[Finding] = []
    for folder in wanted:
        rid = folder.name
        if rid not in context.rows:
            raise SheetsyncError(f"{layout.runs.tab} tab: run {rid!r} is not in the sheet")
        if not folder.is_dir():
            findings.append(Finding(rid, "drift", "fail", f"run folder {folder} not found"))
            continue
        findings += context.check(project.read_run(folder), context.rows[rid], strict)
    return CheckReport(findings, notices)
