"""Coffee meetings: the citizen's swipe deck and swipes, the employer's requests, acceptance
with slot booking, and the meeting's life until it is held.

Every write that must be all-or-nothing (a swipe and its request and quota, an acceptance and
its seat and meeting, a cancellation and its freed seat) runs in one transaction; the
conditions that protect seats and states are in the repository's filters, so concurrent calls
cannot both pass them. Each state change emits an event through ``notifications.events``.

A company sees a candidate only through a request to one of its own offers, and only at the
visibility the citizen chose: pseudonymous (initial, experience, skills, distance band) until
the request is accepted, unless the citizen chose to show their name. Contact details follow
acceptance. Opening a candidate is written to the citizen's CV view log.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from api.auth.actor import Actor, Role
from api.citizens import repository as citizens
from api.citizens.service import require_citizen
from api.joblog.service import record_meeting_held
from api.privacy import repository as privacy
from api.viewer.repository import companies_by_cvr
from core.errors import BadUserInput, Conflict, NotFound, RateLimited
from core.settings import Settings
from matching.engine import MatchingEngine
from matching.geo import haversine_km
from matching.offers import deck_areas, rank_offers, swipe_feedback
from matching.ranking import rank_candidates_for_offer
from notifications import events
from notifications.events import COPENHAGEN, at_time, by_role
from store.client import in_transaction

from . import repository

DISTANCE_BANDS = ((5, "UNDER_5_KM"), (15, "KM_5_15"), (30, "KM_15_30"), (60, "KM_30_60"))
NO_REASONS = ("NOT_INTERESTED", "TOO_FAR", "WRONG_FIELD", "BAD_TIMES", "OTHER")
DECLINE_REASONS = ("NOT_A_MATCH", "POSITION_FILLED", "NO_CAPACITY", "OTHER")
REQUEST_STATUSES = ("PENDING", "SEEN", "ACCEPTED", "DECLINED", "EXPIRED", "WITHDRAWN")

# Which meeting states may follow which; anything else answers CONFLICT.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "SCHEDULED": ("RESCHEDULED", "CANCELLED", "COMPLETED", "NO_SHOW"),
    "RESCHEDULED": ("RESCHEDULED", "CANCELLED", "COMPLETED", "NO_SHOW"),
    "CANCELLED": (),
    "COMPLETED": (),
    "NO_SHOW": (),
}


def allowed_from(target: str) -> tuple[str, ...]:
    return tuple(s for s, nxt in TRANSITIONS.items() if target in nxt)


def _now() -> datetime:
    return datetime.now(UTC)


def local_day(at: datetime) -> str:
    return at.astimezone(COPENHAGEN).date().isoformat()


def request_not_found() -> NotFound:
    return NotFound("Mødeanmodningen findes ikke.", "The meeting request does not exist.")


def offer_not_found() -> NotFound:
    return NotFound("Kaffemødet findes ikke.", "The coffee meeting does not exist.")


def meeting_not_found() -> NotFound:
    return NotFound("Mødet findes ikke.", "The meeting does not exist.")


def distance_band(km: float) -> str:
    for limit, band in DISTANCE_BANDS:
        if km < limit:
            return band
    return "OVER_60_KM"


def free_future_slots(offer: dict, now: datetime) -> list[dict]:
    return [
        s for s in offer.get("slots", []) if s["startsAt"] > now and s["booked"] < s["capacity"]
    ]


def is_open(offer: dict, now: datetime) -> bool:
    return (
        offer.get("status") == "OPEN"
        and offer["expiresAt"] > now
        and bool(free_future_slots(offer, now))
    )


# --- the candidate as a company sees them ------------------------------------------------------
def _months(start: str | None, end: str | None, today: datetime) -> int:
    if not start:
        return 0
    y1, m1 = map(int, start.split("-"))
    y2, m2 = map(int, end.split("-")) if end else (today.year, today.month)
    return max(1, (y2 - y1) * 12 + (m2 - m1) + 1)


def experience(cv: dict, today: datetime) -> list[tuple[str, int]]:
    """(title, months) per job title, longest first; no former employers' names, which could
    identify the person."""
    months: dict[str, int] = {}
    for job in cv.get("workHistory", []):
        months[job["title"]] = months.get(job["title"], 0) + _months(
            job.get("start"), job.get("end"), today
        )
    return sorted(months.items(), key=lambda kv: -kv[1])


def candidate_view(request: dict, citizen: dict, cv: dict, offer: dict, now: datetime) -> dict:
    accepted = request["status"] == "ACCEPTED"
    named = accepted or citizen.get("consents", {}).get("employerVisibility") == "NAMED"
    km = None
    if offer.get("location") and citizen.get("location"):
        olon, olat = offer["location"]["coordinates"]
        clon, clat = citizen["location"]["coordinates"]
        km = haversine_km(clat, clon, olat, olon)
    return {
        "requestId": request["_id"],
        "status": request["status"],
        "initial": citizen["firstName"][:1].upper() + ".",
        "name": f"{citizen['firstName']} {citizen['lastName']}" if named else None,
        "email": citizen.get("email") if accepted else None,
        "phone": citizen.get("phone") if accepted else None,
        "experience": experience(cv, now),
        "education": [e["title"] for e in cv.get("education", [])],
        "skills": list(cv.get("skills", [])),
        "courses": list(cv.get("courses", [])),
        "drivingLicences": list(cv.get("drivingLicences", [])),
        "languages": cv.get("languages", []),
        "distanceBand": distance_band(km) if km is not None else None,
    }


async def _own_request(db, actor: Actor, request_id: str, session=None) -> dict:
    request = await repository.get_request(db, request_id, session)
    # Another company's request answers as unknown, so ids cannot be probed.
    if request is None or request.get("companyCvr") != actor.cvr:
        raise request_not_found()
    return request


async def open_candidate(db, actor: Actor, request_id: str) -> dict:
    """The candidate behind a request to the employer's own company, as the citizen allows.
    Opening it is logged for the citizen and marks a pending request as seen."""
    request = await _own_request(db, actor, request_id)
    citizen = await citizens.get_citizen(db, request["citizenId"])
    if citizen is None:
        raise request_not_found()
    offer = await repository.get_offer(db, request["offerId"]) or {}
    cv = await citizens.primary_cv(db, citizen["_id"]) or {}
    now = _now()
    company = (await companies_by_cvr(db, [actor.cvr]))[0] or {}
    await privacy.record_view(
        db,
        {
            "_id": uuid.uuid4().hex,
            "citizenId": citizen["_id"],
            "companyCvr": actor.cvr,
            "companyName": company.get("name", ""),
            "reason": "MEETING_REQUEST",
            "offerId": request["offerId"],
            "offerTitle": offer.get("title"),
            "meetingRequestId": request["_id"],
            "viewedAt": now,
        },
    )
    await repository.mark_seen(db, request["_id"], now)
    if request["status"] == "PENDING":
        request = request | {"status": "SEEN"}
    return candidate_view(request, citizen, cv, offer, now)


# --- the citizen's deck and swipes -----------------------------------------------------------
async def swipe_deck(
    db, engine: MatchingEngine, actor: Actor, first: int, locale: str
) -> list[tuple[dict, Any]]:
    """Open offers the citizen has not answered, from companies they have not blocked, with a
    free seat ahead, within their radius (video anywhere), in today's fair order."""
    citizen = await require_citizen(db, actor)
    now = _now()
    swiped = await repository.swiped_offer_ids(db, actor.id)
    blocked = set(citizen.get("blockedCompanies", []))
    radius = float(citizen.get("preferences", {}).get("radiusKm", 30))
    lon, lat = citizen["location"]["coordinates"]
    offers = []
    for o in await repository.open_offers(db, now, deck_areas(lat, lon, radius)):
        if o["_id"] in swiped or o["companyCvr"] in blocked or not is_open(o, now):
            continue
        if o.get("mode") != "VIDEO" and o.get("location"):
            olon, olat = o["location"]["coordinates"]
            if haversine_km(lat, lon, olat, olon) > radius:
                continue
        offers.append(o)
    if not offers:
        return []
    cv = await citizens.primary_cv(db, actor.id)
    feedback = swipe_feedback(await repository.swipes_of(db, actor.id))
    profile = await engine.citizen_profile(db, citizen, cv, feedback=feedback, locale=locale)
    vectors = None
    if profile.vector is not None and engine.ready:
        vectors = await engine.offer_vectors(offers)
    cards = rank_offers(profile, offers, now, local_day(now), engine.occupation_isco, vectors)
    by_id = {o["_id"]: o for o in offers}
    return [(by_id[card.offer_id], card) for card in cards[:first]]


