"""Job agents, their alerts and the agent loop's lease: the only module of the job agent that
touches collections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypedDict

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from store import collections as c
from store.indexes import IndexSpec
from store.queries import newest_first_page

INDEXES: list[IndexSpec] = [
    IndexSpec(c.JOB_AGENTS, (("active", 1), ("updatedAt", 1)), "job_agents_active"),
    IndexSpec(c.AGENT_ALERTS, (("citizenId", 1), ("matchedAt", -1)), "agent_alerts_citizen"),
    IndexSpec(
        c.AGENT_ALERTS,
        (("citizenId", 1), ("companyCvr", 1), ("occupationId", 1), ("matchedAt", -1)),
        "agent_alerts_repost",
    ),
    IndexSpec(c.AGENT_ALERTS, (("status", 1), ("citizenId", 1)), "agent_alerts_status"),
]

LOCK = "job-agent"


class AgentDoc(TypedDict, total=False):
    """A ``job_agents`` document, keyed by the citizen's id."""

    _id: str
    occupationIds: list[str]
    radiusKm: int
    hours: str
    keywords: list[str]
    cadence: str  # INSTANT | DAILY | WEEKLY
    active: bool
    lat: float
    lon: float
    vector: bytes | None  # float32 embedding of the agent's text
    vectorHash: str | None
    auto: bool  # a basic agent the citizen never edited: it follows the CV
    createdAt: datetime
    updatedAt: datetime
    lastDigestAt: datetime


class AlertDoc(TypedDict, total=False):
    """An ``agent_alerts`` document: one posting matched for one citizen, once."""

    _id: str  # "<citizenId>:<postingId>"
    citizenId: str
    postingId: str
    companyCvr: str
    occupationId: str
    title: str
    town: str
    score: float
    strong: bool
    broadened: bool
    matchedAt: datetime
    status: str  # QUEUED | SENT
    sentAt: datetime | None


# --- agents -----------------------------------------------------------------------------------
async def get_agent(db: AsyncDatabase, citizen_id: str) -> AgentDoc | None:
    return await db[c.JOB_AGENTS].find_one({"_id": citizen_id})


async def agents_by_ids(db: AsyncDatabase, citizen_ids: Sequence[str]) -> dict[str, AgentDoc]:
    return {d["_id"]: d async for d in db[c.JOB_AGENTS].find({"_id": {"$in": list(citizen_ids)}})}


async def upsert_agent(db: AsyncDatabase, citizen_id: str, doc: dict, now: datetime) -> AgentDoc:
    return await db[c.JOB_AGENTS].find_one_and_update(
        {"_id": citizen_id},
        {"$set": doc, "$setOnInsert": {"createdAt": now, "lastDigestAt": now}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )


async def citizens_with_agent(db: AsyncDatabase) -> set[str]:
    return {d["_id"] async for d in db[c.JOB_AGENTS].find({}, {"_id": 1})}


async def insert_missing_agents(db: AsyncDatabase, docs: list[dict], now: datetime) -> int:
    """Create each agent unless one exists already (a racing instance, a citizen's own)."""
    if not docs:
        return 0
    ops = [
        UpdateOne(
            {"_id": d["_id"]},
            {"$setOnInsert": d | {"createdAt": now, "lastDigestAt": now}},
            upsert=True,
        )
        for d in docs
    ]
    await db[c.JOB_AGENTS].bulk_write(ops, ordered=False)
    return len(ops)


async def newest_agent_change(db: AsyncDatabase) -> datetime | None:
    newest = await db[c.JOB_AGENTS].find_one({}, {"updatedAt": 1}, sort=[("updatedAt", -1)])
    return newest["updatedAt"] if newest else None


async def active_agents(db: AsyncDatabase) -> list[AgentDoc]:
    return await db[c.JOB_AGENTS].find({"active": True}).to_list()


def digests_due(db: AsyncDatabase, cadence: str, before: datetime):
    """Active agents of ``cadence`` whose last digest is at or before ``before`` (a cursor)."""
    return db[c.JOB_AGENTS].find(
        {"active": True, "cadence": cadence, "lastDigestAt": {"$lte": before}}
    )


async def mark_digest_sent(db: AsyncDatabase, citizen_id: str, at: datetime) -> None:
    await db[c.JOB_AGENTS].update_one({"_id": citizen_id}, {"$set": {"lastDigestAt": at}})


# --- alerts -----------------------------------------------------------------------------------
async def recent_alerts(
    db: AsyncDatabase, citizen_ids: Sequence[str], since: datetime
) -> list[AlertDoc]:
    cursor = db[c.AGENT_ALERTS].find(
        {"citizenId": {"$in": list(citizen_ids)}, "matchedAt": {"$gte": since}},
        {"_id": 1, "citizenId": 1, "companyCvr": 1, "occupationId": 1},
    )
    return await cursor.to_list()


async def insert_alerts_once(db: AsyncDatabase, docs: list[AlertDoc]) -> None:
    """Store alerts keyed by citizen and posting; one already there is left as it is."""
    if not docs:
        return
    ops = [UpdateOne({"_id": d["_id"]}, {"$setOnInsert": d}, upsert=True) for d in docs]
    await db[c.AGENT_ALERTS].bulk_write(ops, ordered=False)


async def insert_alert(db: AsyncDatabase, doc: AlertDoc) -> bool:
    """False when the citizen already had this posting."""
    try:
        await db[c.AGENT_ALERTS].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def queued_alerts(db: AsyncDatabase, citizen_id: str, limit: int) -> list[AlertDoc]:
    cursor = db[c.AGENT_ALERTS].find({"citizenId": citizen_id, "status": "QUEUED"})
    return await cursor.sort("score", -1).to_list(limit)


async def alerts_since(db: AsyncDatabase, citizen_id: str, since: datetime) -> int:
    return await db[c.AGENT_ALERTS].count_documents(
        {"citizenId": citizen_id, "matchedAt": {"$gte": since}}
    )


async def alerted_posting_ids(db: AsyncDatabase, citizen_id: str) -> set[str]:
    cursor = db[c.AGENT_ALERTS].find({"citizenId": citizen_id}, {"postingId": 1})
    return {d["postingId"] async for d in cursor}


async def mark_alerts_sent(db: AsyncDatabase, alert_ids: list[str], at: datetime) -> None:
    await db[c.AGENT_ALERTS].update_many(
        {"_id": {"$in": alert_ids}}, {"$set": {"status": "SENT", "sentAt": at}}
    )


async def alerts_page(db: AsyncDatabase, citizen_id: str, first: int, after: Any) -> list[dict]:
    return await newest_first_page(
        db, c.AGENT_ALERTS, {"citizenId": citizen_id}, "matchedAt", first, after
    )


# --- the lease --------------------------------------------------------------------------------
async def take_lease(db: AsyncDatabase, owner: str, ttl: timedelta, now: datetime) -> dict | None:
    """The agent loop's lease: one instance at a time; None while another holds it."""
    try:
        return await db[c.LOCKS].find_one_and_update(
            {"_id": LOCK, "$or": [{"until": {"$lt": now}}, {"owner": owner}]},
            {"$set": {"owner": owner, "until": now + ttl}, "$setOnInsert": {"checkpoint": now}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:  # another instance holds it
        return None


async def move_checkpoint(db: AsyncDatabase, owner: str, at: datetime) -> None:
    await db[c.LOCKS].update_one({"_id": LOCK, "owner": owner}, {"$set": {"checkpoint": at}})
