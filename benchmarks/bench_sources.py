"""Reading run folders from object storage vs local disk.

python -m benchmarks.bench_sources [RUNS]

RUNS native run folders (config, progress, results, launch: ~1.5 kB in 4 files each) are
written to local disk and uploaded to a local S3-compatible server (moto in server mode, in
its own process on 127.0.0.1). Timed: reading them all from disk; from S3 into an empty
project (every file downloaded); and again when nothing changed (listings only). The local
server answers without network latency: on a real store each request adds its round trip,
which the concurrent reads (32 at once by default) overlap: the last figure adds a simulated
round trip to every request through a proxy.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sheetsync.records.runs import read_run
from sheetsync.records.sources import Access
from sheetsync.records.sources.folder import FolderSource
from sheetsync.records.sources.spec import SourceSpec
from tests.s3_server import slow_listings

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
ROUND_TRIP = 0.03  # seconds: a store's round trip, simulated by a delaying proxy


def _access(root: Path) -> Access:
    """Run folders under `root`, read as a project reads them (confined to `root`)."""
    return Access(root, lambda rid: root / rid, Path, lambda p: read_run(p, (root,)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the local S3 server did not start")


def _write_runs(root: Path, n: int) -> list[str]:
    from sheetsync.records.runlog import RunLog

    ids = [f"run-{i:05d}" for i in range(n)]
    for i, rid in enumerate(ids):
        log = RunLog(root / rid, steps_planned=1000)
        log.config({"model": {"d_model": 1024, "n_layers": 16}, "optim": {"lr": 3e-4}}, seed=i)
        log.progress(step=1000, tokens=4_096_000)
        log.finish(final_loss=2.5 + i * 1e-4, params=1.2e8)
    return ids


def _upload(endpoint: str, root: Path, bucket: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    files = [p for p in sorted(root.rglob("*")) if p.is_file()]

    def put(path: Path) -> None:
        key = f"runs/{path.relative_to(root).as_posix()}"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))


def main(runs: int = 1000) -> dict[str, float]:
    from sheetsync.records.sources.objectstore import ObjectStoreSource

    os.environ.update(CREDENTIALS)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "runs"
        ids = _write_runs(root, runs)
        proc, endpoint = _start_server()
        try:
            _upload(endpoint, root, "bench")
            start = time.perf_counter()
            local = FolderSource(_access(root)).read_runs(ids).runs
            disk_s = time.perf_counter() - start
            spec = SourceSpec(
                "objectstore",
                "s3://bench/runs",
                {},
                {"storage_options": {"endpoint_url": endpoint}},
            )
            home = Path(tmp) / "home"
            start = time.perf_counter()
            found = ObjectStoreSource(spec, _access(home)).read_runs(ids)
            remote, missing = found.runs, found.missing
            cold_s = time.perf_counter() - start
            start = time.perf_counter()
            ObjectStoreSource(spec, _access(home)).read_runs(ids)
            warm_s = time.perf_counter() - start
            with slow_listings(endpoint, ROUND_TRIP, every_request=True) as far:
                options = {"storage_options": {"endpoint_url": far}}
                spec = SourceSpec("objectstore", "s3://bench/runs", {}, options)
                start = time.perf_counter()
                ObjectStoreSource(spec, _access(Path(tmp) / "far")).read_runs(ids)
                far_s = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert not missing and len(remote) == len(local) == runs
    assert [r.results for r in remote] == [r.results for r in local]
    cold_requests, warm_requests = 1 + runs * 5, 1 + runs  # listings + one GET per file
    print(
        f"sources: read {runs:,} run folders: local disk {disk_s:.2f} s; local S3 server "
        f"{cold_s:.2f} s into an empty project ({cold_s / disk_s:.0f}x; {cold_requests:,} "
        f"requests, {cold_s / cold_requests * 1000:.1f} ms each), {warm_s:.2f} s when nothing "
        f"changed ({warm_s / disk_s:.0f}x; {warm_requests:,} listings, "
        f"{warm_s / warm_requests * 1000:.1f} ms each)"
    )
    print(
        f"sources: the same through a proxy adding {ROUND_TRIP * 1000:.0f} ms to every request: "
        f"{far_s:.2f} s into an empty project (one request at a time would add "
        f"{cold_requests * ROUND_TRIP:.0f} s)"
    )
    return {"disk_s": disk_s, "s3_cold_s": cold_s, "s3_warm_s": warm_s, "s3_far_s": far_s}


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
