"""Ranking job postings for a citizen: FAISS candidates, hard filters, a documented score blend,
explanations, broadening, and the path for citizens who turned profiling off.

Score = sum of weight x component, each component in [0, 1] (feedback in [-1, 1]):

| component  | weight | what it measures |
| ---        | ---    | --- |
| semantic   | 0.50   | cosine similarity of the posting's and the profile's embeddings |
| occupation | 0.25   | 1.0 same ESCO occupation, 0.6 same ISCO unit group, 0.3 same minor group, 0.1 same sub-major group, as any wanted or held occupation |
| distance   | 0.10   | exp(-km / 25): near beats far inside the radius |
| freshness  | 0.10   | halves every 10 days since posting |
| feedback   | 0.05   | the citizen's own swipes and "not interested" answers, per ISCO unit group |

How a result relates to the citizen decides what it may be called and where it goes
(``records.FIT``/``NEAR``/``OUTSIDE``), never the embedding alone: similar-sounding texts are
not the same trade (a bus driver is not a geotechnician).

* *Fitting* (a full match): the occupation relation is at least unit level (0.6).
* *Near*: the same minor group (0.3), the citizen's field; a broadened suggestion.
* *Outside the field*: a weaker relation (sub-major group, or only semantic similarity >=
  0.40); a broadened suggestion labelled "Et nyt felt, du kan prøve".

Broadened suggestions are added only when fewer than five fitting jobs were posted in the last
seven days, after every fitting one: near ones first, then those outside the field, each by
score. When fewer than five fitting jobs lie within the citizen's own radius (not a radius the
query asked for), the nearest fitting ones beyond it are added after them, up to twice the
radius (at least 25 km further), each labelled with its distance; the returned list
(``records.RankedJobs``) says how many fit within the radius.

Hard filters: the radius, the hours and the contract types the citizen wished, the deadline,
and the postings they applied to or answered.

Profiling off: no embedding, no CV, no behaviour. Only the citizen's own choices: jobs of a
wished occupation or unit group first (newest first), then the same minor group (broadened),
both within the filters; a search (words in the title, company or town) also finds jobs outside
the wishes, after them. Without wishes, every job within the filters, newest first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from .explanations import explain, explain_without_profiling
from .geo import haversine_km_many
from .geoindex import GeoIndex
from .records import (
    FIT,
    NEAR,
    OPEN,
    OUTSIDE,
    WEIGHTS,
    CitizenProfile,
    Filters,
    PostingRecord,
    RankedJob,
    RankedJobs,
    Weights,
)


def occupation_relation(posting: PostingRecord, occupations: Mapping[str, str]) -> float:
    """The strongest relation between the posting's occupation and any of ``occupations``
    (id -> ISCO unit code)."""
    best = 0.0
    for oid, unit in occupations.items():
        if oid == posting.occupation_id:
            return 1.0
        if not unit:
            continue
        if unit == posting.isco:
            best = max(best, 0.6)
        elif unit[:3] == posting.isco[:3]:
            best = max(best, 0.3)
        elif unit[:2] == posting.isco[:2]:
            best = max(best, 0.1)
    return best


def _passes(p: PostingRecord, profile: CitizenProfile, now: datetime, hours: str) -> bool:
    if p.id in profile.excluded or p.deadline < now:
        return False
    if profile.contract_types and p.contract_type not in profile.contract_types:
        return False
    return hours == "ANY" or p.hours == hours


def fit_of(relation: float, weights: Weights = WEIGHTS) -> str:
    if relation >= weights.full_match_relation:
        return FIT
    if relation >= 0.3:
        return NEAR
    return OUTSIDE


def reach_km(radius: float, weights: Weights = WEIGHTS) -> float:
    """How far beyond the radius fitting jobs are looked for when few lie within it."""
    return max(radius * weights.beyond_radius_factor, radius + weights.beyond_radius_min_extra_km)


def _matches_search(p: PostingRecord, words: Sequence[str]) -> bool:
    haystack = f"{p.title} {p.company_name} {p.town}".lower()
    return all(w in haystack for w in words)


class JobRanker:
    def __init__(
        self,
        index: GeoIndex,
        records: Mapping[str, PostingRecord],
        occupation_labels: Mapping[str, tuple[str, str]],  # id -> (da, en)
        weights: Weights = WEIGHTS,
    ) -> None:
        self.index = index
        self.records = records
        self.occupation_labels = occupation_labels
        self.weights = weights
        self._by_unit: dict[str, list[str]] | None = None
        self._generation = 0  # counts invalidations

    @property
    def generation(self) -> int:
        return self._generation

    def invalidate(self) -> None:
        """Call after records change (load, new or closed postings)."""
        self._generation += 1
        self._by_unit = None

    def postings_by_unit(self) -> dict[str, list[str]]:
        by_unit = self._by_unit
        if by_unit is None:
            generation = self._generation
            by_unit = {}
            for p in list(self.records.values()):  # a snapshot: see ``rank``
                by_unit.setdefault(p.isco, []).append(p.id)
            if generation == self._generation:  # kept only if no change came in meanwhile
                self._by_unit = by_unit
        return by_unit

    def rank(
        self,
        profile: CitizenProfile,
        now: datetime,
        *,
        limit: int = 50,
        filters: Filters | None = None,
        oversample: int = 400,
    ) -> RankedJobs:
        filters = filters or Filters()
        if profile.vector is None:
            return self._without_profiling(profile, now, limit, filters)
        w = self.weights
        radius = filters.radius_km or profile.radius_km
        # Only the citizen's own radius is widened for fitting jobs; one the query asked for
        # is kept.
        reach = reach_km(radius, w) if filters.radius_km is None else radius
        hours = filters.hours or profile.hours
        words = (filters.search or "").lower().split()
        known = {
            **profile.wanted,
            **{h.occupation_id: h.isco for h in profile.history if h.occupation_id},
        }
        # Candidates: the semantic top-k within the radius cells, plus every posting of the
        # citizen's own ISCO unit groups (found through the inverted index, so a rare trade's
        # few local postings are never crowded out of the semantic top-k, and fitting jobs
        # beyond the radius can be found).
        records = self.records
        hits = dict(self.index.search(profile.vector, oversample, profile.lat, profile.lon, radius))
        units = {u for u in known.values() if u}
        extra = [
            pid for u in units for pid in self.postings_by_unit().get(u, ()) if pid not in hits
        ]
        if extra:
            found_vectors = self.index.vectors(extra)
            if found_vectors:
                sims = np.stack(list(found_vectors.values())) @ profile.vector
                hits.update(zip(found_vectors, sims.tolist(), strict=True))
        # Ranking may run in a thread while the event loop adds and removes postings: look
        # each record up once, and iterate over snapshots (list() copies without yielding).
        found = [(records.get(pid), sim) for pid, sim in hits.items()]
        candidates = [
            (p, sim)
            for p, sim in found
            if p is not None
            and _passes(p, profile, now, hours)
            and (not words or _matches_search(p, words))
        ]
        if candidates:
            lat = np.fromiter((p.lat for p, _ in candidates), float, len(candidates))
            lon = np.fromiter((p.lon for p, _ in candidates), float, len(candidates))
            km = haversine_km_many(profile.lat, profile.lon, lat, lon)
        else:
            km = np.zeros(0)
        groups: dict[str, list[RankedJob]] = {FIT: [], NEAR: [], OUTSIDE: []}
        beyond: list[RankedJob] = []
        for (p, sim), dist in zip(candidates, km.tolist(), strict=True):
            if dist > reach or (dist > radius and p.isco not in units):
                continue  # beyond the radius only fitting jobs count: the same unit group
            relation = occupation_relation(p, known)
            fit = fit_of(relation, w)
            if dist > radius and fit != FIT:
                continue
            if fit == OUTSIDE and relation < 0.1 and sim < w.related_semantic:
                continue  # unrelated
            age_days = max((now - p.posted_at).total_seconds() / 86400, 0.0)
            components = {
                "semantic": max(sim, 0.0),
                "occupation": relation,
                "distance": math.exp(-dist / w.distance_scale_km),
                "freshness": 0.5 ** (age_days / w.freshness_half_life_days),
                "feedback": profile.feedback.get(p.isco, 0.0),
            }
            score = (
                w.semantic * components["semantic"]
                + w.occupation * components["occupation"]
                + w.distance * components["distance"]
                + w.freshness * components["freshness"]
                + w.feedback * components["feedback"]
            )
            job = RankedJob(p, score, fit != FIT, None, None, components, fit)  # type: ignore[arg-type]
            job.components["distance_km"] = dist
            if dist > radius:
                job.beyond_radius = True
                job.components["radius_km"] = radius
                beyond.append(job)
            else:
                groups[fit].append(job)
        for group in groups.values():
            group.sort(key=lambda j: (-j.score, j.posting.id))
        beyond.sort(key=lambda j: (j.components["distance_km"], j.posting.id))
        results = RankedJobs(groups[FIT][:limit])
        results.radius_km = radius
        results.fitting_within_radius = len(groups[FIT])
        wanting = w.fitting_within_radius - len(groups[FIT])
        if wanting > 0 and beyond and len(results) < limit:
            added = beyond[: min(wanting, limit - len(results))]
            results += added
            results.reached_km = max(j.components["distance_km"] for j in added)
        week_ago = now - timedelta(days=7)
        recent_full = sum(1 for j in groups[FIT] if j.posting.posted_at >= week_ago)
        if recent_full < w.broaden_below_per_week and len(results) < limit:
            results += (groups[NEAR] + groups[OUTSIDE])[: limit - len(results)]
        for job in results:
            job.explanation = explain(job, profile, self.occupation_labels)
            if job.broadened:
                job.broadened_reason = job.explanation.broadened_reason
        return results

    def _without_profiling(
        self, profile: CitizenProfile, now: datetime, limit: int, filters: Filters
    ) -> RankedJobs:
        """No profile embedding and nothing from the CV: the citizen's own choices only."""
        w = self.weights
        radius = filters.radius_km or profile.radius_km
        wanted = profile.wanted
        reach = reach_km(radius, w) if filters.radius_km is None and wanted else radius
        hours = filters.hours or profile.hours
        words = (filters.search or "").lower().split()
        candidates = [
            p
            for p in list(self.records.values())  # a snapshot: see ``rank``
            if _passes(p, profile, now, hours) and (not words or _matches_search(p, words))
        ]
        results = RankedJobs()
        results.radius_km = radius
        if not candidates:
            return results
        lat = np.fromiter((p.lat for p in candidates), float, len(candidates))
        lon = np.fromiter((p.lon for p in candidates), float, len(candidates))
        km = haversine_km_many(profile.lat, profile.lon, lat, lon)
        groups: dict[str, list[RankedJob]] = {FIT: [], NEAR: [], OPEN: []}
        beyond: list[RankedJob] = []
        for p, dist in zip(candidates, km.tolist(), strict=True):
            if dist > reach:
                continue
            fit = fit_of(occupation_relation(p, wanted), w) if wanted else OPEN
            if fit == OUTSIDE:
                if not words:
                    continue  # not what the citizen wished for
                fit = OPEN  # found by their own search
            if dist > radius and fit != FIT:
                continue
            job = RankedJob(p, 0.0, fit == NEAR, None, None, {"distance_km": dist}, fit)  # type: ignore[arg-type]
            if dist > radius:
                job.beyond_radius = True
                job.components["radius_km"] = radius
                beyond.append(job)
            else:
                groups[fit].append(job)
        for group in groups.values():
            group.sort(key=lambda j: (j.posting.posted_at, j.posting.id), reverse=True)
        beyond.sort(key=lambda j: (j.components["distance_km"], j.posting.id))
        results += groups[FIT]
        results.fitting_within_radius = len(groups[FIT])
        wanting = w.fitting_within_radius - len(groups[FIT])
        if wanting > 0 and beyond:
            added = beyond[:wanting]
            results += added
            results.reached_km = max(j.components["distance_km"] for j in added)
        results += groups[NEAR] + groups[OPEN]
        del results[limit:]
        if not any(j.beyond_radius for j in results):
            results.reached_km = None
        for job in results:
            job.explanation = explain_without_profiling(job, profile, self.occupation_labels)
            job.broadened_reason = job.explanation.broadened_reason
        return results