async def swipe(
    db, settings: Settings, actor: Actor, offer_id: str, decision: str, reason: str | None
) -> dict:
    """YES sends a meeting request, NO records the answer (and its reason, used only for this
    citizen's deck). The same swipe twice returns the first; a different answer to the same
    card needs an undo first."""
    if decision not in ("YES", "NO"):
        raise BadUserInput("Ukendt svar.", "Unknown answer.")
    if reason is not None and (decision == "YES" or reason not in NO_REASONS):
        raise BadUserInput("Ugyldig begrundelse.", "Invalid reason.")
    citizen = await require_citizen(db, actor)
    now = _now()
    day = local_day(now)

    async def work(session) -> dict:
        existing = await repository.get_swipe(db, actor.id, offer_id, session)
        if existing is not None:
            if existing["decision"] == decision:
                return existing
            raise Conflict(
                "Du har allerede svaret på dette kaffemøde. Fortryd først, hvis du har fortrudt.",
                "You already answered this coffee meeting. Undo first to change your answer.",
            )
        offer = await repository.get_offer(db, offer_id, session)
        if offer is None:
            raise offer_not_found()
        if offer["companyCvr"] in set(citizen.get("blockedCompanies", [])):
            raise offer_not_found()
        doc = {
            "_id": f"{actor.id}:{offer_id}",
            "citizenId": actor.id,
            "offerId": offer_id,
            "companyCvr": offer["companyCvr"],
            "decision": decision,
            "reason": reason,
            "iscoCodes": list(offer.get("targetIscoCodes", [])),
            "day": day,
            "createdAt": now,
            "requestId": None,
        }
        if decision == "YES":
            if not is_open(offer, now):
                raise Conflict(
                    "Kaffemødet er ikke længere åbent.", "The coffee meeting is no longer open."
                )
            used = await repository.yes_today(db, actor.id, day, session)
            if used >= settings.daily_yes_swipes:
                raise RateLimited(
                    f"Du har sagt ja til {settings.daily_yes_swipes} kaffemøder i dag. Prøv "
                    "igen i morgen.",
                    f"You have said yes to {settings.daily_yes_swipes} coffee meetings today. "
                    "Try again tomorrow.",
                )
            if await repository.request_for(db, actor.id, offer_id, session) is not None:
                raise Conflict(
                    "Du har allerede bedt om dette kaffemøde.",
                    "You already asked for this coffee meeting.",
                )
            await repository.add_yes(db, actor.id, day, 1, session)
            request = {
                "_id": uuid.uuid4().hex,
                "citizenId": actor.id,
                "offerId": offer_id,
                "companyCvr": offer["companyCvr"],
                "status": "PENDING",
                "createdAt": now,
                "updatedAt": now,
                "seenAt": None,
            }
            await repository.insert_request(db, request, session)
            doc["requestId"] = request["_id"]
            await events.to_company(
                db,
                "request-created",
                offer["companyCvr"],
                f"request-created:{request['_id']}",
                f"/offers/{offer_id}/requests/{request['_id']}",
                {"offer": offer["title"]},
                session=session,
                now=now,
            )
        await repository.insert_swipe(db, doc, session)
        return doc

    return await in_transaction(db, work)


