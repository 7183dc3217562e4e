"""The persisted outbox: messages waiting to be pushed, claimed by workers under a lease.

A worker claims a batch of due messages under a fresh claim id and holds it with **one lease
document per claim** in ``outbox_claims`` (``{_id: claim, owner, until, createdAt}``), so the
lease costs one document however large the batch: ``renew_claim`` is one ``update_one`` of
``until``, every third of the lease (before, the lease was ``dueAt`` rewritten on every held
message: 500 document updates per renewal, which took seconds on a loaded embedded server, so
leases lapsed and workers took each other's batches).

Claimable: pending and due, or sending and due under a claim that is not live (its lease
document's ``until`` has passed, or it has none). ``claim_batch`` reads the live claims (few:
one per batch being worked on) and excludes them with ``$nin``, reads the batch's ids (none: it
stops, having written nothing), and takes that range with one conditional ``update_many``
(status sending, claim, leaseOwner, ``attempts`` + 1, ``dueAt`` = the first lease's end) while
it writes the claim's lease document (with the same end); then it reads the batch back. The
messages' ``dueAt`` covers a claim whose lease document is not yet written (or was not yet when
another worker read the live claims); from then on the lease document does, as long as each
renewal reaches the database before the lease it extends runs out. A worker that sees a renewal
arrive late (stalled, or the database was that slow) may have lost messages meanwhile:
``reassert_claim`` rewrites ``dueAt`` on what it still holds (a per-document condition another
worker's claim cannot slip past) and returns those ids; it leaves the rest. The lease document
is deleted when its batch ends (``release_claim``); one left by a dead worker is swept once it
is an hour stale (``sweep_claims``, the worker's hourly chores).

Two workers never hold the same message. The worker writes outcomes slice by slice (at most
two slices of sends are ever unrecorded: one being written while the next is with FCM). A
worker that dies mid-batch stops renewing; its lease runs out within one lease and another
worker takes the messages over, so nothing is lost (only the two slices the dead worker had
handed to FCM and not yet recorded may go out twice; the collapse key makes the phone show
them once). Results are written only under the worker's own claim.

``attempts`` counts every time a worker took a message to send it, counted when it is claimed
(``$inc``), so an attempt lost with its worker counts too; a claim that decides not to send
(category off, quiet hours, daily cap, no device) gives its count back. A message is tried at
most ``MAX_ATTEMPTS`` times: a failed ``MAX_ATTEMPTS``-th attempt, or a claim past it (its
workers kept dying with it), makes it dead.

States: pending -> sending -> delivered | suppressed (category off, daily cap, no device) |
dead (refused, or too many attempts; visible to operators) ; failed attempts go back to
pending with a later ``dueAt``. A sending message's ``dueAt`` is its first lease's end only.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pymongo
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
    IndexSpec(c.OUTBOX_CLAIMS, (("until", 1),), "outbox_claims_until"),
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


async def live_claims(db: AsyncDatabase, now: datetime) -> list[str]:
    """The claims whose lease still runs at ``now`` (one per batch being worked on)."""
    cursor = db[c.OUTBOX_CLAIMS].find({"until": {"$gt": now}}, {"_id": 1})
    return [d["_id"] async for d in cursor]


async def _claimable(db: AsyncDatabase, now: datetime) -> dict[str, Any]:
    return {"status": {"$in": [PENDING, SENDING]}, "dueAt": {"$lte": now},
            "claim": {"$nin": await live_claims(db, now)}}  # fmt: skip


async def claim_batch(
    db: AsyncDatabase,
    worker_id: str,
    lease: timedelta,
    limit: int = 500,
    now: datetime | None = None,
    *,
    budget_s: float | None = None,
) -> list[dict[str, Any]]:
    """Claim up to ``limit`` due messages, oldest first, and count the attempt on each. The
    batch is the range up to the ``limit``-th claimable message in (dueAt, _id) order, taken
    with one conditional ``update_many`` (a range, not a list of ids: long ``$in`` lists are
    slow on the embedded server) while the claim's lease document is written. A claim that
    finds nothing writes nothing.
    ``budget_s``: the time the commands after the first (the read of the live claims) have
    together, instead of the client's per-call limit."""
    now = now or datetime.now(UTC)
    entered = time.monotonic()
    claimable = await _claimable(db, now)
    with pymongo.timeout(budget_s) if budget_s is not None else contextlib.nullcontext():
        return await _claim(db, worker_id, lease, limit, now, claimable, entered)


