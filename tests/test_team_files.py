"""Files for a team: everything sheetsync writes has the mode a plain open() gives under the
umask (teammates on a shared filesystem can read it), through one atomic writer; and the run
cache is data, never code, rebuilt when it does not parse or validate."""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path

import pytest
import yaml

from sheetsync.records import atomic, runcache
from sheetsync.records.runcache import CACHE_FILE, RunCache
from sheetsync.records.runlog import RunLog
from tests.helpers import BASE, cli, write_run

HOUR_AGO = 1_700_000_000


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def plain_open_mode(tmp_path: Path) -> int:
    probe = tmp_path / "probe-plain-open"
    with open(probe, "w"):
        pass
    found = mode(probe)
    probe.unlink()
    return found


def _age(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (HOUR_AGO, HOUR_AGO))


def test_the_atomic_writer_gives_a_new_file_the_mode_open_gives(tmp_path, umask):
    expected = 0o666 & ~umask
    assert plain_open_mode(tmp_path) == expected
    atomic.write_atomic(tmp_path / "a.txt", "text")
    tmp = atomic.stage(tmp_path / "b.json", b"{}")
    atomic.put_in_place(tmp, tmp_path / "b.json")
    with atomic.replacing(tmp_path / "c.xlsx") as path, open(path, "wb") as fh:
        fh.write(b"zip")
    for name in ("a.txt", "b.json", "c.xlsx"):
        assert mode(tmp_path / name) == expected, name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.json", "c.xlsx"]