class RankedCache:
    """Ranked suggestions kept in this process for a short time, so paging back, re-opening the
    list and repeated polls do not rank (and explain) again.

    The caller keys an entry by the values the ranking read (``api.jobs.service``: a digest of
    the citizen's document, their primary CV, their answers, swipes and applications, the
    filters, the locale and the index generation), so any change to them, in this process or
    another, is a different key and never meets an old list: a withdrawn profiling consent or
    a new "not interested" answer takes effect on the next request. An entry holds personal
    data (the explanations name CV items): it lives ``ttl_s`` at most, at most ``max_entries``
    are kept (the oldest leave first), and ``forget`` drops a citizen's entries at once (their
    profile dropped, profiling off, erasure). ``ttl_s`` 0 switches the cache off.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, Hashable], tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, citizen_id: str, key: Hashable) -> object | None:
        if self.ttl_s <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get((citizen_id, key))
            if entry is None or entry[0] < now:
                if entry is not None:
                    del self._entries[(citizen_id, key)]
                self.misses += 1
                return None
            self.hits += 1
            return entry[1]

    def put(self, citizen_id: str, key: Hashable, value: object) -> None:
        if self.ttl_s <= 0:
            return
        now = time.monotonic()
        with self._lock:
            self._entries[(citizen_id, key)] = (now + self.ttl_s, value)
            self._entries.move_to_end((citizen_id, key))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
            # Expired entries leave as new ones come (oldest first), not only when looked up.
            while self._entries:
                first = next(iter(self._entries))
                if self._entries[first][0] >= now:
                    break
                del self._entries[first]

    def forget(self, citizen_id: str) -> None:
        with self._lock:
            for k in [k for k in self._entries if k[0] == citizen_id]:
                del self._entries[k]

    def __len__(self) -> int:
        return len(self._entries)
