"""The citizen's swipe deck: which coffee meetings they are shown, in which order, and the
companies they chose never to see again.

The deck never embeds: offers are embedded when written, and the deck only looks their vectors
up (``MatchingEngine.known_offer_vectors``). With profiling off it reads neither the CV's
history nor the citizen's swipes for ranking (``matching.offers``)."""

from __future__ import annotations

from typing import Any

from api.auth.actor import Actor
from api.citizens import repository as citizens
from api.citizens.service import require_citizen
from api.offers import repository as offers
from api.offers.repository import OfferDoc
from api.offers.rules import MeetingMode, is_open
from core.cvr import is_valid_cvr
from core.errors import BadUserInput
from matching.engine import MatchingEngine
from matching.geo import haversine_km
from matching.offers import deck_areas, rank_offers, swipe_feedback

from . import repository
from .rules import local_day, now_utc


async def swipe_deck(
    db, engine: MatchingEngine, actor: Actor, first: int, locale: str
) -> list[tuple[OfferDoc, Any]]:
    """Open offers the citizen has not answered, from companies they have not blocked, with a
    free seat ahead, within their radius (video anywhere), in today's fair order."""
    citizen = await require_citizen(db, actor)
    now = now_utc()
    swiped = await repository.swiped_offer_ids(db, actor.id)
    blocked = set(citizen.get("blockedCompanies", []))
    radius = float(citizen.get("preferences", {}).get("radiusKm", 30))
    lon, lat = citizen["location"]["coordinates"]
    found = []
    for o in await offers.open_offers(db, now, deck_areas(lat, lon, radius)):
        if o["_id"] in swiped or o["companyCvr"] in blocked or not is_open(o, now):
            continue
        if o.get("mode") != MeetingMode.VIDEO and o.get("location"):
            olon, olat = o["location"]["coordinates"]
            if haversine_km(lat, lon, olat, olon) > radius:
                continue
        found.append(o)
    if not found:
        return []
    profiling = citizen.get("consents", {}).get("profiling", True)
    cv = await citizens.primary_cv(db, actor.id) if profiling else None
    feedback = swipe_feedback(await repository.swipes_of(db, actor.id)) if profiling else None
    profile = await engine.citizen_profile(db, citizen, cv, feedback=feedback, locale=locale)
    vectors = None
    if profile.vector is not None and engine.ready:
        vectors = engine.known_offer_vectors(found)
    cards = rank_offers(profile, found, now, local_day(now), engine.occupation_isco, vectors)
    by_id = {o["_id"]: o for o in found}
    return [(by_id[card.offer_id], card) for card in cards[:first]]


MAX_BLOCKED_COMPANIES = 200


def _cvr_problem(cvr: str) -> BadUserInput:
    da = "skal være et CVR-nummer: 8 cifre (0-9) med gyldigt kontrolciffer."
    en = "must be a CVR number: 8 digits (0-9) with a valid check digit."
    return BadUserInput(
        f"cvr: {da}", f"cvr: {en}",
        extensions={"fields": [{"field": "cvr", "message": da, "messageEn": en}]},
    )  # fmt: skip


def blocked_companies(citizen: dict) -> list[str]:
    """The companies a citizen blocked (entries stored before CVRs were checked are left out)."""
    return [c for c in citizen.get("blockedCompanies", []) if is_valid_cvr(c)]


async def block_company(db, actor: Actor, cvr: str, block: bool) -> list[str]:
    """Hide (or show again) every coffee meeting of the company; returns the blocked CVRs
    (at most ``MAX_BLOCKED_COMPANIES``: one more is refused, nothing is written)."""
    cvr = cvr.strip()
    if not is_valid_cvr(cvr):
        raise _cvr_problem(cvr)
    citizen = await require_citizen(db, actor)
    stored = citizen.get("blockedCompanies", [])
    kept = blocked_companies(citizen)
    if len(kept) < len(stored):
        # Entries written before CVRs were checked block nothing: they go (unless the list
        # changed meanwhile; then the next call does it).
        await citizens.update_citizen_raw(
            db, actor.id, {"$set": {"blockedCompanies": kept}},
            only_if={"blockedCompanies": {"$size": len(stored)}},
        )  # fmt: skip
    if block:
        # The cap is part of the update's filter, so concurrent blocks cannot pass it.
        room = {f"blockedCompanies.{MAX_BLOCKED_COMPANIES - 1}": {"$exists": False}}
        doc = await citizens.update_citizen_raw(
            db, actor.id, {"$addToSet": {"blockedCompanies": cvr}},
            only_if={"$or": [{"blockedCompanies": cvr}, room]},
        )  # fmt: skip
        if doc is None:
            await require_citizen(db, actor)  # erased meanwhile: answered as such
            raise BadUserInput(
                f"Du kan højst blokere {MAX_BLOCKED_COMPANIES} virksomheder. Fjern en "
                "blokering først.",
                f"You can block {MAX_BLOCKED_COMPANIES} companies at most. Unblock one first.",
                extensions={"limit": MAX_BLOCKED_COMPANIES},
            )
    else:
        doc = await citizens.update_citizen_raw(db, actor.id, {"$pull": {"blockedCompanies": cvr}})
    return blocked_companies(doc) if doc else []
