"""Run folders on object storage (s3://), read through fsspec against a local S3-compatible
server (moto on 127.0.0.1): the same runs as on disk, and one line with nothing written when
the bucket is missing, a permission is refused or the listing does not answer in time."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheetsync.errors import ConfigError, RunError
from sheetsync.records.runs import read_run
from sheetsync.sheet.sync import sync_runs
from tests.helpers import cli, write_run
from tests.sources_helpers import source_project

pytest.importorskip("s3fs", reason="object-storage tests need `pip install 'sheetsync[s3]'`")
pytest.importorskip("moto", reason="object-storage tests need `pip install 'moto[s3]' flask-cors`")

from tests.s3_server import (
    CREDENTIALS,
    client,
    limited_user,
    moto_server,
    set_auth,
    slow_listings,
    upload_folder,
)


@pytest.fixture(scope="module")
def endpoint():
    with moto_server() as url:
        yield url


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def bucket(endpoint, request):
    name = f"runs-{request.node.name.replace('_', '-')[:40].lower()}"
    client(endpoint).create_bucket(Bucket=name)
    return name


def _s3_project(root, endpoint, url, **more):
    runs = {"path": url, "storage_options": {"endpoint_url": endpoint}, **more}
    return source_project(root, runs)


def _upload_runs(tmp_path, endpoint, bucket, project, run_ids):
    """Run folders written on disk by the helper, then uploaded to s3://bucket/team/."""
    local = source_project(tmp_path / "local", "runs")
    for rid in run_ids:
        folder = write_run(local, rid, changes={"model.prores": rid.startswith("prores")})
        upload_folder(endpoint, folder, bucket, "team")
    return local


def test_a_run_on_s3_reads_as_the_same_record_as_its_folder_on_disk(tmp_path, endpoint, bucket):
    project = _s3_project(tmp_path / "proj", endpoint, f"s3://{bucket}/team")
    local = _upload_runs(tmp_path, endpoint, bucket, project, ["prores-600m"])
    (local.runs_dir / "prores-600m" / "lm_eval").mkdir()
    evals = {"results": {"hellaswag": {"acc_norm,none": 0.5}}}
    (local.runs_dir / "prores-600m" / "lm_eval" / "results_2026.json").write_text(json.dumps(evals))
    upload_folder(endpoint, local.runs_dir / "prores-600m", bucket, "team")
    client(endpoint).put_object(
        Bucket=bucket, Key="team/prores-600m/checkpoints/step-1000/model.bin", Body=b"\0" * 4096
    )
    remote = project.run_source().read("prores-600m")
    disk = read_run(local.runs_dir / "prores-600m")
    assert (remote.run_id, remote.config, remote.progress, remote.results, remote.launch) == (
        disk.run_id,
        disk.config,
        disk.progress,
        disk.results,
        disk.launch,
    )
    assert (remote.path / "lm_eval" / "results_2026.json").read_text() == json.dumps(evals)
    assert not (remote.path / "checkpoints").exists()


def test_runs_on_s3_are_added_and_synced_and_missing_ones_reported(tmp_path, endpoint, bucket):
    project = _s3_project(tmp_path / "proj", endpoint, f"s3://{bucket}/team")
    _upload_runs(tmp_path, endpoint, bucket, project, ["base-600m", "prores-600m"])
    for rid in ("base-600m", "prores-600m"):
        added = cli(project, "add", f"s3://{bucket}/team/{rid}", "-q", "q?", "-b", "b", "--yes")
        assert added.exit_code == 0, added.output
    client(endpoint).delete_object(Bucket=bucket, Key="team/base-600m/config.yaml")
    client(endpoint).delete_object(Bucket=bucket, Key="team/base-600m/progress.json")
    client(endpoint).delete_object(Bucket=bucket, Key="team/base-600m/results.json")
    client(endpoint).delete_object(Bucket=bucket, Key="team/base-600m/launch.json")
    result = sync_runs(project)
    assert result.synced == ["prores-600m"] and result.missing == ["base-600m"]
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    rows = {
        r[0]: dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=2, values_only=True)
    }
    assert rows["prores-600m"]["status"] == "finished"
    assert rows["prores-600m"]["final loss"] == 2.5


def test_a_changed_file_on_s3_is_read_again_and_an_unchanged_one_is_not(tmp_path, endpoint, bucket):
    project = _s3_project(tmp_path / "proj", endpoint, f"s3://{bucket}/team")
    _upload_runs(tmp_path, endpoint, bucket, project, ["r1"])
    source = project.run_source()
    run = source.read("r1")
    kept = run.path / "config.yaml"
    before = kept.stat().st_mtime_ns
    progress = {"step": 400, "steps_planned": 1000, "tokens": 1, "state": "killed"}
    client(endpoint).put_object(
        Bucket=bucket, Key="team/r1/progress.json", Body=json.dumps(progress)
    )
    again = project.run_source().read("r1")
    assert again.status == "unfinished: killed at step 400/1,000"
    assert kept.stat().st_mtime_ns == before


def _nothing_written(project, book_before):
    assert Path(project.sheet_target).read_bytes() == book_before
    assert not project.runs_dir.exists() or not any(project.runs_dir.iterdir())