async def undo_last_swipe(db, actor: Actor) -> dict:
    """Take back the newest swipe. A YES can be taken back only while the company has not
    opened the request; its notice is withdrawn and the day's quota given back."""

    async def work(session) -> dict:
        last = await repository.last_swipe(db, actor.id, session)
        if last is None:
            raise NotFound("Der er ingen swipe at fortryde.", "There is no swipe to undo.")
        if last["decision"] == "YES" and last.get("requestId"):
            request = await repository.get_request(db, last["requestId"], session)
            if request is not None and request["status"] != "PENDING":
                raise Conflict(
                    "Virksomheden har allerede set din anmodning, så den kan ikke fortrydes.",
                    "The company has already seen your request, so it cannot be undone.",
                )
            if request is not None:
                await repository.delete_request(db, request["_id"], session)
                await events.retract(db, f"request-created:{request['_id']}", session=session)
            await repository.add_yes(db, actor.id, last["day"], -1, session)
        await repository.delete_swipe(db, last["_id"], session)
        return last

    return await in_transaction(db, work)


async def block_company(db, actor: Actor, cvr: str, block: bool) -> list[str]:
    await require_citizen(db, actor)
    if block:
        update = {"$addToSet": {"blockedCompanies": cvr}}
    else:
        update = {"$pull": {"blockedCompanies": cvr}}
    doc = await citizens.update_citizen_raw(db, actor.id, update)
    return list(doc.get("blockedCompanies", [])) if doc else []


