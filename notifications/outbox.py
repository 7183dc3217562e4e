"""The persisted outbox: messages waiting to be pushed, claimed by workers under a lease.

A worker that dies mid-send leaves its lease to expire; another worker then takes the message
over, so nothing is lost. The idempotency key is unique, so the same message is never queued
twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"

INDEXES: list[IndexSpec] = [
    IndexSpec(c.OUTBOX, (("idempotencyKey", 1),), "outbox_idempotency_key", unique=True),
    IndexSpec(c.OUTBOX, (("status", 1), ("dueAt", 1)), "outbox_status_due"),
    IndexSpec(c.OUTBOX, (("recipientId", 1),), "outbox_recipient"),
]


async def claim_one(
    db: AsyncDatabase, worker_id: str, lease: timedelta, now: datetime | None = None
) -> dict[str, Any] | None:
    """Atomically take one due message: a pending one, or one whose lease has run out."""
    now = now or datetime.now(UTC)
    update = {"$set": {"status": SENDING, "leaseOwner": worker_id, "dueAt": now + lease}}
    for status in (SENDING, PENDING):  # expired leases first: they have waited longest
        doc = await db[c.OUTBOX].find_one_and_update(
            {"status": status, "dueAt": {"$lte": now}},
            update,
            sort=[("dueAt", 1)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            return doc
    return None


async def mark_delivered(db: AsyncDatabase, message_id: Any, worker_id: str) -> bool:
    result = await db[c.OUTBOX].update_one(
        {"_id": message_id, "status": SENDING, "leaseOwner": worker_id},
        {
            "$set": {"status": DELIVERED, "deliveredAt": datetime.now(UTC)},
            "$unset": {"leaseOwner": ""},
        },
    )
    return result.modified_count == 1
