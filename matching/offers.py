"""The swipe deck: coffee-meeting offers ranked for one citizen, with a reason on each card.

Fit blends the same signals as job ranking (weights in one place below): the offer's target
occupations against the citizen's work history and wishes (same ESCO concept, same ISCO unit,
same minor group), semantic similarity of the offer to the profile (when profiling is on),
distance (video meetings count as near), and freshness.

A card is *on the citizen's field* when a target occupation relates to a job they held or wish
for at least at ISCO minor-group level; its reason names that job or wish. Every other card is
"Et nyt felt, du kan prøve" and comes after all the cards on the field (semantic similarity
orders cards but is never given as a reason: a warehouse worker's profile "resembles" a
finance analyst's offer to the model). With profiling off only the wishes count: no work
history, no similarity, no swipe feedback; a card matching no wish says that CV matching is
off.

Fair exposure: the deck is not sorted by fit alone, or the same strong companies would always
take the top cards. It is a weighted random order (Efraimidis-Spirakis: key = u^(1/w)), with
weight ``exp(sharpness * fit)`` and ``u`` drawn from a hash of (citizen, day, offer): strong
offers lead most days, others get their turn, and the order is stable within a day. The
sharpness grows with the log of the number of offers in reach: with a fixed sharpness, 50 weak
offers together outweighed one strong match, and a warehouse worker's deck opened with a
palaeontologist most days.

The employer's side of the same offers is here too: an offer's meeting requests ranked by the
requesting citizens' fit (``rank_candidates_for_offer``, on the job-ranking weights).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from .geo import EARTH_RADIUS_KM, haversine_km_many
from .geoindex import CELL_LAT, CELL_LON, cell_of, cell_within, distance_km
from .records import WEIGHTS, CitizenProfile, Weights

# Deck areas: an in-person offer lies in one geographic cell (the postings' cells, about
# 55 x 60 km); a video offer is for anyone. A citizen's deck reads only the areas within their
# radius, so it does not read every open offer in the country.
ANYWHERE = "anywhere"
MAX_DECK_AREAS = 48  # beyond this (radius of a few hundred km) reading all open offers is cheaper


def deck_area(mode: str | None, location: Mapping | None) -> str:
    if mode == "VIDEO" or not location:
        return ANYWHERE
    lon, lat = location["coordinates"]
    row, col = cell_of(lat, lon)
    return f"{row}:{col}"


def deck_areas(lat: float, lon: float, radius_km: float) -> list[str] | None:
    """The areas a citizen at (lat, lon) can meet within ``radius_km``, video included; None
    when there are so many that every open offer should be read."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    widest = max(abs(lat) + dlat, 0.0)
    if widest >= 89.0:
        return None
    dlon = math.degrees(radius_km / (EARTH_RADIUS_KM * math.cos(math.radians(widest))))
    rows = range(math.floor((lat - dlat) / CELL_LAT), math.floor((lat + dlat) / CELL_LAT) + 1)
    cols = range(math.floor((lon - dlon) / CELL_LON), math.floor((lon + dlon) / CELL_LON) + 1)
    if len(rows) * len(cols) > MAX_DECK_AREAS:
        return None
    areas = [f"{r}:{c}" for r in rows for c in cols if cell_within((r, c), lat, lon, radius_km)]
    return [*areas, ANYWHERE]


@dataclass(frozen=True)
class DeckWeights:
    occupation: float = 0.45
    semantic: float = 0.25
    distance: float = 0.2
    freshness: float = 0.1
    feedback: float = 0.15  # the citizen's own earlier swipes on offers in the same ISCO units
    distance_scale_km: float = 15.0
    freshness_days: float = 14.0
    sharpness: float = 4.0  # how strongly fit beats chance in the daily order ...
    # ... plus this per log of the number of offers, so a long tail of weak offers cannot
    # outweigh a strong one together (with 50 offers in reach: sharpness 11.8).
    sharpness_per_log_offers: float = 2.0