def test_a_replaced_file_keeps_its_mode_as_open_would(tmp_path, umask):
    target = tmp_path / "shared.yaml"
    target.write_text("old")
    os.chmod(target, 0o640)
    atomic.write_atomic(target, "new")
    assert (target.read_text(), mode(target)) == ("new", 0o640)


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "book.xlsx"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.replacing(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["book.xlsx"]


def test_a_symlink_at_the_target_is_replaced_not_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(elsewhere)
    atomic.write_atomic(link, "new")
    assert elsewhere.read_text() == "keep"
    assert not link.is_symlink() and link.read_text() == "new"


def test_no_other_temp_file_writer_is_left_in_the_package():
    """One writer: no module but records/atomic.py creates temp files or renames them."""
    package = Path(__file__).parent.parent / "sheetsync"
    found = []
    for path in package.rglob("*.py"):
        if path.name == "atomic.py":
            continue
        text = path.read_text()
        for needle in ("mkstemp", "NamedTemporaryFile", "os.replace(", "os.rename(", ".rename("):
            if needle in text:
                found.append(f"{path.relative_to(package)}: {needle}")
    assert found == []


def test_everything_a_project_writes_is_readable_by_the_team(umask, project, tmp_path):
    """add (launch records), sync (workbook, caches), baseline add, report, pull: every file
    sheetsync wrote has open()'s mode under the umask."""
    expected = 0o666 & ~umask
    config = tmp_path / "b2.yaml"
    config.write_text(yaml.safe_dump({**BASE, "seed": 2}))
    assert cli(project, "baseline", "add", "b", "--config", str(config), "--date",
               "2026-07-01", "--commit", "abc1234").exit_code == 0  # fmt: skip
    folder = write_run(project, "r1", loss=2.4)
    _age(folder)
    before = {p for p in project.root.rglob("*") if p.is_file()}
    result = cli(project, "add", str(folder), "-q", "Does it help?", "-b", "b", "--yes")
    assert result.exit_code == 0, result.output
    _age(folder)  # old enough for the run cache to keep
    assert cli(project, "sync").exit_code == 0
    assert cli(project, "report").exit_code == 0, "report"
    out = tmp_path / "runs.csv"
    assert cli(project, "pull", "--out", str(out)).exit_code == 0
    written = {p for p in project.root.rglob("*") if p.is_file()} - before
    written |= {Path(project.sheet_target), out, project.baselines_dir / "b@2026-07-01.yaml"}
    names = {p.name for p in written}
    assert {".sheetsync-launch.json", "runs.cache", "report.html", "report.md"} <= names
    wrong = {str(p): oct(mode(p)) for p in written if mode(p) != expected}
    assert wrong == {}


def test_a_run_log_is_readable_by_the_team(tmp_path, umask):
    with RunLog(tmp_path / "r1", steps_planned=10) as log:
        log.config({"lr": 1e-3}, git_commit="abc1234")
        log.progress(1)
    files = [p for p in (tmp_path / "r1").iterdir()]
    assert files and all(mode(p) == 0o666 & ~umask for p in files)


# --- the run cache is data ------------------------------------------------------------------


def test_the_run_cache_is_json_lines_not_pickle(project):
    folder = write_run(project, "r1", loss=2.5)
    _age(folder)
    cache = RunCache.for_project(project.root)
    cache.run(folder)
    cache.save()
    lines = (project.root / CACHE_FILE).read_text().split("\n")
    assert json.loads(lines[0]) == {"sheetsync run cache": runcache.VERSION}
    name, stamp, values = lines[1].split("\t")
    assert json.loads(name) == str(folder)
    assert [n for n, *_ in json.loads(stamp)] == sorted(n for n, *_ in json.loads(stamp))
    assert json.loads(values)["memo"][repr(("run config",))][1][1] == BASE


class Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_pickle_left_where_the_cache_was_is_never_loaded(project, tmp_path, monkeypatch):
    """The old pickle format (or a teammate's planted one) is not read: rebuilt as data."""
    monkeypatch.chdir(tmp_path)
    folder = write_run(project, "r1", loss=2.5)
    assert cli(project, "add", str(folder), "-q", "Q?", "-b", "b", "--yes").exit_code == 0
    _age(folder)
    store = project.root / CACHE_FILE
    store.parent.mkdir(exist_ok=True)
    store.write_bytes(pickle.dumps((5, {str(folder): ((), pickle.dumps(Boom()))})))
    result = cli(project, "check", "r1")
    assert not (tmp_path / "PWNED").exists()
    assert "checked 1 runs" in result.output
    assert store.read_text().startswith('{"sheetsync run cache"')


def _bad_progress(slot: dict) -> dict:
    run = slot["run"]
    return {**slot, "run": [[{"x": 1}] * len(run[0]), *run[1:]]}


DAMAGE = {
    "not json": lambda v: "{not json",
    "not a mapping": lambda v: "[1, 2]",
    "run of the wrong shape": lambda v: json.dumps({**json.loads(v), "run": ["x", 1]}),
    "run with a bad field": lambda v: json.dumps(_bad_progress(json.loads(v))),
    "memo not pairs": lambda v: json.dumps({"memo": {"('run config',)": 7}, "run": 1}),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_folders_values_that_do_not_validate_are_read_again(project, damage):
    folder = write_run(project, "r1", loss=2.5)
    _age(folder)
    store = project.root / CACHE_FILE
    cache = RunCache(store)
    cache.run(folder)
    cache.save()
    header, line = store.read_text().split("\n")
    name, stamp, values = line.split("\t")
    store.write_text(f"{header}\n{name}\t{stamp}\t{DAMAGE[damage](values)}")
    again = RunCache(store)
    run = again.run(folder)
    assert (run.results.final_loss, run.progress.step, dict(run.config)) == (2.5, 1000, BASE)
    again.save()
    kept = json.loads(store.read_text().split("\n")[1].split("\t")[2])
    assert kept["memo"][repr(("run config",))][1][1] == BASE


def test_a_truncated_cache_keeps_the_whole_lines(project):
    folders = [write_run(project, f"r{i}", loss=2.0 + i) for i in range(3)]
    for f in folders:
        _age(f)
    store = project.root / CACHE_FILE
    cache = RunCache(store)
    for f in folders:
        cache.run(f)
    cache.save()
    text = store.read_text()
    store.write_text(text[: len(text) - 20])
    again = RunCache(store)
    assert [again.run(f).results.final_loss for f in folders] == [2.0, 3.0, 4.0]