def test_a_missing_bucket_is_one_line_and_nothing_is_written(tmp_path, endpoint):
    project = _s3_project(tmp_path / "proj", endpoint, "s3://no-such-bucket/team")
    before = Path(project.sheet_target).read_bytes()
    result = cli(project, "add", "r1", "-q", "q?", "-b", "b", "--yes")
    assert result.exit_code == 1
    assert result.output == "Error: s3://no-such-bucket/team: bucket 'no-such-bucket' not found\n"
    _nothing_written(project, before)


def test_a_refused_permission_is_one_line_and_nothing_is_written(tmp_path, bucket):
    with moto_server() as own:  # its own server: credentials are checked from here on
        client(own).create_bucket(Bucket=bucket)
        project = _s3_project(tmp_path / "proj", own, f"s3://{bucket}/team")
        _upload_runs(tmp_path, own, bucket, project, ["r1"])
        keys = limited_user(own, bucket)
        try:
            runs = {"path": f"s3://{bucket}/team", "storage_options": {"endpoint_url": own, **keys}}
            project = source_project(tmp_path / "proj2", runs)
            before = Path(project.sheet_target).read_bytes()
            result = cli(project, "add", "r1", "-q", "q?", "-b", "b", "--yes")
        finally:
            set_auth(own, False)
    assert result.exit_code == 1
    line = result.output.strip()
    assert "\n" not in line
    assert line.startswith(f"Error: s3://{bucket}/team: access denied (")
    assert line.endswith("); the credentials need to list and read this prefix")
    _nothing_written(project, before)


def test_a_listing_that_does_not_answer_in_time_is_one_line_and_nothing_is_written(
    tmp_path, endpoint, bucket
):
    project = _s3_project(tmp_path / "proj", endpoint, f"s3://{bucket}/team")
    _upload_runs(tmp_path, endpoint, bucket, project, ["r1"])
    assert cli(project, "add", "r1", "-q", "q?", "-b", "b", "--yes").exit_code == 0
    with slow_listings(endpoint, delay=4) as proxy:
        runs = {"path": f"s3://{bucket}/team", "storage_options": {"endpoint_url": proxy}}
        slow = source_project(tmp_path / "slow", {**runs, "timeout": 1})
        before = Path(slow.sheet_target).read_bytes()
        with pytest.raises(RunError) as caught:
            sync_runs(slow)
    assert str(caught.value) == (
        f"s3://{bucket}/team: no answer within 1 s while listing and reading run folders "
        "(check the endpoint, or raise runs.timeout in sheetsync.yaml)"
    )
    _nothing_written(slow, before)


def test_without_s3fs_an_s3_url_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "s3fs", None)
    project = source_project(tmp_path / "proj", "s3://bucket/team")
    with pytest.raises(ConfigError) as caught:
        project.run_source()
    assert (
        str(caught.value) == "runs on s3:// needs the 's3fs' package: pip install 'sheetsync[s3]'"
    )


def test_a_run_on_s3_is_stalled_by_when_the_store_last_changed_not_by_its_copy(
    tmp_path, endpoint, bucket, monkeypatch
):
    import time

    from sheetsync.records import endings
    from sheetsync.records.sources.home import MANIFEST

    project = _s3_project(tmp_path / "proj", endpoint, f"s3://{bucket}/team")
    local = source_project(tmp_path / "local", "runs")
    folder = write_run(local, "quiet-600m", step=300, steps_planned=1000, state="running")
    upload_folder(endpoint, folder, bucket, "team")
    assert cli(project, "add", "quiet-600m", "-q", "q", "-b", "b", "--yes").exit_code == 0
    kept = project.runs_dir / "quiet-600m"
    uploaded = json.loads((kept / MANIFEST).read_text())["heartbeat"]
    assert abs(uploaded - time.time()) < 600  # the object's LastModified
    assert cli(project, "sync").exit_code == 0
    assert _status(project, "quiet-600m") == "running"
    later = uploaded + 3 * 3600
    monkeypatch.setattr(endings, "clock", lambda: later)
    assert cli(project, "sync").exit_code == 0  # the copy is rewritten; the store is not
    assert _status(project, "quiet-600m").startswith("stalled: no progress since ")


def _status(project, run_id):
    ws = load_workbook(project.sheet_target)["Runs"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2, values_only=True):
        if row[header.index("run")] == run_id:
            return row[header.index("status")]
    return None


def test_a_malformed_run_on_s3_says_so_in_its_row_and_the_others_sync(tmp_path, endpoint, bucket):
    project = _s3_project(tmp_path / "proj", endpoint, f"s3://{bucket}/team")
    _upload_runs(tmp_path, endpoint, bucket, project, ["base-600m", "prores-600m"])
    for rid in ("base-600m", "prores-600m"):
        added = cli(project, "add", f"s3://{bucket}/team/{rid}", "-q", "q?", "-b", "b", "--yes")
        assert added.exit_code == 0, added.output
    client(endpoint).put_object(
        Bucket=bucket, Key="team/base-600m/results.json", Body=b'{"final_loss": NaN}'
    )
    client(endpoint).put_object(
        Bucket=bucket, Key="team/prores-600m/progress.json", Body=b'{"tokens": -5}'
    )
    result = cli(project, "sync")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].endswith("progress.json: tokens is negative (-5)")
    assert _status(project, "prores-600m") == "error: progress.json: tokens is negative (-5)"
    assert _status(project, "base-600m") == "diverged at step 1,000/1,000"
