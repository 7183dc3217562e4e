"""The open coffee-meeting offers of this process, in memory, for the swipe deck's first cut.

The deck used to read every open offer of the citizen's areas from the database on each
request and rank them all (p50 1.56 s with 20,000 offers). The catalogue holds, per open offer,
only what the deck filters and ranks on (id, company, place and deck area, mode, target
occupations and their ISCO units, creation, when it stops taking requests, its vector),
indexed by (deck area, code) where a code is a target occupation id or an ISCO prefix of a
target unit (minor group, sub-major group, major group). The deck takes the offers of the
citizen's areas on the citizen's field from that index, a bounded number of nearby fields,
ranks only those, and reads from the database only the few offers it returns (which it checks
again there: a paused, closed, full or expired offer never reaches a card).

It is kept in sync with writes:
- this process's writes (``offer_written``, called by the offers service) apply at once;
- other processes' writes come from the database in each housekeeping pass (``sync``): the
  offers whose ``updatedAt`` is after the last read, less a look-back for late commits, in
  pages, each change applied once; the same scheme as the search index's postings sync in
  ``api/housekeeping.py``.
- seat counts change without ``updatedAt`` (a booking): the deck's read of the offers it
  returns sees them, and refreshes the entry from that read.

Offer vectors come from the matching engine when the offer is written (or, for offers written
elsewhere, in the sync pass); the deck never embeds. One catalogue per database name and
process (``catalogue_for``); loaded at the first sync or deck, whichever comes first.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from matching.offers import ANYWHERE, deck_area

from . import repository
from .rules import OfferStatus

log = logging.getLogger(__name__)

# How far back each read of changed offers reaches (see api/housekeeping.SYNC_LOOKBACK).
SYNC_LOOKBACK = timedelta(minutes=2)
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
# Filling missing vectors, per pass: entries looked up in the embedding cache, and of those
# at most this many embedded (the engine's one offer thread), so a pass stays short.
FILL_LOOKUP = 512
FILL_EMBED = 128
FILL_WAIT_S = 300.0
FILL_PAUSE_S = 0.05


@dataclass(slots=True)
class Entry:
    """An open offer's small fields; a mapping enough for ``matching.offers.rank_offers``."""

    _id: str
    companyCvr: str
    mode: str | None
    location: dict | None
    targetOccupationIds: list[str]
    units: tuple[str, ...]
    createdAt: datetime
    area: str
    open_until: datetime  # min(expiry, the start of its last slot with a free seat)
    updatedAt: datetime | None
    vector: np.ndarray | None = None
    lat: float = math.nan
    lon: float = math.nan

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def codes(self) -> set[str]:
        out = set(self.targetOccupationIds)
        for unit in self.units:
            out |= {f"isco:{unit[:3]}", f"isco:{unit[:2]}", f"isco:{unit[:1]}"}
        return out


def open_until(doc: Mapping[str, Any]) -> datetime:
    """Until when the offer takes requests as it stands: its expiry, or the start of its last
    slot with a free seat if earlier (``rules.is_open`` is ``open_until > now``)."""
    free = [s["startsAt"] for s in doc.get("slots", []) if s["booked"] < s["capacity"]]
    if not free:
        return datetime.min.replace(tzinfo=UTC)
    return min(doc["expiresAt"], max(free))


def entry_of(doc: Mapping[str, Any], vector: np.ndarray | None) -> Entry:
    location = doc.get("location")
    entry = Entry(
        _id=doc["_id"],
        companyCvr=doc["companyCvr"],
        mode=doc.get("mode"),
        location=location,
        targetOccupationIds=list(doc.get("targetOccupationIds", [])),
        units=tuple(doc.get("targetIscoCodes", [])),
        createdAt=doc["createdAt"],
        area=deck_area(doc.get("mode"), location),
        open_until=open_until(doc),
        updatedAt=doc.get("updatedAt"),
        vector=vector,
    )
    if entry.mode != "VIDEO" and location:
        entry.lon, entry.lat = location["coordinates"]
    return entry


