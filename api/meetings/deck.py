"""The citizen's swipe deck: which coffee meetings they are shown, in which order, and the
companies they chose never to see again.

The deck reads no offer list from the database: this process's catalogue of open offers
(``api.offers.catalogue``, kept in sync with every process's writes) gives the offers of the
citizen's deck areas on the citizen's field (their jobs' and wishes' occupations and ISCO minor
groups), and a bounded number of others from nearby fields (the same sub-major, then major
group, then any), the best of those by a partial fit (similarity, distance, freshness). Only
these are ranked (``matching.offers.rank_offers``, fit first); only the offers on the returned
cards are read, and checked again there: a paused, closed, full or expired offer never reaches
a card, whatever the catalogue believed. ``JOBUNIVERS_DECK_SCAN=1`` (or ``scan=True``) switches
the old path on, reading and ranking every open offer of the areas (benchmarks compare both).

The deck never embeds: offers are embedded when written, and the deck only uses the vectors
the catalogue holds. With profiling off it reads neither the CV's history nor the citizen's
swipes for ranking (``matching.offers``)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from api.auth.actor import Actor
from api.citizens import repository as citizens
from api.citizens.service import require_citizen
from api.offers import repository as offers
from api.offers.catalogue import Entry, OfferCatalogue, catalogue_for
from api.offers.repository import OfferDoc
from api.offers.rules import MeetingMode, OfferStatus, is_open
from core.cvr import is_valid_cvr
from core.errors import BadUserInput
from matching.engine import MatchingEngine
from matching.geo import haversine_km, haversine_km_many
from matching.geoindex import distance_km
from matching.offers import (
    DECK_WEIGHTS,
    deck_areas,
    preselect_offers,
    rank_offers,
    swipe_feedback,
)
from matching.records import CitizenProfile

from . import repository
from .rules import local_day, now_utc

SCAN = os.environ.get("JOBUNIVERS_DECK_SCAN", "") == "1"
MAX_ON_FIELD = 600  # on-field offers ranked in full; beyond, the best by partial fit
OTHERS_POOL = 400  # off-field offers looked at, at most, to choose the others from
SWIPES_READ = 2000  # the citizen's latest swipes read for the ranking's feedback


def _others_wanted(first: int) -> int:
    return max(2 * first, 30)


async def swipe_deck(
    db,
    engine: MatchingEngine,
    actor: Actor,
    first: int,
    locale: str,
    *,
    scan: bool | None = None,
) -> list[tuple[OfferDoc, Any]]:
    """Open offers the citizen has not answered, from companies they have not blocked, with a
    free seat ahead, within their radius (video anywhere), in today's fair order."""
    if SCAN if scan is None else scan:
        return await _scanned_deck(db, engine, actor, first, locale)
    citizen = await require_citizen(db, actor)
    now = now_utc()
    catalogue = catalogue_for(db)
    await catalogue.ensure_loaded(db, engine)
    profiling = citizen.get("consents", {}).get("profiling", True)
    if profiling:  # the swipes the ranking reads give the swiped offers too, if all were read
        cv, swipes = await asyncio.gather(
            citizens.primary_cv(db, actor.id), repository.swipes_of(db, actor.id, SWIPES_READ)
        )
        swiped = {s["offerId"] for s in swipes}
        if len(swipes) >= SWIPES_READ:
            swiped = await repository.swiped_offer_ids(db, actor.id)
        feedback = swipe_feedback(swipes)
    else:
        cv, feedback = None, None
        swiped = await repository.swiped_offer_ids(db, actor.id)
    blocked = set(citizen.get("blockedCompanies", []))
    radius = float(citizen.get("preferences", {}).get("radiusKm", 30))
    lon, lat = citizen["location"]["coordinates"]
    areas = catalogue.areas(deck_areas(lat, lon, radius))
    if not areas:
        return []

    def keep(e: Entry | None) -> bool:
        if e is None or e._id in swiped or e.companyCvr in blocked or e.open_until <= now:
            return False
        if e.mode == MeetingMode.VIDEO or not e.location:
            return True
        return distance_km(lat, lon, e.lat, e.lon) <= radius

    profile = await engine.citizen_profile(db, citizen, cv, feedback=feedback, locale=locale)
    semantic = profile.vector is not None and engine.ready and profile.profiling
    own = [(i.occupation_id, i.isco) for i in profile.history] if profile.profiling else []
    own += list(profile.wanted.items())
    units = {u for _, u in own if u}
    field_ids = catalogue.with_codes(
        areas, {o for o, _ in own if o} | {f"isco:{u[:3]}" for u in units}
    )
    on = [e for e in map(catalogue.entries.get, field_ids) if keep(e)]
    if len(on) > MAX_ON_FIELD:
        on = _best(on, profile, now, semantic, MAX_ON_FIELD)
    others = _others(catalogue, areas, units, field_ids, keep, _others_wanted(first))
    others = _best(others, profile, now, semantic, _others_wanted(first))
    found = on + others
    if not found:
        return []
    vectors = None
    if semantic:
        vectors = {e._id: e.vector for e in found if e.vector is not None}
    day, reach = local_day(now), catalogue.in_areas(areas)
    pool = preselect_offers(
        profile, found, now, day, engine.occupation_isco, vectors, reach=reach,
        k=_pool_size(first),
    )  # fmt: skip
    cards = rank_offers(profile, pool, now, day, engine.occupation_isco, vectors, reach=reach)
    read = set()
    out = await _read_cards(db, catalogue, cards, first, now, lat, lon, radius, blocked, read)
    if len(out) < first and len(pool) < len(found):
        # More cards failed the check than the pool's margin: rank the rest too (rare).
        rest = [e for e in found if e._id not in read]
        cards = rank_offers(profile, rest, now, day, engine.occupation_isco, vectors, reach=reach)
        out += await _read_cards(
            db, catalogue, cards, first - len(out), now, lat, lon, radius, blocked, read
        )
    return out


