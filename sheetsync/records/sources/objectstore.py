"""Native run folders on object storage (`s3://bucket/prefix`, `gs://bucket/prefix`), read
through fsspec, many at once.

Each sync lists the prefix once, lists the wanted runs' folders concurrently, downloads the
files that changed since the last sync (by ETag or size) and keeps them under the project
(`.sheetsync/runs/<id>/`), where they are read as any run folder. Everything on the network
happens first, each request given `timeout` seconds: a missing bucket, a refused permission or
a store that does not answer is one line, and nothing is written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import posixpath
from collections.abc import Awaitable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.errors import RunError
from sheetsync.records.atomic import write_atomic
from sheetsync.records.evalformats.detect import EVAL_DIRS, MAX_BYTES
from sheetsync.records.runlog import write_json_atomic
from sheetsync.records.runs import Run
from sheetsync.records.sources import RunsRead, read_each, require
from sheetsync.records.sources.home import MANIFEST, read_manifest, usable_id
from sheetsync.records.sources.spec import SCHEMES, SourceSpec

if TYPE_CHECKING:
    from sheetsync.records.sources import Access

RUN_FILES = (
    "config.yaml",
    "config.yml",
    "config.json",
    "progress.json",
    "results.json",
    "launch.json",
    "evals.json",
)
PROTOCOLS = {"s3": "s3", "gs": "gcs", "gcs": "gcs"}
LIBRARIES = {"s3": "s3fs", "gcs": "gcsfs"}
ERROR_MODULES = ("botocore", "aiobotocore", "s3fs", "gcsfs", "google", "aiohttp", "fsspec")
Listing = dict[str, dict[str, Any]]  # relative path -> object info (size, ETag)


class ObjectStoreSource:
    kind = "objectstore"

    def __init__(self, spec: SourceSpec, access: Access) -> None:
        self.url = spec.location
        scheme, _, self.root = self.url.partition("://")
        self.root = self.root.strip("/")
        extra = SCHEMES[scheme.lower()]
        protocol = PROTOCOLS[scheme.lower()]
        require(LIBRARIES[protocol], extra, f"runs on {scheme}://")
        fsspec = require("fsspec", extra, f"runs on {scheme}://")
        self.home = access.home
        self.access = access
        self.timeout = float(spec.options.get("timeout", 60))
        self.concurrency = int(spec.options.get("concurrency", 32))
        options: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
        if protocol == "s3":
            options["config_kwargs"] = {
                "connect_timeout": self.timeout,
                "read_timeout": self.timeout,
                "retries": {"max_attempts": 3, "mode": "standard"},
                "max_pool_connections": self.concurrency,  # botocore's default pool is 10
            }
        options.update(spec.options.get("storage_options") or {})
        self.fs = fsspec.filesystem(protocol, asynchronous=False, **options)

    def describe(self) -> str:
        return self.url

    # --- the source protocol -------------------------------------------------------------

    def read_runs(self, run_ids: Sequence[str], *, keep_broken: bool = False) -> RunsRead:
        present = self.refresh(run_ids)
        reads = (
            (rid, partial(self.access.read, self.home / rid) if rid in present else None)
            for rid in run_ids
        )
        return read_each(reads, keep_broken)

    def run_id(self, ref: str | Path) -> str:
        return str(ref).rstrip("/").rsplit("/", 1)[-1]

    def read(self, ref: str | Path) -> Run:
        run_id = self.run_id(ref)
        found = self.read_runs([run_id])
        if found.missing:
            raise RunError(f"{self.url}: no run folder {run_id!r}")
        return found.runs[0]

    def folder(self, ref: str | Path) -> Path:
        return self.read(ref).path

    def refresh(self, run_ids: Sequence[str]) -> set[str]:
        """Download what changed in these runs' folders; the ids found. Writes only after
        every listing and download succeeded."""
        from fsspec.asyn import sync

        wanted = [rid for rid in dict.fromkeys(run_ids) if usable_id(rid) is None]
        kept = {rid: read_manifest(self.home / rid).get("files", {}) for rid in wanted}
        try:
            fetched = sync(self.fs.loop, self._fetch, wanted, kept)
        except TimeoutError:
            raise RunError(
                f"{self.url}: no answer within {self.timeout:g} s while listing and reading "
                "run folders (check the endpoint, or raise runs.timeout in sheetsync.yaml)"
            ) from None
        except Exception as exc:
            if isinstance(exc, OSError) or _from_store_client(exc):
                raise RunError(self._explain(exc)) from None
            raise
        for rid, (listing, contents) in fetched.items():
            self._write(rid, listing, contents, kept[rid])
        return set(fetched)

    # --- on the network: list, then download -----------------------------------------------

    async def _fetch(
        self, run_ids: list[str], kept: Mapping[str, Mapping[str, Any]]
    ) -> dict[str, tuple[Listing, dict[str, bytes]]]:
        existing = await self._run_folders()
        limit = asyncio.Semaphore(self.concurrency)

        async def one(rid: str) -> tuple[Listing, dict[str, bytes]]:
            async with limit:
                listing = await self._list_run(rid)
            changed = [
                rel
                for rel, info in listing.items()
                if kept[rid].get(rel) != _stamp(info) or not (self.home / rid / rel).is_file()
            ]

            async def get(rel: str) -> bytes:
                async with limit:
                    return await self._ask(self.fs._cat_file(f"{self.root}/{rid}/{rel}"))

            data = await asyncio.gather(*(get(rel) for rel in changed))
            return listing, dict(zip(changed, data, strict=True))

        found = [rid for rid in run_ids if rid in existing]
        results = await asyncio.gather(*(one(rid) for rid in found))
        return dict(zip(found, results, strict=True))

    async def _run_folders(self) -> set[str]:
        """The run ids under the prefix: one delimited listing (paged by the store)."""
        try:
            entries = await self._ask(self.fs._ls(self.root, detail=True))
        except FileNotFoundError:
            bucket = self.root.split("/", 1)[0]
            try:
                await self._ask(self.fs._ls(bucket, detail=False))
            except FileNotFoundError:
                raise RunError(f"{self.url}: bucket {bucket!r} not found") from None
            return set()  # the bucket is there; no run folder under the prefix yet
        return {
            posixpath.basename(e["name"].rstrip("/"))
            for e in entries
            if e.get("type") == "directory"
        }

    async def _list_run(self, rid: str) -> Listing:
        """The run's own files and its eval folders' JSON; never its checkpoints."""
        base = f"{self.root}/{rid}"
        listing: Listing = {}
        for entry in await self._ask(self.fs._ls(base, detail=True)):
            name = posixpath.basename(entry["name"].rstrip("/"))
            if entry.get("type") == "file" and name in RUN_FILES:
                listing[name] = entry
            elif entry.get("type") == "directory" and name in EVAL_DIRS:
                found = await self._ask(self.fs._find(f"{base}/{name}", detail=True))
                for path, info in found.items():
                    if path.endswith(".json"):
                        listing[posixpath.relpath(path, base)] = info
        for rel, info in listing.items():
            size = info.get("size") or 0
            if size > MAX_BYTES:
                raise RunError(f"{self.url}/{rid}/{rel}: {size:,} bytes is too large to read")
        return listing

    async def _ask(self, request: Awaitable[Any]) -> Any:
        """One request to the store, given `timeout` seconds to answer (a TimeoutError)."""
        return await asyncio.wait_for(request, self.timeout)

    def _explain(self, exc: BaseException) -> str:
        """One line for a store's error: what, where, what to do."""
        if isinstance(exc, PermissionError):
            return (
                f"{self.url}: access denied ({_first_line(exc)}); the credentials need to "
                "list and read this prefix"
            )
        if isinstance(exc, FileNotFoundError):
            return f"{self.url}: not found ({_first_line(exc)})"
        return f"{self.url}: {type(exc).__name__}: {_first_line(exc)}"

    # --- on this disk: the kept copy -----------------------------------------------------

    def _write(
        self,
        rid: str,
        listing: Listing,
        contents: Mapping[str, bytes],
        kept: Mapping[str, Any],
    ) -> None:
        folder = self.home / rid
        for rel, data in contents.items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(target, data)
        for rel in set(kept) - set(listing):  # gone from the store: gone here too
            (folder / rel).unlink(missing_ok=True)
        folder.mkdir(parents=True, exist_ok=True)
        files = {rel: _stamp(info) for rel, info in listing.items()}
        manifest = {"source": self.url, "files": files, "heartbeat": _heartbeat(listing)}
        write_json_atomic(folder / MANIFEST, manifest)


def _stamp(info: Mapping[str, Any]) -> str:
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or ""
    return f"{str(etag).strip(chr(34))}:{info.get('size')}"


def _heartbeat(listing: Listing) -> float | None:
    """When the run last wrote its progress or results on the store (the kept copy's own
    modification time is when it was downloaded): for `stalled`."""
    times = [_modified(listing[n]) for n in ("progress.json", "results.json") if n in listing]
    found = [t for t in times if t is not None]
    return max(found) if found else None


def _modified(info: Mapping[str, Any]) -> float | None:
    """An object's modification time: s3fs's `LastModified` (a datetime), gcsfs's `updated`
    (RFC 3339 text) or `mtime`."""
    for key in ("LastModified", "updated", "mtime"):
        value = info.get(key)
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            return value.timestamp()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _from_store_client(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in ERROR_MODULES


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