async def my_requests(db, actor: Actor, statuses: list[str]) -> list[dict]:
    return await repository.requests_of_citizen(db, actor.id, statuses)


async def my_meetings(db, actor: Actor, statuses: list[str]) -> list[dict]:
    if actor.role is Role.EMPLOYER:
        return await repository.meetings_of(db, "companyCvr", actor.cvr or "", statuses)
    return await repository.meetings_of(db, "citizenId", actor.id, statuses)


# --- the employer's side ----------------------------------------------------------------------
async def ranked_requests(
    db, engine: MatchingEngine, actor: Actor, offer_id: str, statuses: list[str]
) -> list[tuple[dict, dict, float]]:
    """Requests to one of the company's offers, best fit first, with the candidate as the
    company may see them (listing does not count as opening)."""
    offer = await repository.get_offer(db, offer_id)
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
    now = _now()
    out = []
    for r in requests:
        person = people.get(r["citizenId"])
        if person is None:
            continue
        view = candidate_view(r, person, cvs.get(r["citizenId"], {}), offer, now)
        out.append((r, view, scores.get(r["citizenId"], 0.0)))
    out.sort(key=lambda x: (-x[2], x[0]["createdAt"], x[0]["_id"]))
    return out


async def accept_request(db, actor: Actor, request_id: str, slot_id: str) -> dict:
    """Book a seat in the slot and confirm the meeting, all at once. The seat is taken only
    while the slot has one free, so a slot is never over-booked however many accept at once."""
    now = _now()

    async def work(session) -> dict:
        request = await _own_request(db, actor, request_id, session)
        if request["status"] not in repository.UNANSWERED:
            raise Conflict(
                "Anmodningen er allerede besvaret.", "The request has already been answered."
            )
        offer = await repository.get_offer(db, request["offerId"], session)
        slot = next((s for s in (offer or {}).get("slots", []) if s["_id"] == slot_id), None)
        if offer is None or slot is None:
            raise BadUserInput("Ukendt tidspunkt.", "Unknown time slot.")
        if slot["startsAt"] <= now:
            raise Conflict("Tidspunktet er passeret.", "The time slot has passed.")
        if not await repository.book_seat(db, offer["_id"], slot_id, slot["capacity"], session):
            raise Conflict(
                "Tidspunktet er optaget. Vælg et andet.", "The time slot is full. Choose another."
            )
        accepted = await repository.move_request(
            db,
            request_id,
            repository.UNANSWERED,
            {"status": "ACCEPTED", "slotId": slot_id, "decidedAt": now, "updatedAt": now},
            session,
        )
        if accepted is None:
            raise Conflict(
                "Anmodningen er allerede besvaret.", "The request has already been answered."
            )
        meeting = {
            "_id": uuid.uuid4().hex,
            "requestId": request_id,
            "offerId": offer["_id"],
            "companyCvr": offer["companyCvr"],
            "companyName": offer.get("companyName", ""),
            "citizenId": request["citizenId"],
            "title": offer["title"],
            "mode": offer.get("mode", "IN_PERSON"),
            "address": offer.get("address"),
            "videoUrl": offer.get("videoUrl"),
            "slotId": slot_id,
            "startsAt": slot["startsAt"],
            "endsAt": slot["endsAt"],
            "status": "SCHEDULED",
            "history": [{"status": "SCHEDULED", "at": now, "by": "employer"}],
            "createdAt": now,
            "updatedAt": now,
        }
        await repository.insert_meeting(db, meeting, session)
        await events.to_citizen(
            db,
            "request-accepted",
            request["citizenId"],
            f"request-accepted:{request_id}",
            f"/meetings/{meeting['_id']}",
            {
                "company": meeting["companyName"],
                "offer": offer["title"],
                "when": at_time(slot["startsAt"]),
            },
            session=session,
            now=now,
        )
        return meeting

    return await in_transaction(db, work)