DECK_WEIGHTS = DeckWeights()


FIELD_RELATION = 0.3  # the same ISCO minor group as a job held or wished: on the field


@dataclass
class OfferCard:
    offer_id: str
    fit: float
    distance_km: float | None
    reason: str
    components: dict[str, float]
    on_field: bool = True  # False: "Et nyt felt, du kan prøve" (or, profiling off, no wish)

    @property
    def outside_field(self) -> bool:
        return not self.on_field


def _t(locale: str, da: str, en: str) -> str:
    return en if locale == "en" else da


def _relation(targets: Mapping[str, str], occupation_id: str | None, unit: str | None) -> float:
    if occupation_id and occupation_id in targets:
        return 1.0
    if not unit:
        return 0.0
    best = 0.0
    for target_unit in targets.values():
        if unit == target_unit:
            best = max(best, 0.6)
        elif unit[:3] == target_unit[:3]:
            best = max(best, 0.3)
    return best


def daily_draw(citizen_id: str, day: str, offer_id: str) -> float:
    """A uniform number in (0, 1), the same all day for this citizen and offer."""
    digest = hashlib.blake2b(f"{citizen_id}|{day}|{offer_id}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2**64


def _weighted(weights: DeckWeights, relation, sim, near, fresh, liked):
    """A card's fit before the floor at 0: the same sum for one offer (floats, ``rank_offers``)
    and for many (arrays, ``preselect_offers``)."""
    return (
        weights.occupation * relation
        + weights.semantic * sim
        + weights.distance * near
        + weights.freshness * fresh
        + weights.feedback * liked
    )


def _sharpness(weights: DeckWeights, ranked: int, reach: int | None) -> float:
    """How strongly the daily order follows fit: sharper with more offers in reach (``reach``
    when the ranked offers are a cut of them)."""
    in_reach = max(ranked, reach or 0)
    return weights.sharpness + weights.sharpness_per_log_offers * math.log(max(1, in_reach))


def rank_offers(
    profile: CitizenProfile,
    offers: Sequence[Mapping],
    now: datetime,
    day: str,
    occupation_isco: Mapping[str, str],
    vectors: Mapping[str, np.ndarray] | None = None,
    weights: DeckWeights = DECK_WEIGHTS,
    reach: int | None = None,
) -> list[OfferCard]:
    """``reach``: how many offers are in reach when ``offers`` is a cut of them (the deck's
    catalogue), so the daily order's sharpness is that of the whole deck."""
    cards = []
    for o in offers:
        targets = {t: occupation_isco.get(t, "") for t in o["targetOccupationIds"]}
        relation, because = 0.0, None
        for item in profile.history if profile.profiling else ():
            r = _relation(targets, item.occupation_id, item.isco)
            if r > relation:
                title = (item.label_en or item.title) if profile.locale == "en" else item.title
                relation, because = r, ("history", title)
        for oid, unit in profile.wanted.items():
            r = _relation(targets, oid, unit)
            if r > relation:
                relation, because = r, ("wish", profile.wanted_labels.get(oid, ""))
        sim = 0.0
        if profile.profiling and profile.vector is not None and vectors and o["_id"] in vectors:
            sim = max(0.0, float(np.dot(profile.vector, vectors[o["_id"]])))
        km = None
        if o.get("mode") != "VIDEO" and o.get("location"):
            lon, lat = o["location"]["coordinates"]
            km = distance_km(profile.lat, profile.lon, lat, lon)
        near = 1.0 if km is None else math.exp(-km / weights.distance_scale_km)
        age = max(0.0, (now - o["createdAt"]).total_seconds() / 86400)
        fresh = math.exp(-age / weights.freshness_days)
        units = {u for u in targets.values() if u}
        liked = 0.0
        if units and profile.profiling:
            liked = sum(profile.feedback.get(u, 0.0) for u in units) / len(units)
        fit = max(0.0, float(_weighted(weights, relation, sim, near, fresh, liked)))
        cards.append(
            OfferCard(
                offer_id=o["_id"],
                fit=round(fit, 4),
                distance_km=None if km is None else round(km, 1),
                reason=_reason(profile.locale, because, relation, km, profile.profiling),
                on_field=relation >= FIELD_RELATION,
                components={
                    "occupation": relation,
                    "semantic": sim,
                    "distance": near,
                    "freshness": fresh,
                    "feedback": liked,
                },
            )
        )
    # Weighted random order: sorting by log(u) / w descending is sorting by u^(1/w); every
    # card on the field before the others.
    sharpness = _sharpness(weights, len(cards), reach)
    cards.sort(
        key=lambda card: (
            card.on_field,
            math.log(daily_draw(profile.id, day, card.offer_id)) / math.exp(sharpness * card.fit),
        ),
        reverse=True,
    )
    return cards


def preselect_offers(
    profile: CitizenProfile,
    offers: Sequence[Mapping],
    now: datetime,
    day: str,
    occupation_isco: Mapping[str, str],
    vectors: Mapping[str, np.ndarray] | None = None,
    weights: DeckWeights = DECK_WEIGHTS,
    reach: int | None = None,
    k: int = 60,
) -> list[Mapping]:
    """The ``k`` offers that lead ``rank_offers``'s order, found with the same fit and daily
    key computed over arrays (no cards, no reasons): ranking only these gives the same first
    cards as ranking them all, for a fraction of the cost. The arrays' float rounding may
    differ from ``rank_offers``'s in the last bits, so callers ask for a margin beyond the
    cards they need (``rank_offers`` then orders the ``k`` exactly)."""
    n = len(offers)
    if n <= k:
        return list(offers)
    history = profile.history if profile.profiling else ()
    own_ids = {i.occupation_id for i in history if i.occupation_id} | set(profile.wanted)
    own_units = {i.isco for i in history if i.isco} | {u for u in profile.wanted.values() if u}
    own_minor = {u[:3] for u in own_units}
    feedback = profile.feedback if profile.profiling else {}
    relation = np.zeros(n)
    liked = np.zeros(n)
    lats = np.full(n, np.nan)
    lons = np.full(n, np.nan)
    age = np.empty(n)
    draws = np.empty(n)
    for i, o in enumerate(offers):
        ids = o["targetOccupationIds"]
        units = {u for t in ids if (u := occupation_isco.get(t, ""))}
        if own_ids.intersection(ids):
            relation[i] = 1.0
        elif units & own_units:
            relation[i] = 0.6
        elif own_minor and any(u[:3] in own_minor for u in units):
            relation[i] = 0.3
        if feedback and units:
            liked[i] = sum(feedback.get(u, 0.0) for u in units) / len(units)
        if o.get("mode") != "VIDEO" and o.get("location"):
            lons[i], lats[i] = o["location"]["coordinates"]
        age[i] = (now - o["createdAt"]).total_seconds() / 86400
        draws[i] = daily_draw(profile.id, day, o["_id"])
    km = haversine_km_many(profile.lat, profile.lon, np.nan_to_num(lats), np.nan_to_num(lons))
    near = np.where(np.isnan(lats), 1.0, np.exp(-km / weights.distance_scale_km))
    fresh = np.exp(-np.maximum(age, 0.0) / weights.freshness_days)
    sim = np.zeros(n)
    if profile.profiling and profile.vector is not None and vectors:
        zero = np.zeros(len(profile.vector), dtype=np.float32)
        matrix = np.stack([vectors.get(o["_id"], zero) for o in offers])
        sim = np.maximum(matrix @ profile.vector, 0.0).astype(np.float64)
    fit = np.maximum(0.0, _weighted(weights, relation, sim, near, fresh, liked))
    sharpness = _sharpness(weights, n, reach)
    key = np.log(draws) / np.exp(sharpness * np.round(fit, 4))
    # On the field first (rank_offers' order), then by key: top k of that order.
    order = np.lexsort((-key, relation < FIELD_RELATION))[:k]
    return [offers[i] for i in order]


def _reason(
    locale: str,
    because: tuple[str, str] | None,
    relation: float,
    km: float | None,
    profiling: bool = True,
) -> str:
    if because and relation >= FIELD_RELATION:
        kind, label = because
        close = relation < 0.6  # the same minor group only
        if kind == "history" and close:
            first = _t(locale, f"Tæt på din erfaring som {label.lower()}",
                       f"Close to your experience as {label.lower()}")  # fmt: skip
        elif kind == "history":
            first = _t(locale, f"Passer til din erfaring som {label.lower()}",
                       f"Fits your experience as {label.lower()}")  # fmt: skip
        elif close:
            first = _t(locale, f"Tæt på dit jobønske: {label.lower()}",
                       f"Close to your job wish: {label.lower()}")  # fmt: skip
        else:
            first = _t(locale, f"Passer til dit jobønske: {label.lower()}",
                       f"Fits your job wish: {label.lower()}")  # fmt: skip
    elif not profiling:
        first = _t(locale, "Et kaffemøde inden for dine valg; CV-match er slået fra",
                   "A coffee meeting within your choices; CV matching is off")  # fmt: skip
    else:
        first = _t(locale, "Et nyt felt, du kan prøve", "A new field you could try")
    if km is None:
        where = _t(locale, "video, ingen transport", "video, no travel")
    else:
        where = _t(locale, f"{km:.0f} km fra dig", f"{km:.0f} km from you")
    return f"{first} ({where})."


# --- the employer's side: an offer's meeting requests, by fit ------------------------------
def rank_candidates_for_offer(
    offer_vector: np.ndarray,
    offer_occupations: Mapping[str, str],
    offer_lat: float,
    offer_lon: float,
    candidates: Iterable[tuple[str, np.ndarray | None, Mapping[str, str], float, float]],
    weights: Weights = WEIGHTS,
) -> list[tuple[str, float]]:
    """Reverse ranking for employers: the citizens who asked for a meeting, by fit.

    ``candidates`` holds (citizen id, profile vector or None, occupations id -> ISCO unit,
    lat, lon). Citizens without a profile vector (profiling off) are ranked on occupation
    and distance only, never dropped.
    """
    scored = []
    for cid, vector, occupations, lat, lon in candidates:
        sim = float(np.dot(offer_vector, vector)) if vector is not None else 0.0
        relation = 0.0
        for oid, unit in occupations.items():
            if oid in offer_occupations:
                relation = 1.0
                break
            for target_unit in offer_occupations.values():
                if unit == target_unit:
                    relation = max(relation, 0.6)
                elif unit[:3] == target_unit[:3]:
                    relation = max(relation, 0.3)
        km = float(haversine_km_many(offer_lat, offer_lon, np.array([lat]), np.array([lon]))[0])
        score = (
            weights.semantic * max(sim, 0.0)
            + weights.occupation * relation
            + weights.distance * math.exp(-km / weights.distance_scale_km)
        )
        scored.append((cid, score))
    scored.sort(key=lambda cs: (-cs[1], cs[0]))
    return scored


SWIPE_YES = 0.2  # per YES on an offer in the unit group
SWIPE_NO = {"WRONG_FIELD": -0.5, "NOT_INTERESTED": -0.25}  # other reasons say nothing of field


def swipe_feedback(swipes: Sequence[Mapping]) -> dict[str, float]:
    """What the citizen's own swipes say about ISCO unit groups, in [-1, 1]. Used only to
    order this citizen's own deck and job suggestions."""
    scores: dict[str, float] = {}
    for s in swipes:
        delta = SWIPE_YES if s["decision"] == "YES" else SWIPE_NO.get(s.get("reason") or "", 0.0)
        for unit in s.get("iscoCodes", []):
            scores[unit] = max(-1.0, min(1.0, scores.get(unit, 0.0) + delta))
    return scores
