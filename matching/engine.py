"""The matching engine at run time: loads the taxonomy and the open postings, keeps the FAISS
index and the title normaliser, builds citizen profiles and answers ranking questions.

It is handed the occupation and posting documents (their owning repositories read them); the
only collection it touches is the profile embeddings, through ``matching.profiles``. It knows
nothing of HTTP or GraphQL. CPU-heavy work (embedding, index builds) runs in worker threads so
the event loop keeps serving.

Coffee-meeting offers are embedded when they are written (``remember_offer``, called by the
offers service on create and update) into a per-process map of offer vectors, keyed by the
offer and the content hash of its text, so a changed offer is never ranked on its old text.
The deck only looks vectors up (``known_offer_vectors``): it never embeds on the request path.
An offer the map lacks (written by another instance, seeded, or from before a restart) is
ranked without the semantic component that once, and handed to one background thread, which
embeds it through the disk cache; ``warm_offer_vectors`` fills the map for many at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pymongo.asynchronous.database import AsyncDatabase

from . import profiles
from .embeddings import Embedder, content_hash
from .explanations import citizen_terms
from .geoindex import GeoIndex
from .index import Manifest, VectorIndex
from .ranking import JobRanker, RankedCache
from .records import CitizenProfile, Filters, HistoryItem, PostingRecord, RankedJobs
from .texts import posting_text, profile_text
from .titles import TitleMatch, TitleNormalizer, taxonomy_entries

log = logging.getLogger(__name__)


@dataclass
class EngineConfig:
    index_dir: Path
    hnsw_threshold: int = 200_000
    ef_search: int | None = None
    # Seconds a citizen's ranked suggestions and profile vector are reused in this process
    # (``ranking.RankedCache``); 0: never.
    suggestions_cache_s: float = 30.0


@dataclass
class LoadReport:
    postings: int = 0
    embedded: int = 0
    index_kind: str = "flat"
    from_disk: bool = False
    seconds: float = 0.0
    occupations: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class MatchingEngine:
    def __init__(self, embedder: Embedder, config: EngineConfig) -> None:
        self.embedder = embedder
        self.config = config
        self.index = GeoIndex(
            embedder.dimension, hnsw_threshold=config.hnsw_threshold, ef_search=config.ef_search
        )
        self.records: dict[str, PostingRecord] = {}
        self.occupation_labels: dict[str, tuple[str, str]] = {}
        self.occupation_isco: dict[str, str] = {}
        self.occupation_alt_labels: dict[str, tuple[str, ...]] = {}  # Danish alternative labels
        self.titles: TitleNormalizer | None = None
        self.ranker = JobRanker(self.index, self.records, self.occupation_labels)
        self.ready = False
        # Ranked suggestions and profile vectors reused for a short time (see RankedCache):
        # keyed by what they were computed from, dropped by ``forget_profile``.
        self.suggestions = RankedCache(config.suggestions_cache_s)
        self._profile_vectors = RankedCache(config.suggestions_cache_s)
        # Offer id -> (content hash of its text, vector); see the module's docstring.
        self._offer_vectors: dict[str, tuple[str, np.ndarray]] = {}
        self._offer_lock = threading.Lock()
        self._offers_pending: set[tuple[str, str]] = set()  # (id, hash) handed to the filler
        self._offer_filler: ThreadPoolExecutor | None = None

    # --- loading -----------------------------------------------------------------------------
    async def load(
        self, *, occupations: Sequence[Mapping], postings: Sequence[Mapping]
    ) -> LoadReport:
        """(Re)build from the taxonomy's occupations (id, labelDa, labelEn, altLabelsDa,
        iscoCode) and the open postings (without their stored embedding), as their
        repositories read them for matching."""
        started = time.perf_counter()
        report = LoadReport()
        self.occupation_labels.clear()
        self.occupation_labels.update({o["_id"]: (o["labelDa"], o["labelEn"]) for o in occupations})
        self.occupation_isco = {o["_id"]: o["iscoCode"] for o in occupations}
        self.occupation_alt_labels = {
            o["_id"]: tuple(o.get("altLabelsDa") or ()) for o in occupations
        }
        report.occupations = len(occupations)
        t = time.perf_counter()
        entries = taxonomy_entries(occupations)
        # No taxonomy imported yet: no title normalisation until there is one.
        self.titles = (
            await asyncio.to_thread(TitleNormalizer, entries, self.embedder) if entries else None
        )
        report.timings["titles"] = time.perf_counter() - t

        records = {d["_id"]: PostingRecord.from_doc(d) for d in postings}
        texts = {d["_id"]: self.posting_text(d) for d in postings}
        hashes = {pid: content_hash(self.embedder.model_id, text) for pid, text in texts.items()}
        kind = "geo-hnsw" if len(postings) > self.config.hnsw_threshold else "geo-flat"
        manifest = Manifest(
            self.embedder.model_id,
            self.embedder.dimension,
            len(postings),
            Manifest.checksum_of(hashes.items()),
            kind,
        )
        stored = VectorIndex.read_manifest(self.config.index_dir)  # same manifest format
        t = time.perf_counter()
        if stored == manifest:
            fresh = await asyncio.to_thread(
                GeoIndex.load,
                self.config.index_dir,
                manifest,
                hnsw_threshold=self.config.hnsw_threshold,
                ef_search=self.config.ef_search,
            )
            report.from_disk = True
        else:
            ids = list(texts)
            before = len(self.embedder.cache) if self.embedder.cache else 0
            vectors = await asyncio.to_thread(self.embedder.encode, [texts[i] for i in ids])
            report.embedded = (
                (len(self.embedder.cache) - before) if self.embedder.cache else len(ids)
            )
            coords = [(records[i].lat, records[i].lon) for i in ids]
            fresh = await asyncio.to_thread(
                GeoIndex.build,
                ids,
                vectors,
                coords,
                hnsw_threshold=self.config.hnsw_threshold,
                ef_search=self.config.ef_search,
            )
            await asyncio.to_thread(fresh.save, self.config.index_dir, manifest)
        report.timings["index"] = time.perf_counter() - t
        # Swap: searches running now finish on the old generation; new ones see the new one.
        self.index.swap_in(fresh)
        self.records.clear()
        self.records.update(records)
        self.ranker.invalidate()
        self.ready = True
        report.postings, report.index_kind = len(records), self.index.kind
        report.seconds = time.perf_counter() - started
        log.info(
            "matching engine loaded",
            extra={k: v for k, v in vars(report).items() if k != "timings"},
        )
        return report

    @property
    def generation(self) -> int:
        """Changes whenever the postings ranking sees change (load, upsert, removal)."""
        return self.ranker.generation

    def posting_text(self, doc: Mapping) -> str:
        label = self.occupation_labels.get(doc.get("occupationId", ""), (None, None))[0]
        return posting_text(doc, label)

    # --- incremental updates -----------------------------------------------------------------
    async def upsert_posting(self, doc: Mapping, now: datetime | None = None) -> None:
        """Index a created or changed posting; closed or expired ones leave the index."""
        now = now or datetime.now(UTC)
        if doc.get("status") != "OPEN" or doc["deadline"] < now:
            self.remove_posting(doc["_id"])
            return
        vector = await asyncio.to_thread(self.embedder.encode, [self.posting_text(doc)])
        record = PostingRecord.from_doc(doc)
        self.index.add(doc["_id"], vector[0], record.lat, record.lon)
        self.records[doc["_id"]] = record
        self.ranker.invalidate()

    def remove_posting(self, posting_id: str) -> None:
        self.index.remove([posting_id])
        if self.records.pop(posting_id, None) is not None:
            self.ranker.invalidate()

    # --- citizens ----------------------------------------------------------------------------
    async def citizen_profile(
        self,
        db: AsyncDatabase,
        citizen: Mapping,
        cv: Mapping | None,
        *,
        excluded: set[str] | None = None,
        feedback: dict[str, float] | None = None,
        locale: str = "da",
    ) -> CitizenProfile:
        """The profile ranking reads. With profiling off it holds only the citizen's own
        choices (wishes, radius, hours, contract types) and the postings they answered:
        nothing from the CV and no behavioural feedback."""
        cv = cv or {}
        prefs = citizen.get("preferences", {})
        profiling = bool(citizen.get("consents", {}).get("profiling", True))
        lon, lat = citizen["location"]["coordinates"]
        wanted_ids = [o for o in prefs.get("occupationIds", []) if o in self.occupation_isco]
        lang = 1 if locale == "en" else 0
        history = []
        terms: set[str] = set()
        if profiling:
            history = [
                HistoryItem(
                    j.get("occupationId"),
                    self.occupation_isco.get(j.get("occupationId", "")),
                    j["title"],
                    j.get("employer"),
                    self.occupation_labels.get(j.get("occupationId", ""), ("", None))[1],
                )
                for j in cv.get("workHistory", [])
            ]
            experience = [h.title for h in history]
            for h in history:
                if h.occupation_id in self.occupation_labels:
                    experience.append(self.occupation_labels[h.occupation_id][0])
                    experience += self.occupation_alt_labels.get(h.occupation_id, ())
            terms = citizen_terms(
                cv.get("skills", []),
                cv.get("courses", []),
                cv.get("drivingLicences", []),
                experience,
            )
        contracts = frozenset(prefs.get("contractTypes") or ())
        profile = CitizenProfile(
            id=citizen["_id"],
            lat=lat,
            lon=lon,
            radius_km=float(prefs.get("radiusKm", 30)),
            hours=prefs.get("hours", "ANY"),
            profiling=profiling,
            contract_types=contracts,
            wanted={o: self.occupation_isco[o] for o in wanted_ids},
            wanted_labels={o: self.occupation_labels[o][lang] for o in wanted_ids},
            history=history,
            terms=terms,
            excluded=excluded or set(),
            feedback=(feedback or {}) if profiling else {},
            locale=locale,
        )
        # A read never writes: opted out, no embedding is used (the opt-out and erasure remove
        # the stored one); opted in, the stored one or one embedded in memory.
        if profiling:
            profile.vector = await self._current_profile_vector(db, citizen["_id"], cv, wanted_ids)
        return profile

    def _profile_text(self, cv: Mapping, wanted_ids: list[str]) -> tuple[str, str]:
        """The profile text and its content hash."""
        text = profile_text(
            cv,
            [self.occupation_labels[o][0] for o in wanted_ids],
            [
                self.occupation_labels[j["occupationId"]][0]
                for j in cv.get("workHistory", [])
                if j.get("occupationId") in self.occupation_labels
            ],
        )
        return text, content_hash(self.embedder.model_id, text)

    async def _embed_profile(self, text: str) -> np.ndarray:
        # Not through the shared disk cache: a profile vector is personal data and lives only
        # in its own document, which erasure and opting out remove.
        return (await asyncio.to_thread(self.embedder.encode_uncached, [text]))[0]

    async def _current_profile_vector(
        self, db: AsyncDatabase, citizen_id: str, cv: Mapping, wanted_ids: list[str]
    ) -> np.ndarray:
        """For reading (suggestions, the deck, the job agent): the stored vector when it is of
        the current profile text, else one embedded in memory and not stored. Never writes."""
        text, chash = self._profile_text(cv, wanted_ids)
        # The same profile text gives the same vector: one embedded or read a moment ago is
        # reused (an unchanged CV is never embedded again on each request).
        known = self._profile_vectors.get(citizen_id, chash)
        if known is not None:
            return known  # type: ignore[return-value]
        vector = await profiles.stored_vector(db, citizen_id, chash)
        if vector is None:
            vector = await self._embed_profile(text)
        self._profile_vectors.put(citizen_id, chash, vector)
        return vector

    async def profile_vector(
        self, db: AsyncDatabase, citizen_id: str, cv: Mapping, wanted_ids: list[str]
    ) -> np.ndarray:
        """For writing, when the CV or job wishes changed: embeds the profile and stores the
        vector unless the stored one is already of the current profile text."""
        text, chash = self._profile_text(cv, wanted_ids)
        stored = await profiles.stored_vector(db, citizen_id, chash)
        if stored is not None:
            return stored
        vector = await self._embed_profile(text)
        await profiles.save_vector(db, citizen_id, chash, self.embedder.model_id, vector)
        return vector

    async def store_profile_vectors(
        self, db: AsyncDatabase, citizens: list[tuple[Mapping, Mapping | None]]
    ) -> int:
        """For writing in bulk (seeded citizens, who never saved a CV through the app): the
        profile vectors of the citizens with profiling on whose stored vector is missing or
        stale, embedded in batches. Returns how many were stored."""
        todo = []
        for citizen, cv in citizens:
            if not citizen.get("consents", {}).get("profiling", True):
                continue
            prefs = citizen.get("preferences", {})
            wanted = [o for o in prefs.get("occupationIds", []) if o in self.occupation_isco]
            todo.append((citizen["_id"], *self._profile_text(cv or {}, wanted)))
        current = await profiles.stored_hashes(db, [cid for cid, _, _ in todo])
        todo = [t for t in todo if current.get(t[0]) != t[2]]
        if not todo:
            return 0
        vectors = await asyncio.to_thread(self.embedder.encode_uncached, [t for _, t, _ in todo])
        items = [(cid, chash, v) for (cid, _, chash), v in zip(todo, vectors, strict=True)]
        await profiles.save_vectors(db, items, self.embedder.model_id)
        return len(items)

    # --- coffee-meeting offers ------------------------------------------------------------
    def offer_text(self, offer: Mapping) -> str:
        """An offer's text to embed: title, target occupations, pitch."""
        labels = [self.occupation_labels[t][0] for t in offer.get("targetOccupationIds", [])
                  if t in self.occupation_labels]  # fmt: skip
        return ". ".join([offer.get("title", ""), ", ".join(labels), offer.get("pitch", "")])

    def _offer_keys(self, offers: Sequence[Mapping]) -> list[tuple[str, str, str]]:
        """(offer id, content hash, text) of each offer."""
        out = []
        for o in offers:
            text = self.offer_text(o)
            out.append((o["_id"], content_hash(self.embedder.model_id, text), text))
        return out

    def _store_offer_vectors(self, keys: Sequence[tuple[str, str, str]], vectors) -> None:
        with self._offer_lock:
            for (oid, chash, _), vector in zip(keys, vectors, strict=True):
                self._offer_vectors[oid] = (chash, np.array(vector, dtype=np.float32))

    def known_offer_vectors(self, offers: Sequence[Mapping]) -> dict[str, np.ndarray]:
        """The vectors of those offers whose current text was embedded; never embeds. The rest
        are handed to the background filler, so a later deck has them."""
        keys = self._offer_keys(offers)
        found: dict[str, np.ndarray] = {}
        missing = []
        with self._offer_lock:
            for oid, chash, text in keys:
                known = self._offer_vectors.get(oid)
                if known is not None and known[0] == chash:
                    found[oid] = known[1]
                elif (oid, chash) not in self._offers_pending:
                    self._offers_pending.add((oid, chash))
                    missing.append((oid, chash, text))
        if missing:
            self._fill_in_background(missing)
        return found

    def cached_offer_vectors(self, offers: Sequence[Mapping]) -> dict[str, np.ndarray]:
        """The vectors of those offers whose current text is in memory or in the disk cache;
        never embeds, hands nothing to the filler (start-up: the deck's catalogue embeds the
        rest in bounded background passes)."""
        found, missing = self._split_known(self._offer_keys(offers))
        cache = self.embedder.cache
        if missing and cache is not None:
            rows = cache.get_many([chash for _, chash, _ in missing])
            hits = [(k, v) for k, v in zip(missing, rows, strict=True) if v is not None]
            self._store_offer_vectors([k for k, _ in hits], [v for _, v in hits])
            found |= {k[0]: np.array(v, dtype=np.float32) for k, v in hits}
        return found

    def _split_known(
        self, keys: list[tuple[str, str, str]]
    ) -> tuple[dict[str, np.ndarray], list[tuple[str, str, str]]]:
        """The vectors held for the offers' current texts, and the (id, hash, text) of the
        others."""
        found: dict[str, np.ndarray] = {}
        missing: list[tuple[str, str, str]] = []
        with self._offer_lock:
            for oid, chash, text in keys:
                known = self._offer_vectors.get(oid)
                if known is not None and known[0] == chash:
                    found[oid] = known[1]
                else:
                    missing.append((oid, chash, text))
        return found, missing

    def _fill_in_background(self, keys: list[tuple[str, str, str]]) -> None:
        if self._offer_filler is None:
            with self._offer_lock:
                if self._offer_filler is None:
                    self._offer_filler = ThreadPoolExecutor(1, thread_name_prefix="offer-vectors")
        self._offer_filler.submit(self._fill, keys)

    def _fill(self, keys: list[tuple[str, str, str]]) -> None:
        try:
            vectors = self.embedder.encode([t for _, _, t in keys])
            self._store_offer_vectors(keys, vectors)
        except Exception:
            log.exception("embedding coffee-meeting offers failed; the next deck retries")
        finally:
            with self._offer_lock:
                self._offers_pending.difference_update((oid, h) for oid, h, _ in keys)

    def wait_for_offer_filler(self, timeout: float = 60.0) -> bool:
        """Until the background filler has embedded what it was handed (tests, start-up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._offer_lock:
                if not self._offers_pending:
                    return True
            time.sleep(0.01)
        return False

    async def remember_offer(self, offer: Mapping) -> np.ndarray:
        """Embed a created or changed offer now (the write path), for every later deck."""
        return (await self.warm_offer_vectors([offer]))[offer["_id"]]

    async def warm_offer_vectors(self, offers: Sequence[Mapping]) -> dict[str, np.ndarray]:
        """Vectors of ``offers``: known ones looked up, the others embedded (through the
        content-hash disk cache; offer texts are public) and remembered."""
        out, todo = self._split_known(self._offer_keys(offers))
        if todo:
            vectors = await asyncio.to_thread(self.embedder.encode, [t for _, _, t in todo])
            self._store_offer_vectors(todo, vectors)
            out |= {oid: v for (oid, _, _), v in zip(todo, vectors, strict=True)}
        return out

    async def offer_vectors(self, offers: list[Mapping]) -> dict[str, np.ndarray]:
        """Embeddings of coffee-meeting offers, embedding those not known yet (the employer's
        ranking of one offer's requests). The deck uses ``known_offer_vectors``."""
        return await self.warm_offer_vectors(offers)

    def forget_offer(self, offer_id: str) -> None:
        with self._offer_lock:
            self._offer_vectors.pop(offer_id, None)

    async def forget_profile(self, db: AsyncDatabase, citizen_id: str, session=None) -> None:
        """Drop the citizen's profile embedding (profiling turned off, or account erased), and
        what this process kept of it and of their ranked suggestions."""
        self.forget_citizen(citizen_id)
        await profiles.delete_vector(db, citizen_id, session=session)

    def forget_citizen(self, citizen_id: str) -> None:
        """Drop this process's cached profile vector and ranked suggestions of a citizen."""
        self._profile_vectors.forget(citizen_id)
        self.suggestions.forget(citizen_id)

    # --- questions ---------------------------------------------------------------------------
    def recommend(
        self, profile: CitizenProfile, now: datetime, limit: int, filters: Filters | None = None
    ) -> RankedJobs:
        return self.ranker.rank(profile, now, limit=limit, filters=filters)

    def normalize_title(self, text: str, k: int = 10) -> list[TitleMatch]:
        if self.titles is None:
            return []
        return self.titles.search(text, k)


def build_engine(settings) -> MatchingEngine:
    """The engine as configured (``core.settings.Settings``): bundled model unless another is
    named, embedding cache and index files under the data directory."""
    embedder = Embedder(
        settings.model_name_or_path,
        max_tokens=settings.embedding_max_tokens,
        batch_size=settings.embedding_batch_size,
        workers=settings.embedding_workers,
        reuse_memory=settings.embedding_reuse_memory,
        cache_dir=settings.data_dir / "embeddings",
    )
    return MatchingEngine(
        embedder,
        EngineConfig(
            index_dir=settings.data_dir / settings.index_dir_name,
            hnsw_threshold=settings.hnsw_threshold,
            ef_search=settings.hnsw_ef_search,
            suggestions_cache_s=getattr(settings, "suggestions_cache_s", 30.0),
        ),
    )
