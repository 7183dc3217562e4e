"""Coffee-meeting offers and meeting requests. One request per citizen and offer is enforced
by a unique index, so a repeated swipe can never create a second request."""

from __future__ import annotations

from store import collections as c
from store.indexes import IndexSpec

INDEXES: list[IndexSpec] = [
    IndexSpec(c.OFFERS, (("companyCvr", 1), ("status", 1)), "offers_company_status"),
    IndexSpec(c.OFFERS, (("status", 1), ("expiresAt", 1)), "offers_status_expiry"),
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
]

OPEN_REQUEST_STATUSES = ("PENDING", "SEEN", "ACCEPTED")


async def get_request(db, request_id: str, session=None) -> dict | None:
    return await db[c.MEETING_REQUESTS].find_one({"_id": request_id}, session=session)


async def get_offer(db, offer_id: str, session=None) -> dict | None:
    return await db[c.OFFERS].find_one({"_id": offer_id}, session=session)


async def mark_seen(db, request_id: str, at) -> None:
    """The employer has opened the request (only a pending one changes)."""
    await db[c.MEETING_REQUESTS].update_one(
        {"_id": request_id, "status": "PENDING"}, {"$set": {"status": "SEEN", "seenAt": at}}
    )


async def open_requests_of(db, citizen_id: str, session=None) -> list[dict]:
    cursor = db[c.MEETING_REQUESTS].find(
        {"citizenId": citizen_id, "status": {"$in": list(OPEN_REQUEST_STATUSES)}},
        session=session,
    )
    return await cursor.to_list()


async def withdraw(db, request: dict, reason: str, at, session=None) -> None:
    """Close an open request; an accepted one gives its seat in the slot back."""
    await db[c.MEETING_REQUESTS].update_one(
        {"_id": request["_id"]},
        {"$set": {"status": "WITHDRAWN", "closedAt": at, "closeReason": reason}},
        session=session,
    )
    if request["status"] == "ACCEPTED" and request.get("slotId"):
        await db[c.OFFERS].update_one(
            {"_id": request["offerId"], "slots._id": request["slotId"]},
            {"$inc": {"slots.$.booked": -1}},
            session=session,
        )


async def employer_ids_of_company(db, cvr: str, session=None) -> list[tuple[str, str]]:
    """(employer id, locale) of every employer user acting for the company."""
    cursor = db[c.EMPLOYERS].find({"cvr": cvr}, {"locale": 1}, session=session)
    return [(d["_id"], d.get("locale", "da")) async for d in cursor]
