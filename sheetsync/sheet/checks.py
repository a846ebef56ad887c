"""`check` over the sheet, and the checks cell at sync: the rules of
`sheetsync.records.checks` applied to each run's row and folder."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sheetsync.errors import RunError, SheetsyncError
from sheetsync.project import Project
from sheetsync.records.checks import Finding, Peer, check_run, summary
from sheetsync.records.runs import Run, read_run
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
                        run = read_run(self.project.run_dir(rid))
                    except RunError:
                        continue
                    self._peers.append((run, row.baseline_ref))
        return self._peers

    def check(self, run: Run, row: Mapping[str, Value], strict: bool = False) -> list[Finding]:
        return check_run(run, row, self.registry, self.project.guarded, strict, self.peers())


class CheckSource:
    """The checks cell of each run at sync: `ok`, or the failing and warning rules."""

    def __init__(self, context: CheckContext):
        self.context = context

    def __call__(self, run: Run, row: Row) -> dict[str, Value]:
        return {"checks": summary(self.context.check(run, row))}


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
    context = CheckContext(project, rows)
    wanted = list(run_ids) or list(context.rows)
    ids = [rid.rstrip("/").rsplit("/", 1)[-1] for rid in wanted]
    project.run_source().refresh([rid for rid in ids if rid in context.rows])
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
