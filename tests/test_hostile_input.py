"""Hostile and careless input (issue 15) beyond the corpus: reads that could hang or exhaust
memory (run in a subprocess under a memory cap), every text in the run column, writes staged
before the sheet, and output that a renderer or a spreadsheet would run."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from sheetsync.errors import RunError, SheetError, SheetsyncError
from sheetsync.layout import load_layout
from sheetsync.records.configs import load_mapping
from sheetsync.records.names import run_id_problem
from sheetsync.records.runs import LAUNCH_COPY
from sheetsync.sheet.header import read_header
from sheetsync.sheet.rows import parse_rows
from tests.helpers import cli, write_run
from tests.xlsx_helpers import runs_cells

REPO = Path(__file__).parent.parent
MEMORY_CAP = 2 * 1024**3  # a billion-laughs expansion or /dev/zero read in full needs far more
TIMEOUT = 120  # generous: a refusal takes well under a second; a hang never ends
BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def sheetsync_process(project, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a child process under a memory cap and a timeout."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "sheetsync", "--config", str(project.path), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_capped,
        env=env,
        check=False,
    )


@pytest.fixture
def synced(project):
    """r1 added and synced; its results then change, so a sync that got through would write."""
    run = write_run(project, "r1", loss=2.4)
    assert cli(project, "add", str(run), "-q", "q", "-b", "b", "--yes").exit_code == 0
    assert cli(project, "sync").exit_code == 0
    (run / "results.json").write_text(json.dumps({"final_loss": 1.9, "flops": 6e18}))
    return project, run


def _fifo(run: Path, name: str) -> str:
    (run / name).unlink(missing_ok=True)
    os.mkfifo(run / name)
    return f"Error: {run / name}: a FIFO, not a file; sheetsync reads regular files only"


def _endless_config(run: Path, project) -> str:
    project.path.write_text(project.path.read_text() + "trusted_folders: [/dev]\n")
    (run / "config.yaml").unlink()
    (run / "config.yaml").symlink_to("/dev/zero")
    return (
        f"Error: {run / 'config.yaml'}: a character device, not a file; sheetsync reads "
        "regular files only"
    )


def _bomb(run: Path) -> str:
    (run / "config.yaml").write_text(BILLION_LAUGHS)
    return (
        f"Error: {run / 'config.yaml'}: more than 2,000,000 values once YAML aliases are "
        "expanded (an alias bomb?); refused"
    )


@pytest.mark.parametrize(
    "case", ["fifo-progress", "fifo-config", "endless-config", "billion-laughs-config"]
)
def test_fifo_endless_file_and_alias_bomb_are_refused_under_a_memory_cap(synced, case):
    project, run = synced
    message = {
        "fifo-progress": lambda: _fifo(run, "progress.json"),
        "fifo-config": lambda: _fifo(run, "config.yaml"),
        "endless-config": lambda: _endless_config(run, project),
        "billion-laughs-config": lambda: _bomb(run),
    }[case]()
    book = Path(project.sheet_target)
    before = book.read_bytes()
    done = sheetsync_process(project, "sync")
    assert (done.returncode, done.stderr.strip()) == (1, message)
    # the run's row says the refusal in its status cell; nothing else of the sheet changes
    what = message.removeprefix(f"Error: {run}/")
    status = f"error: {what}"
    shown = f"  status (K2): 'finished' -> {status!r}"
    assert done.stdout.splitlines()[:2] == ["r1 (row 2)", shown]
    old, new = runs_cells(before), runs_cells(book.read_bytes())
    assert {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v} == {
        ("r1", "status"): ("finished", status)
    }


@pytest.mark.parametrize("target", ["/dev/zero", "bomb"])
def test_verify_refuses_a_device_or_an_alias_bomb_named_on_the_command_line(synced, target):
    project, run = synced
    if target == "bomb":
        target = str(run / "bomb.yaml")
        Path(target).write_text(BILLION_LAUGHS)
        message = (
            f"Error: {target}: more than 2,000,000 values once YAML aliases are expanded "
            "(an alias bomb?); refused"
        )
    else:
        message = (
            "Error: /dev/zero: a character device, not a file; sheetsync reads regular files only"
        )
    done = sheetsync_process(project, "verify", target, "-b", "b")
    assert (done.returncode, done.stderr.strip()) == (1, message)


def test_billion_laughs_is_refused_before_anything_expands_it(tmp_path):
    """342 bytes that expand to 387 million strings: counted through the aliases, never built."""
    path = tmp_path / "config.yaml"
    path.write_text(BILLION_LAUGHS)
    assert len(BILLION_LAUGHS.encode()) < 400
    with pytest.raises(RunError, match="more than 2,000,000 values once YAML aliases"):
        load_mapping(path)
    path.write_text("base: &b {lr: 0.1, wd: 0.01}\nrun: {<<: *b, lr: 0.2}\nagain: *b\n")
    assert load_mapping(path) == {
        "base": {"lr": 0.1, "wd": 0.01},
        "run": {"lr": 0.2, "wd": 0.01},
        "again": {"lr": 0.1, "wd": 0.01},
    }


# --- run ids: names, never paths -------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=140) | st.from_regex(r"[A-Za-z0-9./ $_-]{1,12}", fullmatch=True))
def test_any_text_is_a_run_id_naming_a_folder_of_the_runs_folder_or_is_refused(text):
    runs = Path("/project/runs")
    if run_id_problem(text) is None:
        folder = Path(os.path.normpath(runs / text))
        assert folder.parent == runs and folder.name == text
        assert len(text) <= 128 and text == text.strip() and text[0].isalnum()
    else:
        assert "\n" not in run_id_problem(text)


CELL = (
    st.text(max_size=40)
    | st.sampled_from(["../../x", "/etc", "a/b", "..", ".", " r1", "r1 ", "~", "r$1", "C:\\x"])
    | st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
)


@settings(max_examples=300, deadline=None)
@given(st.lists(CELL, max_size=12))
def test_any_text_typed_in_the_run_column_is_a_run_id_or_ignored_with_a_note(cells):
    layout = load_layout()
    header_row = [c.header for c in layout.runs.columns]
    grid = [header_row] + [[value] + [None] * (len(header_row) - 1) for value in cells]
    header = read_header(grid, layout.runs)
    notes: list[str] = []
    try:
        rows = parse_rows(grid, header, notes)
    except SheetError as exc:  # two rows claiming one run id: refused, on one line
        assert "appears in rows" in str(exc) and "\n" not in str(exc)
        return
    for run_id, row in rows.items():
        assert run_id_problem(run_id) is None
        assert Path(os.path.normpath(Path("/p/runs") / run_id)).parent == Path("/p/runs")
        assert grid[row.number - 1][0] is not None
    ignored = {int(n.split(" row ")[1].split(",")[0]) for n in notes}
    assert len(ignored) == len(notes)
    for r, value in enumerate(cells, 2):
        text = "" if value is None else str(value).strip()
        assert (r in ignored) + (r in {row.number for row in rows.values()}) == (text != "")
    assert all("\n" not in n and n.endswith("row ignored") for n in notes)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(max_size=80)
    | st.builds(
        "".join,
        st.lists(
            st.sampled_from(
                [
                    "a:",
                    " ",
                    "\n",
                    "- ",
                    "&x ",
                    "*x",
                    "!!set",
                    "{",
                    "}",
                    "[",
                    "]",
                    "1",
                    "~",
                    "? ",
                    "<<: ",
                    "2026-01-01",
                    ": ",
                    "!!binary",
                    "'",
                    '"',
                    "\t",
                    "#",
                    "!!omap",
                ]
            ),
            max_size=30,
        ),
    )
)
def test_any_yaml_text_is_plain_data_or_one_line_error(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    try:
        data = load_mapping(path)
    except SheetsyncError as exc:
        assert "\n" not in str(exc)
        return
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            pending += value.values()
        elif isinstance(value, list):
            pending += value
        else:
            assert value is None or isinstance(value, bool | int | float | str)


# --- validate before any write --------------------------------------------------------------


def test_add_that_fails_at_the_sheet_leaves_no_launch_copy(project, monkeypatch):
    run = write_run(project, "r1")
    before = Path(project.sheet_target).read_bytes()

    def refuse(*args, **kwargs):
        raise SheetError("Runs tab: refused for the test")

    monkeypatch.setattr("sheetsync.sheet.add.append_rows", refuse)
    result = cli(project, "add", str(run), "-q", "q", "-b", "b", "--yes")
    assert (result.exit_code, result.output) == (1, "Error: Runs tab: refused for the test\n")
    assert sorted(p.name for p in run.iterdir()) == [
        "config.yaml",
        "launch.json",
        "progress.json",
        "results.json",
    ]
    assert Path(project.sheet_target).read_bytes() == before


def test_add_replaces_a_planted_launch_copy_symlink_and_never_writes_through_it(project, tmp_path):
    run = write_run(project, "r1", changes={"model.prores": True})
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (run / LAUNCH_COPY).symlink_to(victim)
    result = cli(project, "add", str(run), "-q", "q", "-b", "b", "--yes")
    assert result.exit_code == 0, result.output
    assert victim.read_text() == "precious"
    assert not (run / LAUNCH_COPY).is_symlink()
    assert json.loads((run / LAUNCH_COPY).read_text())["model"]["prores"] is True


def test_baseline_add_that_fails_at_the_sheet_leaves_the_baselines_folder_as_it_was(
    project, monkeypatch, tmp_path
):
    config = tmp_path / "new.yaml"
    config.write_text("model: {d_model: 2048}\n")
    before = sorted(p.name for p in project.baselines_dir.iterdir())

    def refuse(*args, **kwargs):
        raise SheetError("Baselines tab: refused for the test")

    monkeypatch.setattr("sheetsync.sheet.baselines.append_rows", refuse)
    result = cli(project, "baseline", "add", "b", "--config", str(config), "--date", "2026-07-01")
    assert (result.exit_code, result.output) == (1, "Error: Baselines tab: refused for the test\n")
    assert sorted(p.name for p in project.baselines_dir.iterdir()) == before
    monkeypatch.undo()
    result = cli(project, "baseline", "add", "b", "--config", str(config), "--date", "2026-07-01")
    assert result.exit_code == 0, result.output
    assert (project.baselines_dir / "b@2026-07-01.yaml").read_bytes() == config.read_bytes()


def test_a_trusted_folder_lets_run_folders_link_out_of_the_project(project, tmp_path):
    store = tmp_path / "store"
    write_run(project, "r1")
    (project.runs_dir / "r1").rename(store)
    (project.runs_dir / "r1").symlink_to(store)
    refused = cli(project, "add", "r1", "-q", "q", "-b", "b", "--yes")
    assert refused.exit_code == 1 and "leads outside the project's folders" in refused.output
    project.path.write_text(project.path.read_text() + f"trusted_folders: [{store}]\n")
    assert cli(project, "add", "r1", "-q", "q", "-b", "b", "--yes").exit_code == 0


def test_a_fit_form_typed_in_the_sheet_never_names_a_file(project):
    from sheetsync.science.scaling import Fit
    from sheetsync.sheet.bootstraps import cache_path
    from sheetsync.sheet.gains import fits_in

    good = {
        "form": "compute",
        "E": 1.7,
        "A": 1000.0,
        "alpha": 0.15,
        "n_runs": 5,
        "compute_min": 1e18,
        "compute_max": 1e20,
        "residual_rms": 0.01,
    }
    evil = {**good, "form": "../../../outside/x"}
    row = {"baseline": "b@2026-06-01", "fitted": "2026-06-02", "fit": "f"}
    assert fits_in([{**row, "params": json.dumps(evil)}]) == {}
    assert list(fits_in([{**row, "params": json.dumps(good)}])) == ["b@2026-06-01"]
    assert cache_path(project, Fit.from_dict(evil), 100, 0) is None
    path = cache_path(project, Fit.from_dict(good), 100, 0)
    assert path is not None and path.parent == project.root / ".sheetsync" / "bootstraps"


# --- safe output ----------------------------------------------------------------------------


def test_report_markdown_and_html_carry_no_live_markup_from_the_sheet(project, tmp_path):
    run = write_run(project, "x", changes={"model.act": "<img src=x onerror=alert(1)>"})
    question = "<script>alert(1)</script>\n# injected heading [link](javascript:alert(1))"
    assert cli(project, "add", str(run), "-q", question, "-b", "b", "--yes").exit_code == 0
    assert cli(project, "sync").exit_code == 0
    assert cli(project, "report", "--out", str(tmp_path)).exit_code == 0
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    for text in (md, html):
        assert "<script" not in text and "<img src=x" not in text
    assert not any(line.startswith("# injected") for line in md.splitlines())
    assert "## &lt;script>alert(1)&lt;/script> # injected heading [link]\\(javascript" in md
    assert "model.act: (absent) -> &lt;img src=x onerror=alert(1)>" in md


def test_exports_make_formula_text_inert_and_keep_numbers(project, tmp_path):
    run = write_run(project, "r1")
    assert (
        cli(project, "add", str(run), "-q", "+1+cmd|' /C calc'!A0", "-b", "b", "--yes").exit_code
        == 0
    )
    wb = load_workbook(project.sheet_target)
    ws = wb["Runs"]
    header = [c.value for c in ws[1]]
    notes = ws.cell(2, header.index("notes") + 1)
    notes.value = '=HYPERLINK("http://x","y")'
    notes.data_type = "s"  # text that looks like a formula (a formula cell reads as its value)
    ws.cell(2, header.index("conclusion") + 1).value = "-1.5"
    wb.save(project.sheet_target)
    out = tmp_path / "runs.csv"
    assert cli(project, "pull", "--format", "csv", "--out", str(out)).exit_code == 0
    exported = out.read_text()
    assert '\'=HYPERLINK(""http://x"",""y"")' in exported
    assert "'+1+cmd|' /C calc'!A0" in exported
    assert ",-1.5," in exported
    records = json.loads(cli(project, "pull", "--format", "json").output)
    assert records[0]["notes"] == '\'=HYPERLINK("http://x","y")'
    assert records[0]["conclusion"] == "-1.5"
    assert "'=HYPERLINK" in cli(project, "ls", "--csv").output


def test_plot_labels_show_dollars_as_text_not_math():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt

    from sheetsync.views.plots import _mpl_label as _label

    text = r"fit b$\frac{$@2026 ^_{"
    fig, ax = plt.subplots()
    ax.set_title(text)
    with pytest.raises(ValueError):
        fig.savefig(io.BytesIO(), format="png")  # the raw text is broken math
    ax.set_title(_label(text))
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)
    assert _label("a$b\nc") == r"a\$b c"