async def decline_request(db, actor: Actor, request_id: str, reason: str) -> dict:
    if reason not in DECLINE_REASONS:
        raise BadUserInput("Ukendt begrundelse.", "Unknown reason.")
    now = _now()

    async def work(session) -> dict:
        request = await _own_request(db, actor, request_id, session)
        declined = await repository.move_request(
            db,
            request_id,
            repository.UNANSWERED,
            {
                "status": "DECLINED",
                "declineReason": reason,
                "closedAt": now,
                "closeReason": "DECLINED",
                "updatedAt": now,
            },
            session,
        )
        if declined is None:
            raise Conflict(
                "Anmodningen er allerede besvaret.", "The request has already been answered."
            )
        await _tell_citizen_request_ended(db, "request-declined", request, now, session)
        return declined

    return await in_transaction(db, work)


# --- meetings ---------------------------------------------------------------------------------
async def _own_meeting(db, actor: Actor, meeting_id: str, session=None) -> tuple[dict, str]:
    meeting = await repository.get_meeting(db, meeting_id, session)
    if meeting is not None:
        if actor.role is Role.CITIZEN and meeting["citizenId"] == actor.id:
            return meeting, "citizen"
        if actor.role is Role.EMPLOYER and meeting["companyCvr"] == actor.cvr:
            return meeting, "employer"
    raise meeting_not_found()


async def get_meeting(db, actor: Actor, meeting_id: str) -> dict:
    return (await _own_meeting(db, actor, meeting_id))[0]


def illegal(status: str, target: str) -> Conflict:
    return Conflict(
        f"Et møde med status {status} kan ikke ændres til {target}.",
        f"A meeting with status {status} cannot change to {target}.",
        extensions={"status": status},
    )


async def _tell_citizen_request_ended(db, kind: str, request: dict, now, session) -> None:
    """A kind notice that a request was declined or ran out; it leads back to the deck."""
    offer = await repository.get_offer(db, request["offerId"], session) or {}
    values = {"company": offer.get("companyName", ""), "offer": offer.get("title", "")}
    await events.to_citizen(db, kind, request["citizenId"], f"{kind}:{request['_id']}", "/swipe",
                            values, session=session, now=now)  # fmt: skip


async def _notify_other_side(db, meeting: dict, side: str, kind: str, now, session) -> None:
    values = {"offer": meeting["title"], "when": at_time(meeting["startsAt"]),
              "by": by_role(side)}  # fmt: skip
    key = f"{kind}:{meeting['_id']}:{meeting['updatedAt'].isoformat()}"
    route = f"/meetings/{meeting['_id']}"
    if side == "employer":
        send, to = events.to_citizen, meeting["citizenId"]
    else:
        send, to = events.to_company, meeting["companyCvr"]
    await send(db, kind, to, key, route, values, session=session, now=now)


async def _move(db, meeting: dict, to: str, fields: dict, entry: dict, session) -> dict:
    """Move the meeting to state ``to`` if it may go there from where it is now (checked in
    the update itself); otherwise CONFLICT."""
    moved = await repository.move_meeting(
        db, meeting["_id"], allowed_from(to), {"status": to, **fields}, {"status": to, **entry},
        session,
    )  # fmt: skip
    if moved is None:
        raise illegal(meeting["status"], to)
    return moved


async def cancel_meeting(db, actor: Actor, meeting_id: str, reason: str | None) -> dict:
    now = _now()
    p_reason = (reason or "").strip()[:300] or None

    async def work(session) -> dict:
        meeting, side = await _own_meeting(db, actor, meeting_id, session)
        fields = {"closedAt": now, "closeReason": f"CANCELLED_BY_{side.upper()}",
                  "cancelNote": p_reason, "updatedAt": now}  # fmt: skip
        moved = await _move(db, meeting, "CANCELLED", fields, {"at": now, "by": side}, session)
        await repository.release_seat(db, meeting["offerId"], meeting["slotId"], session)
        await _notify_other_side(db, moved, side, "meeting-cancelled", now, session)
        return moved

    return await in_transaction(db, work)