@dataclass
class OfferCatalogue:
    entries: dict[str, Entry] = field(default_factory=dict)
    index: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    by_area: dict[str, set[str]] = field(default_factory=dict)
    loaded: bool = False
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    applied: dict[str, datetime] = field(default_factory=dict)  # id -> updatedAt, in window
    needs_vector: set[str] = field(default_factory=set)
    _locks: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)
    _filling: bool = False

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def _lock(self) -> asyncio.Lock:
        """One lock per event loop (a process has one; a test session has several)."""
        key = asyncio.get_running_loop()
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    # --- writes --------------------------------------------------------------------------
    def remove(self, offer_id: str) -> None:
        old = self.entries.pop(offer_id, None)
        self.needs_vector.discard(offer_id)
        if old is None:
            return
        for code in old.codes():
            ids = self.index.get((old.area, code))
            if ids is not None:
                ids.discard(offer_id)
                if not ids:
                    del self.index[(old.area, code)]
        area_ids = self.by_area.get(old.area)
        if area_ids is not None:
            area_ids.discard(offer_id)

    def upsert(self, doc: Mapping[str, Any], vector: np.ndarray | None = None) -> None:
        """The offer as written: open ones are (re)indexed, the others leave."""
        old = self.entries.get(doc["_id"])
        if vector is None and old is not None:
            vector = old.vector  # a status or slot change: the text, so the vector, stands
        self.remove(doc["_id"])
        if doc.get("status") != OfferStatus.OPEN:
            return
        entry = entry_of(doc, vector)
        self.entries[entry._id] = entry
        for code in entry.codes():
            self.index.setdefault((entry.area, code), set()).add(entry._id)
        self.by_area.setdefault(entry.area, set()).add(entry._id)
        if vector is None:
            self.needs_vector.add(entry._id)

    # --- reads ----------------------------------------------------------------------------
    def areas(self, wanted: Sequence[str] | None) -> list[str]:
        return list(self.by_area) if wanted is None else [a for a in wanted if a in self.by_area]

    def in_areas(self, areas: Iterable[str]) -> int:
        return sum(len(self.by_area.get(a, ())) for a in areas)

    def with_codes(self, areas: Sequence[str], codes: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for code in codes:
            for area in areas:
                ids = self.index.get((area, code))
                if ids:
                    out |= ids
        return out

    def area_ids(self, areas: Sequence[str]) -> Iterable[str]:
        for area in areas:
            yield from self.by_area.get(area, ())

    # --- loading and syncing ----------------------------------------------------------------
    async def _vectors(
        self, engine, docs: Sequence[Mapping], *, embed: int
    ) -> dict[str, np.ndarray]:
        """The offers' vectors: those of their current text in the engine's memory or the disk
        cache, and of at most ``embed`` others embedded now by the engine's background offer
        thread (never on a request's path: requests pass ``embed=0``)."""
        if engine is None or not getattr(engine, "ready", False) or not docs:
            return {}
        try:
            if len(docs) > 500:  # hashing the texts of thousands of offers: off the loop
                found = await asyncio.to_thread(engine.cached_offer_vectors, docs)
            else:
                found = engine.cached_offer_vectors(docs)
            rest = [d for d in docs if d["_id"] not in found][:embed]
            if rest:
                engine.known_offer_vectors(rest)  # hands them to the engine's offer thread
                await asyncio.to_thread(engine.wait_for_offer_filler, FILL_WAIT_S)
                found |= engine.cached_offer_vectors(rest)
            return found
        except Exception:
            log.exception("embedding coffee-meeting offers for the deck failed; next pass retries")
            return {}

    async def ensure_loaded(self, db, engine) -> None:
        """One read of the open offers, vectors only looked up (memory, disk cache): at
        start-up before the process reports ready, or by the first deck or sync if earlier.
        The rest are embedded later, in bounded passes (``fill_vectors``)."""
        if self.loaded:
            return
        async with self._lock:
            if self.loaded:
                return
            started = datetime.now(UTC)
            docs = await repository.open_offers(db, started)
            vectors = await self._vectors(engine, docs, embed=0)
            window = started - SYNC_LOOKBACK
            for doc in docs:
                self.upsert(doc, vectors.get(doc["_id"]))
                at = doc.get("updatedAt")
                if at is not None and at > window:  # read now: the first sync skips it
                    self.applied[doc["_id"]] = at
            self.since = started
            self.loaded = True

    async def sync(self, db, engine) -> int:
        """Offers changed through any process since the last read: applied here, once each
        (at most ``FILL_EMBED`` of them embedded in this pass, the rest by ``fill_vectors``).
        Also drops expired entries and embeds one bounded batch of those lacking a vector."""
        if not self.loaded:
            if engine is not None and not getattr(engine, "ready", False):
                return 0  # start-up loads it, with the vectors the cache has
            await self.ensure_loaded(db, engine)
            return 0
        synced = 0
        async with self._lock:
            started = datetime.now(UTC)
            reach_from = self.since - SYNC_LOOKBACK
            while True:
                page = await repository.offers_changed_since(db, reach_from)
                fresh = [d for d in page if self.applied.get(d["_id"]) != d["updatedAt"]]
                vectors = await self._vectors(
                    engine,
                    [d for d in fresh if d.get("status") == OfferStatus.OPEN],
                    embed=FILL_EMBED,
                )
                for doc in fresh:
                    self.upsert(doc, vectors.get(doc["_id"]))
                    self.applied[doc["_id"]] = doc["updatedAt"]
                    self.since = max(self.since, min(doc["updatedAt"], started))
                synced += len(fresh)
                if len(page) < repository.CHANGED_PAGE or not fresh:
                    break
                reach_from = page[-1]["updatedAt"]
            window = self.since - SYNC_LOOKBACK
            self.applied = {k: at for k, at in self.applied.items() if at > window}
            now = datetime.now(UTC)
            for oid in [k for k, e in self.entries.items() if e.open_until <= now]:
                self.remove(oid)
        await self.fill_vectors(db, engine)
        return synced

    async def fill_vectors(self, db, engine, *, until_done: bool = False) -> int:
        """Vectors for entries that lack one: per pass, ``FILL_LOOKUP`` entries looked up in
        the cache and at most ``FILL_EMBED`` of them embedded, in the engine's offer thread.
        One pass (a housekeeping pass), or pass after pass until none lacks one (after
        start-up). One filler at a time per catalogue."""
        if self._filling or engine is None or not getattr(engine, "ready", False):
            return 0
        self._filling = True
        filled = 0
        try:
            while self.needs_vector:
                ids = list(self.needs_vector)[:FILL_LOOKUP]
                docs = [d for d in await repository.offers_by_ids(db, ids) if d is not None]
                vectors = await self._vectors(engine, docs, embed=FILL_EMBED)
                for doc in docs:
                    entry, vector = self.entries.get(doc["_id"]), vectors.get(doc["_id"])
                    # Not if the offer changed meanwhile (its text may have, too).
                    if (
                        entry is not None
                        and vector is not None
                        and (entry.updatedAt == doc.get("updatedAt"))
                    ):
                        entry.vector = vector
                        self.needs_vector.discard(doc["_id"])
                for oid in set(ids) - {d["_id"] for d in docs}:
                    self.remove(oid)  # gone from the database
                filled += len(vectors)
                if not until_done or not vectors:
                    break
                await asyncio.sleep(FILL_PAUSE_S)  # the loop serves between passes
            return filled
        finally:
            self._filling = False


_catalogues: dict[str, OfferCatalogue] = {}


def catalogue_for(db) -> OfferCatalogue:
    """This process's catalogue of the database's open offers."""
    found = _catalogues.get(db.name)
    if found is None:
        found = _catalogues[db.name] = OfferCatalogue()
    return found


def forget_catalogue(db) -> None:
    """Drop this process's catalogue of the database, as a restart does: the next start-up,
    deck or sync loads it again (tests that write straight into the collection)."""
    _catalogues.pop(db.name, None)


def offer_written(db, doc: Mapping[str, Any] | None, vector: np.ndarray | None = None) -> None:
    """This process wrote ``doc``: the catalogue has it at once (if loaded; else the load
    reads it). The sync pass will read it again and apply it once more, harmlessly."""
    if doc is None:
        return
    catalogue = _catalogues.get(db.name)
    if catalogue is not None and catalogue.loaded:
        catalogue.upsert(doc, vector)


async def sync_offers(db, engine) -> int:
    """The housekeeping step: this process's catalogue brought up to date from the database."""
    return await catalogue_for(db).sync(db, engine)


__all__ = [
    "ANYWHERE",
    "Entry",
    "OfferCatalogue",
    "catalogue_for",
    "forget_catalogue",
    "offer_written",
    "sync_offers",
]
