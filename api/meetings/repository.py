"""Swipes, the daily YES quota, meeting requests and meetings: the only module that touches
their collections. Offers have their own repository (``api.offers.repository``).

The rules that must hold under concurrency live in the queries themselves: one request per
citizen and offer (unique index), a state changes only from the states it may change from (the
filter names them). A seat is taken in the offers' repository, inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from store import collections as c
from store.indexes import IndexSpec
from store.queries import find_by_ids

from .rules import LIVE_MEETING, OPEN_REQUEST, UNANSWERED, ChangeKind, RequestStatus

INDEXES: list[IndexSpec] = [
    IndexSpec(
        c.MEETING_REQUESTS,
        (("citizenId", 1), ("offerId", 1)),
        "meeting_requests_one_per_offer",
        unique=True,
    ),
    IndexSpec(
        c.MEETING_REQUESTS,
        (("offerId", 1), ("status", 1), ("createdAt", -1)),
        "meeting_requests_offer_status",
    ),
    IndexSpec(c.MEETING_REQUESTS, (("companyCvr", 1), ("status", 1)), "meeting_requests_company"),
    IndexSpec(
        c.MEETING_REQUESTS, (("citizenId", 1), ("createdAt", -1)), "meeting_requests_citizen"
    ),
    IndexSpec(
        c.MEETING_REQUESTS, (("citizenId", 1), ("updatedAt", -1)), "meeting_requests_citizen_upd"
    ),
    IndexSpec(
        c.MEETING_REQUESTS, (("companyCvr", 1), ("updatedAt", -1)), "meeting_requests_company_upd"
    ),
    IndexSpec(c.MEETING_REQUESTS, (("status", 1), ("createdAt", 1)), "meeting_requests_expiry"),
    IndexSpec(c.SWIPES, (("citizenId", 1), ("createdAt", -1)), "swipes_citizen_created"),
    IndexSpec(c.SWIPE_QUOTA, (("citizenId", 1),), "swipe_quota_citizen"),
    IndexSpec(c.MEETINGS, (("requestId", 1),), "meetings_request", unique=True),
    IndexSpec(c.MEETINGS, (("citizenId", 1), ("startsAt", -1)), "meetings_citizen_starts"),
    IndexSpec(c.MEETINGS, (("companyCvr", 1), ("startsAt", -1)), "meetings_company_starts"),
    IndexSpec(c.MEETINGS, (("citizenId", 1), ("updatedAt", -1)), "meetings_citizen_upd"),
    IndexSpec(c.MEETINGS, (("companyCvr", 1), ("updatedAt", -1)), "meetings_company_upd"),
    IndexSpec(c.MEETINGS, (("status", 1), ("startsAt", 1)), "meetings_status_starts"),
]


# --- the stored shapes ------------------------------------------------------------------------
class SwipeDoc(TypedDict):
    _id: str  # "<citizenId>:<offerId>": one answer per card
    citizenId: str
    offerId: str
    companyCvr: str
    decision: str  # rules.SwipeDecision
    reason: str | None  # rules.SwipeReason, with NO only
    iscoCodes: list[str]  # the offer's target units, for the deck's feedback
    day: str  # the Danish day, for the daily quota
    createdAt: datetime
    requestId: str | None  # the request a YES sent


class MeetingRequestDoc(TypedDict):
    _id: str
    citizenId: str
    offerId: str
    companyCvr: str
    status: str  # rules.RequestStatus
    createdAt: datetime
    updatedAt: datetime
    seenAt: datetime | None
    slotId: NotRequired[str]  # accepted
    decidedAt: NotRequired[datetime]  # accepted
    declineReason: NotRequired[str]  # rules.DeclineReason
    closedAt: NotRequired[datetime]  # declined, expired or withdrawn
    closeReason: NotRequired[str]


class MeetingEventDoc(TypedDict):
    status: str  # rules.MeetingStatus
    at: datetime
    by: str  # rules.Side
    slotId: NotRequired[str]  # rescheduled to


class MeetingDoc(TypedDict):
    _id: str
    requestId: str
    offerId: str
    companyCvr: str
    companyName: str
    citizenId: str
    title: str
    mode: str  # api.offers.rules.MeetingMode
    address: str | None
    videoUrl: str | None
    slotId: str
    startsAt: datetime
    endsAt: datetime
    status: str  # rules.MeetingStatus
    history: list[MeetingEventDoc]
    createdAt: datetime
    updatedAt: datetime
    closedAt: NotRequired[datetime]
    closeReason: NotRequired[str]
    cancelNote: NotRequired[str | None]
    reminded: NotRequired[dict[str, datetime]]  # reminder kind -> the start time it was for


# --- swipes and the daily quota --------------------------------------------------------------
async def get_swipe(db, citizen_id: str, offer_id: str, session=None) -> SwipeDoc | None:
    return await db[c.SWIPES].find_one({"_id": f"{citizen_id}:{offer_id}"}, session=session)


async def insert_swipe(db, doc: SwipeDoc, session=None) -> None:
    await db[c.SWIPES].insert_one(doc, session=session)


async def set_swipe_reason(db, swipe_id: str, reason: str | None, session) -> SwipeDoc:
    """A NO answered again with another reason: the newest reason counts (the answer keeps
    its time, so undo still finds the swipes in the order they were made)."""
    return await db[c.SWIPES].find_one_and_update(
        {"_id": swipe_id},
        {"$set": {"reason": reason}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )


async def delete_swipe(db, swipe_id: str, session) -> None:
    await db[c.SWIPES].delete_one({"_id": swipe_id}, session=session)


async def last_swipe(db, citizen_id: str, session=None) -> SwipeDoc | None:
    cursor = (
        db[c.SWIPES]
        .find({"citizenId": citizen_id}, session=session)
        .sort([("createdAt", -1), ("_id", -1)])
        .limit(1)
    )
    docs = await cursor.to_list()
    return docs[0] if docs else None


async def swipes_of(db, citizen_id: str, limit: int = 2000) -> list[SwipeDoc]:
    cursor = db[c.SWIPES].find({"citizenId": citizen_id}).sort("createdAt", -1).limit(limit)
    return await cursor.to_list()


async def swiped_offer_ids(db, citizen_id: str) -> set[str]:
    cursor = db[c.SWIPES].find({"citizenId": citizen_id}, {"offerId": 1})
    return {d["offerId"] async for d in cursor}


async def take_yes(db, citizen_id: str, day: str, limit: int, session) -> bool:
    """Count one more YES on the citizen's day; False (nothing to keep: the caller's
    transaction is aborted) when that goes over ``limit``. One round trip where a read and an
    increment took two, and the quota document's write serializes two YES of one citizen."""
    doc = await db[c.SWIPE_QUOTA].find_one_and_update(
        {"_id": f"{citizen_id}:{day}"},
        {"$inc": {"yes": 1}, "$setOnInsert": {"citizenId": citizen_id, "day": day}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return int(doc["yes"]) <= limit


async def add_yes(db, citizen_id: str, day: str, delta: int, session) -> None:
    await db[c.SWIPE_QUOTA].update_one(
        {"_id": f"{citizen_id}:{day}"},
        {"$inc": {"yes": delta}, "$setOnInsert": {"citizenId": citizen_id, "day": day}},
        upsert=True,
        session=session,
    )


# --- meeting requests -----------------------------------------------------------------------
async def get_request(db, request_id: str, session=None) -> MeetingRequestDoc | None:
    return await db[c.MEETING_REQUESTS].find_one({"_id": request_id}, session=session)


async def requests_by_ids(db: AsyncDatabase, ids: Sequence[str]) -> list[MeetingRequestDoc | None]:
    return await find_by_ids(db, c.MEETING_REQUESTS, ids)


async def request_for(db, citizen_id: str, offer_id: str, session=None) -> MeetingRequestDoc | None:
    return await db[c.MEETING_REQUESTS].find_one(
        {"citizenId": citizen_id, "offerId": offer_id}, session=session
    )


async def insert_request(db, doc: MeetingRequestDoc, session) -> None:
    await db[c.MEETING_REQUESTS].insert_one(doc, session=session)


async def delete_request(db, request_id: str, session) -> None:
    await db[c.MEETING_REQUESTS].delete_one({"_id": request_id}, session=session)


async def move_request(
    db, request_id: str, from_statuses: Sequence[str], fields: dict, session=None
) -> MeetingRequestDoc | None:
    """Change a request's state only if it is still in one of ``from_statuses``."""
    return await db[c.MEETING_REQUESTS].find_one_and_update(
        {"_id": request_id, "status": {"$in": list(from_statuses)}},
        {"$set": fields},
        return_document=ReturnDocument.AFTER,
        session=session,
    )


async def mark_seen(db, request_id: str, at: datetime) -> None:
    """The employer has opened the request (only a pending one changes)."""
    await db[c.MEETING_REQUESTS].update_one(
        {"_id": request_id, "status": RequestStatus.PENDING},
        {"$set": {"status": RequestStatus.SEEN, "seenAt": at, "updatedAt": at}},
    )


async def requests_of_offer(db, offer_id: str, statuses: list[str]) -> list[MeetingRequestDoc]:
    query: dict[str, Any] = {"offerId": offer_id}
    if statuses:
        query["status"] = {"$in": statuses}
    cursor = db[c.MEETING_REQUESTS].find(query).sort("createdAt", -1).limit(2000)
    return await cursor.to_list()


async def requests_of_citizen(db, citizen_id: str, statuses: list[str]) -> list[MeetingRequestDoc]:
    query: dict[str, Any] = {"citizenId": citizen_id}
    if statuses:
        query["status"] = {"$in": statuses}
    cursor = db[c.MEETING_REQUESTS].find(query).sort([("createdAt", -1), ("_id", -1)])
    return await cursor.to_list(500)


async def open_requests_of(db, citizen_id: str, session=None) -> list[MeetingRequestDoc]:
    cursor = db[c.MEETING_REQUESTS].find(
        {"citizenId": citizen_id, "status": {"$in": list(OPEN_REQUEST)}},
        session=session,
    )
    return await cursor.to_list()


async def unanswered_before(db, before: datetime, limit: int = 500) -> list[MeetingRequestDoc]:
    cursor = db[c.MEETING_REQUESTS].find(
        {"status": {"$in": list(UNANSWERED)}, "createdAt": {"$lt": before}}
    )
    return await cursor.limit(limit).to_list()


async def unanswered_for_offer(db, offer_id: str) -> list[MeetingRequestDoc]:
    cursor = db[c.MEETING_REQUESTS].find({"offerId": offer_id, "status": {"$in": list(UNANSWERED)}})
    return await cursor.to_list()


async def withdraw(db, request: MeetingRequestDoc, reason: str, at, session=None) -> None:
    """Close an open request."""
    await db[c.MEETING_REQUESTS].update_one(
        {"_id": request["_id"]},
        {
            "$set": {
                "status": RequestStatus.WITHDRAWN,
                "closedAt": at,
                "closeReason": reason,
                "updatedAt": at,
            }
        },
        session=session,
    )


# --- meetings -------------------------------------------------------------------------------
async def insert_meeting(db, doc: MeetingDoc, session) -> None:
    await db[c.MEETINGS].insert_one(doc, session=session)


async def get_meeting(db, meeting_id: str, session=None) -> MeetingDoc | None:
    return await db[c.MEETINGS].find_one({"_id": meeting_id}, session=session)


async def move_meeting(
    db,
    meeting_id: str,
    from_statuses: Sequence[str],
    fields: dict,
    event: MeetingEventDoc,
    session,
) -> MeetingDoc | None:
    """Change a meeting's state only from an allowed state, recording the change."""
    return await db[c.MEETINGS].find_one_and_update(
        {"_id": meeting_id, "status": {"$in": list(from_statuses)}},
        {"$set": fields, "$push": {"history": event}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )


async def meetings_by_request_ids(db, request_ids: Sequence[str]) -> dict[str, MeetingDoc]:
    """The meeting of each accepted request, by request id (one per request: unique index)."""
    if not request_ids:
        return {}
    cursor = db[c.MEETINGS].find({"requestId": {"$in": list(request_ids)}})
    return {d["requestId"]: d async for d in cursor}


async def meetings_of(db, field: str, value: str, statuses: list[str]) -> list[MeetingDoc]:
    query: dict[str, Any] = {field: value}
    if statuses:
        query["status"] = {"$in": statuses}
    cursor = db[c.MEETINGS].find(query).sort([("startsAt", -1), ("_id", -1)])
    return await cursor.to_list(500)


async def live_meetings_of_citizen(db, citizen_id: str, session) -> list[MeetingDoc]:
    cursor = db[c.MEETINGS].find(
        {"citizenId": citizen_id, "status": {"$in": list(LIVE_MEETING)}}, session=session
    )
    return await cursor.to_list()


async def meetings_starting_between(db, start: datetime, end: datetime) -> list[MeetingDoc]:
    cursor = db[c.MEETINGS].find(
        {"status": {"$in": list(LIVE_MEETING)}, "startsAt": {"$gt": start, "$lte": end}}
    )
    return await cursor.to_list(5000)


async def mark_reminded(db, meeting_id: str, kind: str, starts_at: datetime) -> bool:
    """Claim the reminder for this start time (once, across API instances)."""
    result = await db[c.MEETINGS].update_one(
        {"_id": meeting_id, f"reminded.{kind}": {"$ne": starts_at}},
        {"$set": {f"reminded.{kind}": starts_at}},
    )
    return result.modified_count == 1


# --- live updates ---------------------------------------------------------------------------
CHANGING = {ChangeKind.REQUEST: c.MEETING_REQUESTS, ChangeKind.MEETING: c.MEETINGS}


async def changed_since(
    db, kind: str, field: str, value: str, since: datetime, limit: int
) -> list[dict]:
    """Requests or meetings (``kind``) of a citizen or company changed at or after ``since``,
    oldest first (live updates page through these)."""
    cursor = db[CHANGING[kind]].find({field: value, "updatedAt": {"$gte": since}})
    return await cursor.sort("updatedAt", 1).limit(limit).to_list()


async def answered_pairs(db) -> set[tuple[str, str]]:
    """Every (offer id, citizen id) already swiped or requested (load benchmark set-up)."""
    return {
        (d["offerId"], d["citizenId"])
        for coll in (c.SWIPES, c.MEETING_REQUESTS)
        async for d in db[coll].find({}, {"offerId": 1, "citizenId": 1})
    }
