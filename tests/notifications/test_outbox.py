"""The outbox lease: one worker at a time per message; an expired lease is taken over."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import DuplicateKeyError

from api.indexes import all_index_specs
from notifications import outbox
from notifications.worker import drain_once
from store import collections as c
from store.client import Store
from store.indexes import ensure_indexes


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: dict) -> None:
        self.sent.append(message["idempotencyKey"])


@pytest.fixture
async def db(settings, sync_db):
    store = Store(settings.effective_mongodb_uri, settings.database_name)
    await ensure_indexes(store.db, all_index_specs())
    yield store.db
    await store.close()


def _message(key: str, due: datetime) -> dict:
    return {"idempotencyKey": key, "status": outbox.PENDING, "dueAt": due, "category": "news"}


async def test_same_idempotency_key_is_refused(db):
    now = datetime.now(UTC)
    await db[c.OUTBOX].insert_one(_message("k1", now))
    with pytest.raises(DuplicateKeyError):
        await db[c.OUTBOX].insert_one(_message("k1", now))


async def test_lease_is_exclusive_and_expires(db):
    now = datetime.now(UTC)
    await db[c.OUTBOX].insert_one(_message("k1", now - timedelta(seconds=1)))
    lease = timedelta(seconds=60)
    claimed = await outbox.claim_one(db, "worker-a", lease, now)
    assert claimed["leaseOwner"] == "worker-a"
    assert await outbox.claim_one(db, "worker-b", lease, now) is None
    # worker-a dies; after the lease runs out, worker-b takes the message over ...
    later = now + lease + timedelta(seconds=1)
    taken = await outbox.claim_one(db, "worker-b", lease, later)
    assert taken["_id"] == claimed["_id"] and taken["leaseOwner"] == "worker-b"
    # ... and a late worker-a can no longer mark it: only the lease owner can.
    assert await outbox.mark_delivered(db, claimed["_id"], "worker-a") is False
    assert await outbox.mark_delivered(db, claimed["_id"], "worker-b") is True


async def test_concurrent_workers_deliver_each_message_once(db):
    now = datetime.now(UTC) - timedelta(seconds=1)
    await db[c.OUTBOX].insert_many([_message(f"k{i}", now) for i in range(30)])
    transports = [RecordingTransport() for _ in range(4)]
    counts = await asyncio.gather(
        *(drain_once(db, t, f"w{i}", timedelta(seconds=60)) for i, t in enumerate(transports))
    )
    sent = [k for t in transports for k in t.sent]
    assert sum(counts) == 30
    assert sorted(sent) == sorted(f"k{i}" for i in range(30))
    assert await db[c.OUTBOX].count_documents({"status": outbox.DELIVERED}) == 30


async def test_future_messages_wait(db):
    await db[c.OUTBOX].insert_one(_message("later", datetime.now(UTC) + timedelta(hours=1)))
    assert await drain_once(db, RecordingTransport(), "w", timedelta(seconds=60)) == 0
