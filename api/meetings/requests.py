"""Meeting requests: the citizen's own list, and the company's side (its requests best fit
first, accepting with a booked seat, declining), and closing requests nobody answered.

An acceptance books its seat, moves the request and creates the meeting in one transaction;
the seat is taken only while the slot has one free and the request moves only while it is
unanswered (both checked in the updates' filters), so concurrent calls cannot both pass.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import numpy as np

from api.auth.actor import Actor
from api.citizens import repository as citizens
from api.offers import repository as offers
from api.offers.rules import MeetingMode, offer_not_found
from core.errors import BadUserInput
from matching.engine import MatchingEngine
from matching.offers import rank_candidates_for_offer
from store.client import in_transaction

from . import notices, repository
from .candidate import CandidateView, candidate_view
from .ownership import own_request
from .repository import MeetingDoc, MeetingEventDoc, MeetingRequestDoc
from .rules import (
    UNANSWERED,
    CloseReason,
    DeclineReason,
    MeetingStatus,
    RequestStatus,
    already_answered,
    now_utc,
    slot_full,
    slot_passed,
)


async def my_requests(db, actor: Actor, statuses: list[str]) -> list[MeetingRequestDoc]:
    return await repository.requests_of_citizen(db, actor.id, statuses)


async def ranked_requests(
    db, engine: MatchingEngine, actor: Actor, offer_id: str, statuses: list[str]
) -> list[tuple[MeetingRequestDoc, CandidateView, float]]:
    """Requests to one of the company's offers, best fit first, with the candidate as the
    company may see them (listing does not count as opening)."""
    offer = await offers.get_offer(db, offer_id)
    if offer is None or offer["companyCvr"] != actor.cvr:
        raise offer_not_found()
    requests = await repository.requests_of_offer(db, offer_id, statuses)
    if not requests:
        return []
    ids = [r["citizenId"] for r in requests]
    people = {d["_id"]: d for d in await citizens.citizens_by_ids(db, ids) if d}
    cvs = {d["citizenId"]: d for d in await citizens.primary_cvs(db, ids)}
    vectors = await citizens.profile_vectors(db, ids)
    targets = {t: engine.occupation_isco.get(t, "") for t in offer["targetOccupationIds"]}
    offer_vector = (await engine.offer_vectors([offer]))[offer["_id"]] if engine.ready else None
    lon, lat = offer["location"]["coordinates"]
    rows = []
    for cid in ids:
        person = people.get(cid)
        if person is None:
            continue
        cv = cvs.get(cid, {})
        occupations = {
            j["occupationId"]: engine.occupation_isco.get(j["occupationId"], "")
            for j in cv.get("workHistory", [])
            if j.get("occupationId")
        }
        for oid in person.get("preferences", {}).get("occupationIds", []):
            occupations[oid] = engine.occupation_isco.get(oid, "")
        clon, clat = person["location"]["coordinates"]
        rows.append((cid, vectors.get(cid), occupations, clat, clon))
    if offer_vector is None:
        offer_vector = np.zeros(384, dtype=np.float32)
    scores = dict(rank_candidates_for_offer(offer_vector, targets, lat, lon, rows))
    now = now_utc()
    out = []
    for r in requests:
        person = people.get(r["citizenId"])
        if person is None:
            continue
        view = candidate_view(r, person, cvs.get(r["citizenId"], {}), offer, now)
        out.append((r, view, scores.get(r["citizenId"], 0.0)))
    out.sort(key=lambda x: (-x[2], x[0]["createdAt"], x[0]["_id"]))
    return out


async def accept_request(db, actor: Actor, request_id: str, slot_id: str) -> MeetingDoc:
    """Book a seat in the slot and confirm the meeting, all at once. The seat is taken only
    while the slot has one free, so a slot is never over-booked however many accept at once."""
    now = now_utc()

    async def work(session) -> MeetingDoc:
        request = await own_request(db, actor, request_id, session)
        if request["status"] not in UNANSWERED:
            raise already_answered()
        offer = await offers.get_offer(db, request["offerId"], session)
        slot = next((s for s in (offer or {}).get("slots", []) if s["_id"] == slot_id), None)
        if offer is None or slot is None:
            raise BadUserInput("Ukendt tidspunkt.", "Unknown time slot.")
        if slot["startsAt"] <= now:
            raise slot_passed()
        if not await offers.book_seat(db, offer["_id"], slot_id, slot["capacity"], session):
            raise slot_full()
        accepted = await repository.move_request(
            db,
            request_id,
            UNANSWERED,
            {"status": RequestStatus.ACCEPTED, "slotId": slot_id, "decidedAt": now,
             "updatedAt": now},
            session,
        )  # fmt: skip
        if accepted is None:
            raise already_answered()
        meeting = MeetingDoc(
            _id=uuid.uuid4().hex,
            requestId=request_id,
            offerId=offer["_id"],
            companyCvr=offer["companyCvr"],
            companyName=offer.get("companyName", ""),
            citizenId=request["citizenId"],
            title=offer["title"],
            mode=offer.get("mode", MeetingMode.IN_PERSON),
            address=offer.get("address"),
            videoUrl=offer.get("videoUrl"),
            slotId=slot_id,
            startsAt=slot["startsAt"],
            endsAt=slot["endsAt"],
            status=MeetingStatus.SCHEDULED,
            history=[MeetingEventDoc(status=MeetingStatus.SCHEDULED, at=now, by="employer")],
            createdAt=now,
            updatedAt=now,
        )
        await repository.insert_meeting(db, meeting, session)
        await notices.request_accepted(db, meeting, now, session)
        return meeting

    return await in_transaction(db, work)


async def decline_request(
    db, actor: Actor, request_id: str, reason: DeclineReason | str
) -> MeetingRequestDoc:
    if reason not in tuple(DeclineReason):
        raise BadUserInput("Ukendt begrundelse.", "Unknown reason.")
    now = now_utc()

    async def work(session) -> MeetingRequestDoc:
        request = await own_request(db, actor, request_id, session)
        declined = await repository.move_request(
            db,
            request_id,
            UNANSWERED,
            {
                "status": RequestStatus.DECLINED,
                "declineReason": reason,
                "closedAt": now,
                "closeReason": CloseReason.DECLINED,
                "updatedAt": now,
            },
            session,
        )
        if declined is None:
            raise already_answered()
        await notices.request_ended(db, "request-declined", request, now, session)
        return declined

    return await in_transaction(db, work)


# --- requests nobody answered -------------------------------------------------------------------
async def expire_request(db, request: MeetingRequestDoc, reason: CloseReason, now: datetime) -> int:
    """Close an unanswered request with a kind notice; 0 if it was answered meanwhile."""

    async def work(session) -> int:
        moved = await repository.move_request(
            db,
            request["_id"],
            UNANSWERED,
            {"status": RequestStatus.EXPIRED, "closedAt": now, "closeReason": reason,
             "updatedAt": now},
            session,
        )  # fmt: skip
        if moved is None:
            return 0
        await notices.request_ended(db, "request-expired", request, now, session)
        return 1

    return await in_transaction(db, work)


async def close_unanswered_for_offer(db, offer_id: str, reason: CloseReason) -> int:
    """The offer ended: its unanswered requests close, each with a kind notice."""
    now = now_utc()
    closed = 0
    for request in await repository.unanswered_for_offer(db, offer_id):
        closed += await expire_request(db, request, reason, now)
    return closed