def _pool_size(first: int) -> int:
    """Offers ranked in full (``rank_offers``) out of the cut: the first cards, a margin for
    those failing the database check, and one for float rounding in the preselection."""
    return 2 * first + 20


async def _read_cards(
    db, catalogue: OfferCatalogue, cards: list, first: int, now: datetime,
    lat: float, lon: float, radius: float, blocked: set[str], read: set[str] | None = None,
) -> list[tuple[OfferDoc, Any]]:  # fmt: skip
    """The offers of the first cards, read now and checked again (the catalogue may lag a
    seat booked or an offer paused through another process); a failing one is refreshed in
    the catalogue and the next card takes its place. ``read`` collects the ids read."""
    out: list[tuple[OfferDoc, Any]] = []
    at = 0
    while len(out) < first and at < len(cards):
        batch = cards[at : at + (first - len(out)) + 2]
        at += len(batch)
        docs = await offers.offers_by_ids(db, [card.offer_id for card in batch])
        if read is not None:
            read.update(card.offer_id for card in batch)
        for card, doc in zip(batch, docs, strict=True):
            if doc is None:
                catalogue.remove(card.offer_id)
                continue
            if not _still_fits(doc, now, lat, lon, radius, blocked):
                catalogue.upsert(doc)
                continue
            if len(out) < first:
                out.append((doc, card))
    return out


def _still_fits(
    doc: OfferDoc, now: datetime, lat: float, lon: float, radius: float, blocked: set[str]
) -> bool:
    if doc.get("status") != OfferStatus.OPEN or not is_open(doc, now):
        return False
    if doc["companyCvr"] in blocked:
        return False
    if doc.get("mode") != MeetingMode.VIDEO and doc.get("location"):
        olon, olat = doc["location"]["coordinates"]
        return haversine_km(lat, lon, olat, olon) <= radius
    return True


def _others(
    catalogue: OfferCatalogue, areas: Sequence[str], units: set[str], taken: set[str],
    keep, wanted: int,
) -> list[Entry]:  # fmt: skip
    """Off-field offers to choose the others from: the nearest fields first (same sub-major,
    then major group), then any offer of the areas; at most ``OTHERS_POOL`` looked at once
    ``wanted`` were found."""
    seen = set(taken)
    out: list[Entry] = []
    levels = [{f"isco:{u[:2]}" for u in units}, {f"isco:{u[:1]}" for u in units}]
    for codes in levels:
        for oid in catalogue.with_codes(areas, codes) - seen:
            seen.add(oid)
            e = catalogue.entries.get(oid)
            if keep(e):
                out.append(e)
            if len(seen) - len(taken) >= OTHERS_POOL:
                return out
        if len(out) >= wanted:
            return out
    for oid in catalogue.area_ids(areas):
        if oid in seen:
            continue
        seen.add(oid)
        e = catalogue.entries.get(oid)
        if keep(e):
            out.append(e)
        if len(out) >= wanted and len(seen) - len(taken) >= OTHERS_POOL:
            break
    return out


def _best(
    entries: list[Entry], profile: CitizenProfile, now: datetime, semantic: bool, k: int
) -> list[Entry]:
    """The ``k`` entries with the highest fit without the occupation and feedback parts
    (similarity, distance, freshness), vectorised."""
    if len(entries) <= k:
        return entries
    w = DECK_WEIGHTS
    lats = np.array([e.lat for e in entries])
    lons = np.array([e.lon for e in entries])
    km = haversine_km_many(profile.lat, profile.lon, np.nan_to_num(lats), np.nan_to_num(lons))
    near = np.where(np.isnan(lats), 1.0, np.exp(-km / w.distance_scale_km))
    age = np.array([max(0.0, (now - e.createdAt).total_seconds() / 86400) for e in entries])
    score = w.distance * near + w.freshness * np.exp(-age / w.freshness_days)
    if semantic and profile.vector is not None:
        dim = len(profile.vector)
        zero = np.zeros(dim, dtype=np.float32)
        matrix = np.stack([e.vector if e.vector is not None else zero for e in entries])
        score = score + w.semantic * np.maximum(matrix @ profile.vector, 0.0)
    top = np.argpartition(-score, k - 1)[:k]
    return [entries[i] for i in sorted(top)]


async def _scanned_deck(
    db, engine: MatchingEngine, actor: Actor, first: int, locale: str
) -> list[tuple[OfferDoc, Any]]:
    """The old path: every open offer of the citizen's areas read and ranked (benchmarks)."""
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
