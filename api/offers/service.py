"""Coffee-meeting offers, as a company publishes and manages them.

An offer has a pitch, target occupations, a place (address) or a video link, time slots with a
capacity, and an expiry. It is OPEN, PAUSED (hidden from decks, requests kept) or CLOSED (for
good; unanswered requests are closed with a kind notice). Slots can be added; a slot with
bookings cannot be removed or shrunk below its bookings. Citizens may see any open offer,
employers their own company's offers in every state.

An offer is embedded when it is written (created or changed), given the matching engine, so the
swipe deck only looks its vector up and never embeds on the request path.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from api.auth.actor import Actor, Role
from api.companies.repository import companies_by_cvr
from api.meetings.requests import close_unanswered_for_offer
from api.meetings.rules import CloseReason
from api.taxonomy.repository import existing_occupation_ids, occupations_by_ids
from api.validation import Problems, postal_place
from core.errors import Conflict, NotFound
from matching.engine import MatchingEngine
from matching.offers import deck_area

from . import catalogue, repository
from .repository import OfferDoc, SlotDoc
from .rules import STATUS_FROM, MeetingMode, OfferStatus, offer_not_found

log = logging.getLogger(__name__)

MODES = tuple(MeetingMode)
MAX_SLOTS = 50
MAX_TARGETS = 10
# The booking horizon: a slot (and so an offer) lies at most this far ahead.
SLOT_HORIZON = timedelta(days=365)


def _now() -> datetime:
    return datetime.now(UTC)


def _clean_slots(
    p: Problems, slots: list[dict], now: datetime, path: str = "slots"
) -> list[SlotDoc]:
    out: list[SlotDoc] = []
    for i, s in enumerate(p.capped(path, slots)):
        starts = s.get("starts_at")
        minutes = 25 if s.get("duration_minutes") is None else s["duration_minutes"]
        capacity = 1 if s.get("capacity") is None else s["capacity"]
        if starts is None or starts.tzinfo is None:
            p.add(f"{path}[{i}].startsAt", "skal have dato, tid og tidszone.",
                  "needs a date, time and time zone.")  # fmt: skip
            continue
        if starts <= now:
            p.add(f"{path}[{i}].startsAt", "skal ligge i fremtiden.", "must be in the future.")
        elif starts > now + SLOT_HORIZON:
            p.add(f"{path}[{i}].startsAt", "må højst ligge et år ude i fremtiden.",
                  "must be at most a year ahead.")  # fmt: skip
        if not 10 <= minutes <= 120:
            p.add(f"{path}[{i}].durationMinutes", "skal være 10-120 minutter.",
                  "must be 10-120 minutes.")  # fmt: skip
        if not 1 <= capacity <= 50:
            p.add(f"{path}[{i}].capacity", "skal være 1-50.", "must be 1-50.")
        out.append(
            SlotDoc(
                _id=uuid.uuid4().hex[:12],
                startsAt=starts.astimezone(UTC),
                endsAt=starts.astimezone(UTC) + timedelta(minutes=minutes),
                capacity=capacity,
                booked=0,
            )
        )
    return out


async def _clean(db, data: dict, now: datetime, *, new: bool) -> dict:
    p = Problems()
    fields: dict = {
        "title": p.text("title", data.get("title"), max_len=100),
        "pitch": p.text("pitch", data.get("pitch"), max_len=1000, multiline=True),
    }
    targets = list(dict.fromkeys(data.get("target_occupation_ids") or []))
    if not targets:
        p.add("targetOccupationIds", "vælg mindst én stilling.", "choose at least one occupation.")
    elif len(targets) > MAX_TARGETS:
        p.add("targetOccupationIds", f"højst {MAX_TARGETS}.", f"{MAX_TARGETS} at most.")
        targets = []  # an over-long list is one problem, its items are not looked up
    known = await existing_occupation_ids(db, targets)
    for i, t in enumerate(targets):
        if t not in known:
            p.add(f"targetOccupationIds[{i}]", "ukendt stilling.", "unknown occupation.")
    mode = p.choice("mode", data.get("mode") or MeetingMode.IN_PERSON, MODES)
    place = postal_place(p, data.get("postal_code"))
    address = p.text(
        "address", data.get("address"), max_len=200, required=mode == MeetingMode.IN_PERSON
    )
    video = p.text(
        "videoUrl", data.get("video_url"), max_len=500, required=mode == MeetingMode.VIDEO
    )
    if video and not video.startswith("https://"):
        p.add("videoUrl", "skal være et https-link.", "must be an https link.")
    town = p.text("town", data.get("town"), max_len=60, required=False)
    expires = data.get("expires_at")
    if expires is not None:
        if expires.tzinfo is None:
            p.add("expiresAt", "skal have dato, tid og tidszone.",
                  "needs a date, time and time zone.")  # fmt: skip
        elif expires <= now:
            p.add("expiresAt", "skal ligge i fremtiden.", "must be in the future.")
    if new:
        slots = _clean_slots(p, data.get("slots") or [], now)
        if not data.get("slots"):
            p.add("slots", "tilføj mindst ét tidspunkt.", "add at least one time slot.")
        fields["slots"] = slots
    p.raise_if_any()
    assert place is not None
    occupations = await occupations_by_ids(db, targets)
    fields |= {
        "targetOccupationIds": targets,
        "targetIscoCodes": sorted({o["iscoCode"] for o in occupations if o}),
        "mode": mode,
        "address": address if mode == MeetingMode.IN_PERSON else None,
        "videoUrl": video if mode == MeetingMode.VIDEO else None,
        "postalCode": place.postal_code,
        "town": town or place.town,
        "location": {"type": "Point", "coordinates": [place.lon, place.lat]},
    }
    fields["deckArea"] = deck_area(mode, fields["location"])
    return fields


def _expiry(slots: list[SlotDoc], wanted: datetime | None) -> datetime:
    """Offers stop taking requests 12 hours before their last slot, or earlier if asked."""
    last = max(s["startsAt"] for s in slots) - timedelta(hours=12)
    return min(wanted.astimezone(UTC), last) if wanted else last


async def _embed(db, engine: MatchingEngine | None, offer: OfferDoc) -> None:
    """Embed the written offer for the deck, and put it in this process's deck catalogue
    (other processes read it in their housekeeping sync). The write stands if embedding
    fails: the catalogue's sync pass embeds it later."""
    vector = None
    if engine is not None:
        try:
            vector = await engine.remember_offer(offer)
        except Exception:
            log.exception("embedding a written offer failed", extra={"offer": offer["_id"]})
    catalogue.offer_written(db, offer, vector)


