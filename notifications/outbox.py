"""The persisted outbox: messages waiting to be pushed, claimed by workers under a lease.

Workers claim batches: the ids of due messages are picked, then one ``update_many`` takes those
still claimable (pending, or leased by a worker whose lease ran out) under a fresh claim id,
so two workers never hold the same message. The worker renews its lease (``renew_lease``)
every third of it while it works, and writes outcomes slice by slice (at most one slice of
sends is ever unrecorded). A worker that dies mid-batch leaves the rest of its lease to expire
within one lease; another worker then takes the messages over, so nothing is lost (only the
slice the dead worker had handed to FCM may go out twice; the collapse key makes the phone
show it once). Results are written only under the worker's own claim.

``attempts`` counts every time a worker took a message to send it, counted when it is claimed
(``$inc``), so an attempt lost with its worker counts too; a claim that decides not to send
(category off, quiet hours, daily cap, no device) gives its count back. A message is tried at
most ``MAX_ATTEMPTS`` times: a failed ``MAX_ATTEMPTS``-th attempt, or a claim past it (its
workers kept dying with it), makes it dead.

States: pending -> sending -> delivered | suppressed (category off, daily cap, no device) |
dead (refused, or too many attempts; visible to operators) ; failed attempts go back to
pending with a later ``dueAt``.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
SUPPRESSED = "suppressed"
DEAD = "dead"

MAX_ATTEMPTS = 8  # attempts (claims to send) before a message is dead
WORKER_LOST = "worker_lost"  # the last error of a message whose workers died with it
RETRY_BASE = timedelta(seconds=10)
QUOTA_MIN = timedelta(seconds=60)
RETRY_CAP = timedelta(hours=1)

INDEXES: list[IndexSpec] = [
    IndexSpec(c.OUTBOX, (("idempotencyKey", 1),), "outbox_idempotency_key", unique=True),
    IndexSpec(c.OUTBOX, (("status", 1), ("dueAt", 1)), "outbox_status_due"),
    IndexSpec(c.OUTBOX, (("recipientId", 1),), "outbox_recipient"),
    IndexSpec(c.OUTBOX, (("claim", 1),), "outbox_claim"),
]


def retry_delay(attempts: int, quota: bool, rng: random.Random | None = None) -> timedelta:
    """Exponential back-off with jitter (0.5x-1.5x); quota errors wait at least 60 s."""
    rng = rng or random.Random()
    base = min(RETRY_CAP, RETRY_BASE * (2 ** max(0, attempts - 1)))
    delay = base * rng.uniform(0.5, 1.5)
    return max(delay, QUOTA_MIN) if quota else delay


async def enqueue(
    db: AsyncDatabase, message: dict, *, due_at: datetime, now: datetime, session: Any = None
) -> None:
    """Queue one push (its ``_id`` is the inbox entry's, so the pair is written once)."""
    await db[c.OUTBOX].insert_one(
        {
            **message,
            "idempotencyKey": f"{message['recipientId']}:{message['key']}",
            "status": PENDING,
            "dueAt": due_at,
            "createdAt": now,
            "attempts": 0,
        },
        session=session,
    )


async def drop_unsent(db: AsyncDatabase, ids: list[Any], *, session: Any = None) -> int:
    """Drop the messages among ``ids`` that have not gone out yet."""
    result = await db[c.OUTBOX].delete_many(
        {"_id": {"$in": ids}, "status": {"$in": [PENDING, SENDING]}}, session=session
    )
    return result.deleted_count


async def claim_batch(
    db: AsyncDatabase,
    worker_id: str,
    lease: timedelta,
    limit: int = 500,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due messages, oldest first, and count the attempt on each. The
    batch is the range up to the ``limit``-th message in (dueAt, _id) order, taken with one
    conditional ``update_many`` (a range, not a list of ids: long ``$in`` lists are slow on
    the embedded server)."""
    now = now or datetime.now(UTC)
    claimable = {"status": {"$in": [PENDING, SENDING]}, "dueAt": {"$lte": now}}
    cursor = (
        db[c.OUTBOX]
        .find(claimable, {"_id": 1, "dueAt": 1})
        .sort([("dueAt", 1), ("_id", 1)])
        .skip(limit - 1)
        .limit(1)
    )
    last = await cursor.to_list()
    bound: dict[str, Any] = {}
    if last:
        due, last_id = last[0]["dueAt"], last[0]["_id"]
        bound = {"$or": [{"dueAt": {"$lt": due}}, {"dueAt": due, "_id": {"$lte": last_id}}]}
    claim = uuid.uuid4().hex
    result = await db[c.OUTBOX].update_many(
        {**claimable, **bound},
        {"$set": {"status": SENDING, "leaseOwner": worker_id, "claim": claim,
                  "dueAt": now + lease},
         "$inc": {"attempts": 1}},
    )  # fmt: skip
    if not result.modified_count:
        return []
    # The whole claim in one reply (the default first batch is 101 documents, then getMores).
    cursor = db[c.OUTBOX].find({"claim": claim}, batch_size=result.modified_count + 1)
    return await cursor.to_list()


async def claim_one(
    db: AsyncDatabase, worker_id: str, lease: timedelta, now: datetime | None = None
) -> dict[str, Any] | None:
    """Take one due message and count the attempt (kept for operators' tools and
    single-message tests)."""
    now = now or datetime.now(UTC)
    return await db[c.OUTBOX].find_one_and_update(
        {"status": {"$in": [PENDING, SENDING]}, "dueAt": {"$lte": now}},
        {"$set": {"status": SENDING, "leaseOwner": worker_id, "claim": uuid.uuid4().hex,
                  "dueAt": now + lease},
         "$inc": {"attempts": 1}},
        sort=[("dueAt", 1)],
        return_document=ReturnDocument.AFTER,
    )  # fmt: skip


def done(message: dict, status: str, now: datetime, **fields: Any) -> UpdateOne:
    return UpdateOne(
        {"_id": message["_id"], "claim": message["claim"]},
        {"$set": {"status": status, "finishedAt": now, **fields},
         "$unset": {"leaseOwner": "", "claim": ""}},
    )  # fmt: skip


def later(message: dict, due: datetime, **fields: Any) -> UpdateOne:
    """Back to pending, to be tried again at ``due``."""
    return UpdateOne(
        {"_id": message["_id"], "claim": message["claim"]},
        {"$set": {"status": PENDING, "dueAt": due, **fields},
         "$unset": {"leaseOwner": "", "claim": ""}},
    )  # fmt: skip


async def renew_lease(db: AsyncDatabase, claim: str, until: datetime) -> int:
    """Extend the lease on every message still held under ``claim`` (one ``update_many``);
    returns how many that is."""
    result = await db[c.OUTBOX].update_many(
        {"claim": claim, "status": SENDING}, {"$set": {"dueAt": until}}
    )
    return result.modified_count


async def held_ids(db: AsyncDatabase, claim: str) -> set[Any]:
    """The ids still held under ``claim`` (after a stall, some may have been taken over)."""
    return {d["_id"] async for d in db[c.OUTBOX].find({"claim": claim}, {"_id": 1})}


async def delivered_in_range(
    db: AsyncDatabase, claim: str, first: Any, last: Any, now: datetime
) -> int:
    """Mark every message still held under ``claim`` with ``first <= _id <= last`` delivered,
    in one ``update_many`` (on the embedded server about half the cost of one update per
    message). The range is one slice of the claim in ``_id`` order; write the slice's other
    outcomes first, since those give up the claim. ``attempts`` was counted at the claim."""
    result = await db[c.OUTBOX].update_many(
        {"claim": claim, "status": SENDING, "_id": {"$gte": first, "$lte": last}},
        {"$set": {"status": DELIVERED, "finishedAt": now, "deliveredAt": now},
         "$unset": {"leaseOwner": "", "claim": ""}},
    )  # fmt: skip
    return result.modified_count


async def apply(db: AsyncDatabase, ops: list[UpdateOne]) -> int:
    if not ops:
        return 0
    result = await db[c.OUTBOX].bulk_write(ops, ordered=False)
    return result.modified_count


async def mark_delivered(db: AsyncDatabase, message_id: Any, worker_id: str) -> bool:
    result = await db[c.OUTBOX].update_one(
        {"_id": message_id, "status": SENDING, "leaseOwner": worker_id},
        {"$set": {"status": DELIVERED, "deliveredAt": datetime.now(UTC)},
         "$unset": {"leaseOwner": "", "claim": ""}},
    )  # fmt: skip
    return result.modified_count == 1


async def dead_letters(db: AsyncDatabase, limit: int = 100) -> list[dict]:
    """Messages that gave up, for operators: ids, category, attempts and the last error only
    (never the text or the recipient's data)."""
    cursor = (
        db[c.OUTBOX]
        .find({"status": DEAD}, {"_id": 1, "category": 1, "payloadType": 1, "attempts": 1,
                                 "lastError": 1, "finishedAt": 1})
        .sort("finishedAt", -1)
        .limit(limit)
    )  # fmt: skip
    return await cursor.to_list()


async def counts_by_status(db: AsyncDatabase) -> dict[str, int]:
    pipeline = [{"$group": {"_id": "$status", "n": {"$sum": 1}}}]
    return {d["_id"]: d["n"] async for d in await db[c.OUTBOX].aggregate(pipeline)}


async def any_one(db: AsyncDatabase) -> dict | None:
    """Some document (benchmark set-up copies it)."""
    return await db[c.OUTBOX].find_one({})


async def insert_bulk(db: AsyncDatabase, docs: list[dict]) -> None:
    """Write ready-made documents at once (benchmark set-up; the app writes one by one)."""
    if docs:
        await db[c.OUTBOX].insert_many(docs)
