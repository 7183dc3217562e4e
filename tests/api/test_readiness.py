"""/readyz tells the truth: 503 when the database cannot take a write although it answers ping,
when the disk under the embedded database is nearly full, and within its time bound when the
database does not answer; each failing check is named with a reason."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from pymongo import MongoClient

from api.app import create_app
from core.settings import Settings
from store import collections as c
from store.embedded import EmbeddedDatabase, free_port
from tests.conftest import TEST_SECRET


@contextlib.asynccontextmanager
async def api_on(db: EmbeddedDatabase, tmp_path: Path, shared_engine, *, embedded: bool = False,
                 **overrides) -> AsyncIterator[httpx.AsyncClient]:  # fmt: skip
    """The app against ``db``: as an embedded setup (the database under data_dir, found by its
    port) or with the database's URI."""
    where = (
        {"mongodb_uri": None, "embedded_db_port": db.port} if embedded else {"mongodb_uri": db.uri}
    )
    settings = Settings(mode="local", database_name="readiness", data_dir=tmp_path,
                        local_token_secret=TEST_SECRET, housekeeping_interval_s=0,
                        job_agent_interval_s=0, **where, **overrides)  # fmt: skip
    assert settings.uses_embedded_db is embedded
    shared_engine.ready = False
    app = create_app(settings, engine=shared_engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(120):  # the (empty) search index loads in the background
                if (await client.get("/readyz")).json()["checks"]["search_index"]:
                    break
                await asyncio.sleep(0.25)
            yield client


async def readyz(client: httpx.AsyncClient) -> tuple[int, dict, float]:
    started = time.perf_counter()
    response = await client.get("/readyz")
    return response.status_code, response.json(), time.perf_counter() - started


def _fail_writes(admin: MongoClient, data: dict | None) -> None:
    admin.admin.command("configureFailPoint", "failCommand",
                        mode="off" if data is None else "alwaysOn",
                        data={"appName": "jobunivers", "failCommands": ["update"],
                              **(data or {})})  # fmt: skip


async def test_readyz_fails_when_writes_fail_although_ping_answers(tmp_path, shared_engine):
    db = EmbeddedDatabase(tmp_path / "db", port=free_port(), cache_size="128M",
                          test_commands=True)  # fmt: skip
    db.start()
    admin: MongoClient = MongoClient(db.uri)
    try:
        async with api_on(db, tmp_path, shared_engine) as client:
            status, body, _ = await readyz(client)
            assert (status, body) == (200, {"ready": True, "checks": {"database": True,
                                                                      "search_index": True}})  # fmt: skip
            # One tiny document per process, overwritten by each probe.
            probes = list(admin["readiness"][c.READINESS_PROBES].find())
            assert [p["_id"] for p in probes] == [f"{socket.gethostname()}:{os.getpid()}"]

            # What a panicked storage engine answers (code 1) to the probe's write only.
            await asyncio.to_thread(_fail_writes, admin, {"errorCode": 1})
            status, body, seconds = await readyz(client)
            assert status == 503 and body["ready"] is False
            assert body["checks"] == {"database": False, "search_index": True}
            assert body["reasons"] == {
                "database": "write failed: OperationFailure (code 1 InternalError)"
            }
            assert admin.admin.command("ping")["ok"] == 1.0  # ping alone would have said ready
            assert seconds < 1.0

            # A write that hangs: readyz still answers within its bound (readiness_timeout_s).
            await asyncio.to_thread(_fail_writes, admin, {"blockConnection": True,
                                                          "blockTimeMS": 5000})  # fmt: skip
            status, body, seconds = await readyz(client)
            assert status == 503 and "timed out" in body["reasons"]["database"], body
            assert seconds < 2.2, seconds
            print(f"\nreadyz with a hanging write: {seconds:.2f} s")

            await asyncio.to_thread(_fail_writes, admin, None)
            await asyncio.sleep(3)  # the blocked write ends on the server
            status, body, _ = await readyz(client)
            assert status == 200, body
    finally:
        admin.close()
        db.stop(timeout_s=10)


async def test_readyz_fails_when_the_disk_under_the_embedded_database_is_nearly_full(
    tmp_path, shared_engine
):
    db = EmbeddedDatabase(tmp_path / "db", port=free_port(), cache_size="128M")
    db.start()
    try:
        async with api_on(db, tmp_path, shared_engine, embedded=True) as client:
            status, body, _ = await readyz(client)
            assert status == 200 and body["checks"]["disk"] is True, body
        # More than any disk here has free: the same database, not ready.
        async with api_on(db, tmp_path, shared_engine, embedded=True,
                          readiness_min_free_disk_mb=10**9) as client:  # fmt: skip
            status, body, _ = await readyz(client)
            assert status == 503
            assert body["checks"] == {"database": True, "search_index": True, "disk": False}
            assert set(body["reasons"]) == {"disk"}
            assert body["reasons"]["disk"].endswith("MB free, below 1000000000 MB")
    finally:
        db.stop(timeout_s=10)


async def test_the_disk_is_not_checked_for_a_database_elsewhere(tmp_path, shared_engine):
    """With MONGODB_URI the database's disk is not this machine's: no disk check."""
    db = EmbeddedDatabase(tmp_path / "db", port=free_port(), cache_size="128M")
    db.start()
    try:
        async with api_on(db, tmp_path, shared_engine,
                          readiness_min_free_disk_mb=10**9) as client:  # fmt: skip
            status, body, _ = await readyz(client)
            assert status == 200 and "disk" not in body["checks"], body
    finally:
        db.stop(timeout_s=10)