async def reschedule_meeting(db, actor: Actor, meeting_id: str, slot_id: str) -> dict:
    now = _now()

    async def work(session) -> dict:
        meeting, side = await _own_meeting(db, actor, meeting_id, session)
        if meeting["status"] not in allowed_from("RESCHEDULED"):
            raise illegal(meeting["status"], "RESCHEDULED")
        if slot_id == meeting["slotId"]:
            raise BadUserInput("Mødet ligger allerede på det tidspunkt.",
                               "The meeting is already at that time.")  # fmt: skip
        offer = await repository.get_offer(db, meeting["offerId"], session) or {}
        slot = next((s for s in offer.get("slots", []) if s["_id"] == slot_id), None)
        if slot is None:
            raise BadUserInput("Ukendt tidspunkt.", "Unknown time slot.")
        if slot["startsAt"] <= now:
            raise Conflict("Tidspunktet er passeret.", "The time slot has passed.")
        if not await repository.book_seat(db, offer["_id"], slot_id, slot["capacity"], session):
            raise Conflict("Tidspunktet er optaget. Vælg et andet.",
                           "The time slot is full. Choose another.")  # fmt: skip
        fields = {"slotId": slot_id, "startsAt": slot["startsAt"], "endsAt": slot["endsAt"],
                  "updatedAt": now}  # fmt: skip
        entry = {"at": now, "by": side, "slotId": slot_id}
        moved = await _move(db, meeting, "RESCHEDULED", fields, entry, session)
        await repository.release_seat(db, meeting["offerId"], meeting["slotId"], session)
        await _notify_other_side(db, moved, side, "meeting-rescheduled", now, session)
        return moved

    return await in_transaction(db, work)


async def record_outcome(db, actor: Actor, meeting_id: str, outcome: str) -> dict:
    """The company records that the meeting was held (COMPLETED) or the candidate did not
    come (NO_SHOW), once it has started. A held meeting goes into the citizen's joblog."""
    if outcome not in ("COMPLETED", "NO_SHOW"):
        raise BadUserInput("Ukendt udfald.", "Unknown outcome.")
    now = _now()

    async def work(session) -> dict:
        meeting, side = await _own_meeting(db, actor, meeting_id, session)
        if side != "employer":
            raise meeting_not_found()
        if meeting["status"] not in allowed_from(outcome):
            raise illegal(meeting["status"], outcome)
        if meeting["startsAt"] > now:
            raise Conflict("Mødet er ikke begyndt endnu.", "The meeting has not started yet.")
        fields = {"closedAt": now, "closeReason": outcome, "updatedAt": now}
        moved = await _move(db, meeting, outcome, fields, {"at": now, "by": side}, session)
        if outcome == "COMPLETED":
            await record_meeting_held(
                db,
                citizen_id=meeting["citizenId"],
                meeting_id=meeting_id,
                company_cvr=meeting["companyCvr"],
                company_name=meeting.get("companyName", ""),
                title=meeting["title"],
                held_on=meeting["startsAt"].astimezone(COPENHAGEN).date(),
                video=meeting.get("mode") == "VIDEO",
                session=session,
            )
        return moved

    return await in_transaction(db, work)


async def meeting_contacts(db, meeting: dict, side: str) -> dict:
    """What each side learns of the other once the meeting is confirmed."""
    if side == "employer":
        person = await citizens.get_citizen(db, meeting["citizenId"]) or {}
        return {
            "name": " ".join(p for p in (person.get("firstName"), person.get("lastName")) if p),
            "email": person.get("email"),
            "phone": person.get("phone"),
        }
    contact = await repository.company_contact(db, meeting["companyCvr"])
    return contact


