"""The ladder fitted from the sheet, gains at sync, the does-it-scale verdict, the report."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from tests.helpers import cli, write_run

E, A, ALPHA = 1.7, 1145.0, 0.155


def law(c: float) -> float:
    return E + A * c**-ALPHA


def run_at(project, run_id, compute, gain=1.0, role="feature", changes=None, **kw):
    folder = write_run(project, run_id, changes=changes, **kw)
    (folder / "results.json").write_text(
        json.dumps({"final_loss": law(compute * gain), "flops": compute})
    )
    result = cli(
        project,
        "add",
        str(folder),
        "-q",
        f"question of {run_id}",
        "-b",
        "b",
        "--role",
        role,
        "--yes",
    )
    assert result.exit_code == 0, result.output


@pytest.fixture
def laddered(project):
    for i, c in enumerate([1e18, 3e18, 1e19, 3e19, 1e20, 3e20]):
        run_at(project, f"ladder-{i}", c, role="ladder", changes={"model.d_model": 256 * (i + 1)})
    for c, k in [(2e18, 1.10), (2e19, 1.20), (2e20, 1.30)]:
        run_at(
            project,
            f"m-{c:.0e}",
            c,
            k,
            changes={"model.prores": True, "model.d_model": int(c / 1e16)},
        )
    run_at(project, "killed", 2e19, 1.2, changes={"model.qk_norm": True}, step=300, state="killed")
    assert cli(project, "sync").exit_code == 0
    return project


def runs_tab(project) -> dict[str, dict]:
    ws = load_workbook(project.sheet_target)["Runs"]
    grid = list(ws.iter_rows(values_only=True))
    return {r[0]: dict(zip(grid[0], r, strict=False)) for r in grid[1:] if r[0]}


def test_fit_from_sheet_is_recorded_and_sync_fills_gains(laddered):
    result = cli(laddered, "fit", "b", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["E"] == pytest.approx(E, rel=1e-3) and data["n_runs"] == 6
    ws = load_workbook(laddered.sheet_target)["Scaling"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][1] == "b@2026-06-01" and rows[1][3] == "compute"
    again = cli(laddered, "fit", "b")
    assert again.exit_code == 0
    assert len(list(load_workbook(laddered.sheet_target)["Scaling"].iter_rows())) == 2
    assert cli(laddered, "sync").exit_code == 0
    runs = runs_tab(laddered)
    assert runs["m-2e+19"]["gain"] == pytest.approx(1.20, rel=2e-3)
    assert runs["m-2e+19"]["fit"] == rows[1][0]
    low, high = runs["m-2e+19"]["gain 90%"].rstrip("x").split("-")
    assert float(low) <= 1.2 <= float(high)
    assert runs["killed"]["gain"] == "unfinished"
    assert runs["ladder-2"]["gain"] == pytest.approx(1.0, rel=2e-3)
    assert "up to date" in cli(laddered, "sync").output


def test_scaling_command_gives_the_verdict(laddered, tmp_path):
    cli(laddered, "fit", "b")
    cli(laddered, "sync")
    result = cli(laddered, "scaling", "m-2e+19", "--plot", str(tmp_path / "s.png"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "model.prores: false -> true  vs b@2026-06-01"
    lines = result.output.splitlines()
    assert lines[-3].endswith(": rising") and lines[-2] == "  above 1 at every budget"
    data = json.loads(cli(laddered, "scaling", "m-2e+19", "--json").output)
    assert [m["verdict"] for m in data] == ["rising"] and data[0]["above_one"] is True
    assert len(data[0]["runs"]) == 3 and data[0]["low"] > 0 and data[0]["projection"] is None
    laddered.path.write_text(laddered.path.read_text() + "target_compute: 1e22\n")
    projected = json.loads(cli(laddered, "scaling", "m-2e+19", "--json").output)[0]["projection"]
    assert projected["compute"] == 1e22 and projected["low"] < projected["gain"] < projected["high"]
    assert "  projected at 1e22: " in cli(laddered, "scaling", "m-2e+19").output
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    none = cli(laddered, "scaling", "killed")
    assert none.exit_code == 2 and "has gains at two or more compute budgets" in none.output


def test_fit_refuses_without_a_ladder(project):
    write_run(project, "x")
    result = cli(project, "fit", "b")
    assert result.exit_code == 1
    assert "no finished ladder runs of b@2026-06-01 in the sheet" in result.output


def test_report_groups_by_question_flags_runs_and_has_the_verdict(laddered, tmp_path):
    cli(laddered, "fit", "b")
    cli(laddered, "sync")
    result = cli(laddered, "report", "--out", str(tmp_path / "rep"))
    assert result.exit_code == 0, result.output
    md = (tmp_path / "rep" / "report.md").read_text()
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "## question of m-2e+19" in md
    assert "ladder-0" not in md.split("## Does it scale?")[0]  # ladder runs are not results
    assert "| m-2e+19 | b@2026-06-01 |" in md and "1.20x [" in md
    assert "| b@2026-06-01 | model.prores: false -> true |" in md and "**rising**" in md
    assert "- **killed**: unfinished (unfinished: killed at step 300/1,000)" in md
    assert "<img alt='scaling plot of b@2026-06-01' src='data:image/svg+xml;base64," in html
    pictures = re.findall(r"src='data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(pictures) == 2  # does it scale, and the ladder
    ladder = ElementTree.fromstring(base64.b64decode(pictures[1]))  # well-formed SVG
    texts = [t.text for t in ladder.iter("{http://www.w3.org/2000/svg}text")]
    assert {"m-2e+19", "ladder", "final loss", "compute (FLOPs)"} <= set(texts)
    assert "<script" not in html


def test_report_escapes_sheet_text(project, tmp_path):
    write_run(project, "x", changes={"model.prores": True})
    cli(
        project,
        "add",
        str(project.runs_dir / "x"),
        "-q",
        "<script>alert(1)</script>",
        "-b",
        "b",
        "--yes",
    )
    cli(project, "sync")
    cli(project, "report", "--out", str(tmp_path))
    html = (tmp_path / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_report_renders_in_a_headless_browser(laddered, tmp_path):
    cli(laddered, "fit", "b")
    cli(laddered, "sync")
    cli(laddered, "report", "--out", str(tmp_path / "rep"))
    page = tmp_path / "rep" / "report.html"
    flags = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    # naturalWidth is 0 for an image that failed to load
    probe = (
        "<script>window.onload=()=>{document.title='IMAGES '+[...document.images]"
        ".map(i=>i.complete&&i.naturalWidth>0).join(',')}</script>"
    )
    probed = tmp_path / "rep" / "probe.html"
    probed.write_text(page.read_text().replace("</body>", probe + "</body>"))
    dom = subprocess.run(
        [*flags, "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # the ladder's plot and the does-it-scale plot, both loaded
    assert "<title>IMAGES true,true</title>" in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1300,1800", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000, done.stderr[-2000:]
    assert "Uncaught" not in done.stderr