async def _claim(
    db: AsyncDatabase,
    worker_id: str,
    lease: timedelta,
    limit: int,
    now: datetime,
    claimable: dict[str, Any],
    entered: float,
) -> list[dict[str, Any]]:
    # The batch: up to ``limit`` claimable messages' ids in (dueAt, _id) order (small
    # documents); none, and the claim ends here having written nothing.
    cursor = (
        db[c.OUTBOX]
        .find(claimable, {"_id": 1, "dueAt": 1}, batch_size=limit + 1)  # in one reply
        .sort([("dueAt", 1), ("_id", 1)])
        .limit(limit)
    )
    found = await cursor.to_list()
    if not found:
        return []
    due, last_id = found[-1]["dueAt"], found[-1]["_id"]
    # dueAt <= due narrows the index range the update scans to the batch (and its ties)
    # instead of every due message.
    bound = {"dueAt": {"$lte": due},
             "$or": [{"dueAt": {"$lt": due}}, {"dueAt": due, "_id": {"$lte": last_id}}]}  # fmt: skip
    claim = uuid.uuid4().hex
    # The lease starts as the messages are marked, not before the search for the batch
    # (``now`` plus the time since the claim began: a fixed ``now`` in tests stays consistent).
    until = now + timedelta(seconds=time.monotonic() - entered) + lease
    # The lease document is written side by side with the marking, so it exists about when
    # the marked messages do (their dueAt, the same end, covers them until then).
    _, result = await asyncio.gather(
        db[c.OUTBOX_CLAIMS].insert_one(
            {"_id": claim, "owner": worker_id, "until": until, "createdAt": now}
        ),
        db[c.OUTBOX].update_many(
            {**claimable, **bound},
            {"$set": {"status": SENDING, "leaseOwner": worker_id, "claim": claim,
                      "dueAt": until},
             "$inc": {"attempts": 1}},
        ),
    )  # fmt: skip
    if not result.modified_count:  # another worker was quicker
        await release_claim(db, claim)
        return []
    # The whole claim in one reply (the default first batch is 101 documents, then getMores).
    cursor = db[c.OUTBOX].find({"claim": claim}, batch_size=result.modified_count + 1)
    return await cursor.to_list()


async def claim_one(
    db: AsyncDatabase, worker_id: str, lease: timedelta, now: datetime | None = None
) -> dict[str, Any] | None:
    """Take one due message and count the attempt (kept for operators' tools and
    single-message tests). Its lease is the message's ``dueAt`` alone: never renewed."""
    now = now or datetime.now(UTC)
    return await db[c.OUTBOX].find_one_and_update(
        await _claimable(db, now),
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


async def renew_claim(db: AsyncDatabase, claim: str, until: datetime) -> bool:
    """Extend the claim's lease to ``until`` (one ``update_one``, never shortening it: renewals
    may cross); False when its lease document is gone (swept)."""
    result = await db[c.OUTBOX_CLAIMS].update_one({"_id": claim}, {"$max": {"until": until}})
    return result.matched_count == 1


async def reassert_claim(db: AsyncDatabase, claim: str, owner: str, until: datetime) -> set[Any]:
    """After a lease that may have lapsed: hold what is still under ``claim`` until ``until``
    and return those ids. The lease document is extended (written again if it was swept),
    then ``dueAt`` is set on every message still held (a per-document write: another worker's
    claim either took a message before it, and then the message is not held, or finds it not
    due); what is held is read after that write."""
    await db[c.OUTBOX_CLAIMS].update_one(
        {"_id": claim},
        {"$max": {"until": until}, "$setOnInsert": {"owner": owner, "createdAt": until}},
        upsert=True,
    )
    await db[c.OUTBOX].update_many({"claim": claim, "status": SENDING}, {"$set": {"dueAt": until}})
    return await held_ids(db, claim)


async def release_claim(db: AsyncDatabase, claim: str) -> None:
    """The batch is over: its lease document goes (every message has left the claim)."""
    await db[c.OUTBOX_CLAIMS].delete_one({"_id": claim})


async def sweep_claims(db: AsyncDatabase, before: datetime) -> int:
    """Drop lease documents whose lease ended before ``before`` (left by dead workers: their
    messages were claimable again as soon as the lease ran out)."""
    result = await db[c.OUTBOX_CLAIMS].delete_many({"until": {"$lt": before}})
    return result.deleted_count


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