async def create_offer(
    db, actor: Actor, data: dict, engine: MatchingEngine | None = None
) -> OfferDoc:
    now = _now()
    fields = await _clean(db, data, now, new=True)
    company = (await companies_by_cvr(db, [actor.cvr]))[0]
    if company is None:
        raise NotFound("Opret virksomhedens profil først.", "Create the company profile first.")
    doc: OfferDoc = {
        "_id": uuid.uuid4().hex,
        "companyCvr": actor.cvr,
        "companyName": company["name"],
        **fields,
        "expiresAt": _expiry(fields["slots"], data.get("expires_at")),
        "status": OfferStatus.OPEN,
        "createdAt": now,
        "updatedAt": now,
    }
    await repository.insert_offer(db, doc)
    await _embed(db, engine, doc)
    return doc


def may_see(actor: Actor, offer: OfferDoc) -> bool:
    """Employers see their own company's offers, in any state; citizens any open one."""
    if actor.role is Role.EMPLOYER:
        return offer["companyCvr"] == actor.cvr
    return offer.get("status") == OfferStatus.OPEN


async def visible_offer(db, actor: Actor, offer_id: str) -> OfferDoc:
    """One offer, if the caller may see it; otherwise it answers as unknown."""
    offer = await repository.get_offer(db, offer_id)
    if offer is None or not may_see(actor, offer):
        raise offer_not_found()
    return offer