def icalendar(meeting: dict, contact_name: str | None) -> str:
    """The meeting as an iCalendar (RFC 5545) event for the phone's calendar."""

    def esc(text: str) -> str:
        return (
            text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
        )

    def stamp(at: datetime) -> str:
        return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    where = meeting.get("videoUrl") if meeting.get("mode") == "VIDEO" else meeting.get("address")
    status = "CANCELLED" if meeting["status"] == "CANCELLED" else "CONFIRMED"
    sequence = sum(1 for h in meeting.get("history", []) if h["status"] == "RESCHEDULED")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Jobunivers//Kaffemøde//DA",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{meeting['_id']}@jobunivers",
        f"DTSTAMP:{stamp(meeting['updatedAt'])}",
        f"DTSTART:{stamp(meeting['startsAt'])}",
        f"DTEND:{stamp(meeting['endsAt'])}",
        f"SEQUENCE:{sequence}",
        f"STATUS:{status}",
        f"SUMMARY:{esc(meeting['title'] + ' – ' + meeting.get('companyName', ''))}",
    ]
    if where:
        lines.append(f"LOCATION:{esc(where)}")
    if contact_name:
        lines.append(f"DESCRIPTION:{esc('Kontakt: ' + contact_name)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


# --- housekeeping (run periodically by every API instance; each step is idempotent) ----------
async def expire_requests(db, settings: Settings, now: datetime | None = None) -> int:
    """Unanswered requests older than the configured days expire, with a kind notice."""
    now = now or _now()
    before = now - timedelta(days=settings.meeting_request_expiry_days)
    expired = 0
    for request in await repository.unanswered_before(db, before):
        expired += await _expire(db, request, "NO_ANSWER", now)
    return expired


async def _expire(db, request: dict, reason: str, now: datetime) -> int:
    async def work(session) -> int:
        moved = await repository.move_request(
            db,
            request["_id"],
            repository.UNANSWERED,
            {"status": "EXPIRED", "closedAt": now, "closeReason": reason, "updatedAt": now},
            session,
        )
        if moved is None:
            return 0
        await _tell_citizen_request_ended(db, "request-expired", request, now, session)
        return 1

    return await in_transaction(db, work)


async def send_reminders(db, now: datetime | None = None) -> int:
    """24 h and 1 h before a meeting, both sides are reminded (once per start time)."""
    now = now or _now()
    sent = 0
    for kind, ahead in (("reminder-24h", timedelta(hours=24)), ("reminder-1h", timedelta(hours=1))):
        for meeting in await repository.meetings_starting_between(db, now, now + ahead):
            if kind == "reminder-24h" and meeting["startsAt"] <= now + timedelta(hours=1):
                continue  # the 1-hour reminder covers it
            if not await repository.mark_reminded(db, meeting["_id"], kind, meeting["startsAt"]):
                continue
            place = meeting.get("address") or ("video" if meeting.get("mode") == "VIDEO" else "")
            values = {"offer": meeting["title"], "when": at_time(meeting["startsAt"]),
                      "place": place}  # fmt: skip
            key = f"{kind}:{meeting['_id']}:{meeting['startsAt'].isoformat()}"
            route = f"/meetings/{meeting['_id']}"
            await events.to_citizen(db, kind, meeting["citizenId"], key, route, values, now=now)
            await events.to_company(db, kind, meeting["companyCvr"], key, route, values, now=now)
            sent += 1
    return sent


async def close_unanswered_for_offer(db, offer_id: str, reason: str) -> int:
    now = _now()
    closed = 0
    for request in await repository.unanswered_for_offer(db, offer_id):
        closed += await _expire(db, request, reason, now)
    return closed


# --- erasure ------------------------------------------------------------------------------------
async def withdraw_for_erasure(db, citizen_id: str, at: datetime, session) -> int:
    """Close the citizen's unanswered requests and cancel their coming meetings (giving the
    seats back), and tell each company without saying who it was. Runs inside the erasure
    transaction."""
    closed = 0
    for request in await repository.open_requests_of(db, citizen_id, session):
        if request["status"] not in repository.UNANSWERED:
            continue
        await repository.withdraw(db, request, "ACCOUNT_DELETED", at, session)
        offer = await repository.get_offer(db, request["offerId"], session) or {}
        await events.to_company(
            db,
            "request-withdrawn",
            request["companyCvr"],
            f"request-withdrawn:{request['_id']}",
            f"/offers/{request['offerId']}/requests",
            {"offer": offer.get("title", "")},
            session=session,
            now=at,
        )
        closed += 1
    for meeting in await repository.live_meetings_of_citizen(db, citizen_id, session):
        moved = await repository.move_meeting(
            db,
            meeting["_id"],
            allowed_from("CANCELLED"),
            {
                "status": "CANCELLED",
                "closedAt": at,
                "closeReason": "ACCOUNT_DELETED",
                "updatedAt": at,
            },
            {"status": "CANCELLED", "at": at, "by": "citizen"},
            session,
        )
        if moved is None:
            continue
        await repository.release_seat(db, meeting["offerId"], meeting["slotId"], session)
        await _notify_other_side(db, moved, "citizen", "meeting-cancelled", at, session)
        closed += 1
    return closed
