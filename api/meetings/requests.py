"""Meeting requests: the citizen's own list, and the company's side (its requests best fit
first, each with a summary of the candidate, one request by id, accepting with a booked seat,
declining), and closing requests nobody answered. Lists and refetches carry the summary only;
the full candidate is read through ``candidate.open_candidate``, which is logged.

An acceptance books its seat, moves the request and creates the meeting in one transaction;
the seat is taken only while the slot has one free and the request moves only while it is
unanswered (both checked in the updates' filters), so concurrent calls cannot both pass.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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
from .candidate import candidate_view, experience, shows_contact
from .ownership import own_request
from .repository import MeetingDoc, MeetingEventDoc, MeetingRequestDoc
from .rules import (
    UNANSWERED,
    CloseReason,
    DeclineReason,
    DistanceBand,
    MeetingStatus,
    RequestStatus,
    already_answered,
    erased_name,
    now_utc,
    request_not_found,
    slot_full,
    slot_passed,
)


async def my_requests(db, actor: Actor, statuses: list[str]) -> list[MeetingRequestDoc]:
    return await repository.requests_of_citizen(db, actor.id, statuses)


async def my_request(db, actor: Actor, request_id: str) -> MeetingRequestDoc:
    """One of the citizen's own requests (someone else's answers as unknown)."""
    request = await repository.get_request(db, request_id)
    if request is None or request.get("citizenId") != actor.id:
        raise request_not_found()
    return request


# --- the company's side: summaries and fit ------------------------------------------------------


@dataclass(frozen=True)
class CandidateSummary:
    """What a company sees of a candidate in a list or a refetch: who (as the citizen allows),
    their headline occupation and how far away. No CV items: those are read only through the
    logged candidate view (``candidate.open_candidate``)."""

    request_id: str
    initial: str
    name: str | None  # as ``candidate_view`` allows: accepted, or the citizen chose NAMED
    headline: str | None  # the occupation worked in longest (its ESCO label), or its title
    distance_band: DistanceBand | None


@dataclass(frozen=True)
class IncomingRequest:
    request: MeetingRequestDoc
    summary: CandidateSummary
    fit: float


def headline(
    cv: dict, labels: dict[str, tuple[str, str]], locale: str, now: datetime
) -> str | None:
    """The job title held longest, as its ESCO occupation's label when the CV names one."""
    titles = experience(cv, now)
    if not titles:
        return None
    title = titles[0][0]
    for job in cv.get("workHistory", []):
        if job["title"] == title and job.get("occupationId") in labels:
            da, en = labels[job["occupationId"]]
            return en if locale == "en" else da
    return title


def _summary(
    request: MeetingRequestDoc, person: dict | None, cv: dict, offer: dict, labels, locale, now,
    contact_shown: bool,
) -> CandidateSummary:  # fmt: skip
    if person is None:
        return CandidateSummary(
            request_id=request["_id"], initial="–", name=erased_name(locale),
            headline=None, distance_band=None,
        )  # fmt: skip
    view = candidate_view(request, person, cv, offer, now, contact_shown=contact_shown)
    return CandidateSummary(
        request_id=request["_id"],
        initial=view.initial,
        name=view.name,
        headline=headline(cv, labels, locale, now),
        distance_band=view.distance_band,
    )


async def _incoming(
    db, engine: MatchingEngine, offer: dict, requests: list[MeetingRequestDoc], locale: str,
    contact_days: int,
) -> list[IncomingRequest]:  # fmt: skip
    """Each request with its candidate's summary and fit, in a fixed number of reads however
    many there are (the meetings only when some request was accepted: the name shows while
    its meeting's contact details do). A request whose citizen is gone (erased: the document
    is anonymised and its citizen id links to nobody) stays, as a deleted user with fit 0."""
    ids = [r["citizenId"] for r in requests if r.get("citizenId") and not r.get("anonymisedAt")]
    people = {d["_id"]: d for d in await citizens.citizens_by_ids(db, ids) if d} if ids else {}
    present = [cid for cid in ids if cid in people]
    cvs = {d["citizenId"]: d for d in await citizens.primary_cvs(db, present)} if present else {}
    scores: dict[str, float] = {}
    if present and offer.get("location"):
        vectors = await citizens.profile_vectors(db, present)
        targets = {
            t: engine.occupation_isco.get(t, "") for t in offer.get("targetOccupationIds", [])
        }
        offer_vector = (await engine.offer_vectors([offer]))[offer["_id"]] if engine.ready else None
        if offer_vector is None:
            offer_vector = np.zeros(384, dtype=np.float32)
        lon, lat = offer["location"]["coordinates"]
        rows = []
        for cid in present:
            person, cv = people[cid], cvs.get(cid, {})
            occupations = {
                j["occupationId"]: engine.occupation_isco.get(j["occupationId"], "")
                for j in cv.get("workHistory", [])
                if j.get("occupationId")
            }
            for oid in person.get("preferences", {}).get("occupationIds", []):
                occupations[oid] = engine.occupation_isco.get(oid, "")
            clon, clat = person["location"]["coordinates"]
            rows.append((cid, vectors.get(cid), occupations, clat, clon))
        scores = dict(rank_candidates_for_offer(offer_vector, targets, lat, lon, rows))
    now = now_utc()
    accepted = [r["_id"] for r in requests
                if r["status"] == RequestStatus.ACCEPTED and r.get("citizenId") in people]  # fmt: skip
    meetings = await repository.meetings_by_request_ids(db, accepted)
    out = []
    for r in requests:
        cid = r.get("citizenId")
        person = people.get(cid) if cid else None  # None: erased
        shown = shows_contact(r, meetings.get(r["_id"]), now, contact_days)
        summary = _summary(r, person, cvs.get(cid, {}), offer, engine.occupation_labels,
                           locale, now, shown)  # fmt: skip
        out.append(IncomingRequest(r, summary, round(scores.get(cid, 0.0), 4)))
    return out


async def ranked_requests(
    db, engine: MatchingEngine, actor: Actor, offer_id: str, statuses: list[str],
    locale: str, contact_days: int,
) -> list[IncomingRequest]:  # fmt: skip
    """Requests to one of the company's offers, best fit first, each with a summary of the
    candidate (listing does not count as opening: no CV view, nothing becomes SEEN)."""
    offer = await offers.get_offer(db, offer_id)
    if offer is None or offer["companyCvr"] != actor.cvr:
        raise offer_not_found()
    requests = await repository.requests_of_offer(db, offer_id, statuses)
    if not requests:
        return []
    out = await _incoming(db, engine, offer, requests, locale, contact_days)
    out.sort(key=lambda x: (-x.fit, x.request["createdAt"], x.request["_id"]))
    return out


async def incoming_request(
    db, engine: MatchingEngine, actor: Actor, request_id: str, locale: str, contact_days: int
) -> IncomingRequest:
    """One request to the company's own offers, as its list shows it. Side-effect free: no CV
    view is written and a pending request stays pending."""
    request = await own_request(db, actor, request_id)
    offer = await offers.get_offer(db, request["offerId"]) or {"_id": request["offerId"]}
    return (await _incoming(db, engine, offer, [request], locale, contact_days))[0]


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