async def own_offer(db, actor: Actor, offer_id: str) -> OfferDoc:
    offer = await repository.get_offer(db, offer_id)
    if offer is None or offer["companyCvr"] != actor.cvr:
        raise offer_not_found()
    return offer


async def update_offer(
    db, actor: Actor, offer_id: str, data: dict, engine: MatchingEngine | None = None
) -> OfferDoc:
    offer = await own_offer(db, actor, offer_id)
    if offer["status"] == OfferStatus.CLOSED:
        raise Conflict("Kaffemødet er lukket.", "The coffee meeting is closed.")
    fields = await _clean(db, data, _now(), new=False)
    fields["expiresAt"] = _expiry(offer["slots"], data.get("expires_at"))
    fields["updatedAt"] = _now()
    updated = await repository.update_offer(
        db, offer_id, actor.cvr, {"status": {"$ne": OfferStatus.CLOSED}}, {"$set": fields}
    )
    if updated is None:
        raise Conflict("Kaffemødet er lukket.", "The coffee meeting is closed.")
    await _embed(db, engine, updated)
    return updated


async def add_slots(db, actor: Actor, offer_id: str, slots: list[dict]) -> OfferDoc:
    offer = await own_offer(db, actor, offer_id)
    p = Problems()
    new = _clean_slots(p, slots, _now())
    if len(offer["slots"]) + len(new) > MAX_SLOTS:
        p.add("slots", f"højst {MAX_SLOTS} tidspunkter i alt.", f"{MAX_SLOTS} slots at most.")
    p.raise_if_any()
    all_slots = offer["slots"] + new
    updated = await repository.update_offer(
        db,
        offer_id,
        actor.cvr,
        {"status": {"$ne": OfferStatus.CLOSED}},
        {"$push": {"slots": {"$each": new}},
         "$set": {"expiresAt": _expiry(all_slots, None), "updatedAt": _now()}},
    )  # fmt: skip
    if updated is None:
        raise Conflict("Kaffemødet er lukket.", "The coffee meeting is closed.")
    catalogue.offer_written(db, updated)
    return updated


async def remove_slot(db, actor: Actor, offer_id: str, slot_id: str) -> OfferDoc:
    await own_offer(db, actor, offer_id)
    # Only an unbooked slot goes; the filter makes the check and the removal one step.
    updated = await repository.update_offer(
        db,
        offer_id,
        actor.cvr,
        {"slots": {"$elemMatch": {"_id": slot_id, "booked": 0}}},
        {"$pull": {"slots": {"_id": slot_id}}, "$set": {"updatedAt": _now()}},
    )
    if updated is None:
        raise Conflict(
            "Tidspunktet har bookinger eller findes ikke.",
            "The slot has bookings or does not exist.",
        )
    catalogue.offer_written(db, updated)
    return updated


async def set_status(db, actor: Actor, offer_id: str, status: OfferStatus) -> OfferDoc:
    offer = await own_offer(db, actor, offer_id)
    updated = await repository.update_offer(
        db,
        offer_id,
        actor.cvr,
        {"status": {"$in": list(STATUS_FROM[status])}},
        {"$set": {"status": status, "updatedAt": _now()}},
    )
    if updated is None:
        raise Conflict(
            f"Et kaffemøde med status {offer['status']} kan ikke ændres til {status}.",
            f"A coffee meeting with status {offer['status']} cannot change to {status}.",
        )
    catalogue.offer_written(db, updated)
    if status == OfferStatus.CLOSED:
        await close_unanswered_for_offer(db, offer_id, CloseReason.OFFER_CLOSED)
    return updated


async def my_offers(db, actor: Actor, statuses: list[str]) -> list[OfferDoc]:
    return await repository.offers_of_company(db, actor.cvr or "", statuses)
