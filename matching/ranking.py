"""Ranking job postings for a citizen: FAISS candidates, hard filters, a documented score blend,
explanations, broadening, and the filter-only path for citizens who opted out of profiling.

Score = sum of weight x component, each component in [0, 1] (feedback in [-1, 1]):

| component  | weight | what it measures |
| ---        | ---    | --- |
| semantic   | 0.50   | cosine similarity of the posting's and the profile's embeddings |
| occupation | 0.25   | 1.0 same ESCO occupation, 0.6 same ISCO unit group, 0.3 same minor group, 0.1 same sub-major group, as any wanted or held occupation |
| distance   | 0.10   | exp(-km / 25): near beats far inside the radius |
| freshness  | 0.10   | halves every 10 days since posting |
| feedback   | 0.05   | the citizen's own swipes and "not interested" answers, per ISCO unit group |

A result is a *full match* when its occupation relation is at least unit level (0.6) or its
semantic similarity is at least 0.55. Related jobs (same minor or sub-major group, or
similarity >= 0.40) are *broadened* suggestions: they are added only when fewer than five full
matches were posted in the last seven days, after the full matches, flagged with their reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from .explanations import explain, explain_filter_only
from .geo import haversine_km_many
from .geoindex import GeoIndex
from .records import WEIGHTS, CitizenProfile, Filters, PostingRecord, RankedJob, Weights


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
    return hours == "ANY" or p.hours == hours


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

    def invalidate(self) -> None:
        """Call after records change (load, new or closed postings)."""
        self._by_unit = None

    def postings_by_unit(self) -> dict[str, list[str]]:
        by_unit = self._by_unit
        if by_unit is None:
            by_unit = {}
            for p in self.records.values():
                by_unit.setdefault(p.isco, []).append(p.id)
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
    ) -> list[RankedJob]:
        filters = filters or Filters()
        if profile.vector is None:
            return self._filter_only(profile, now, limit, filters)
        w = self.weights
        radius = filters.radius_km or profile.radius_km
        hours = filters.hours or profile.hours
        words = (filters.search or "").lower().split()
        known = {
            **profile.wanted,
            **{h.occupation_id: h.isco for h in profile.history if h.occupation_id},
        }
        # Candidates: the semantic top-k within the radius cells, plus every posting of the
        # citizen's own ISCO unit groups (found through the inverted index, so a rare trade's
        # few local postings are never crowded out of the semantic top-k).
        hits = dict(self.index.search(profile.vector, oversample, profile.lat, profile.lon, radius))
        units = {u for u in known.values() if u}
        extra = [
            pid for u in units for pid in self.postings_by_unit().get(u, ()) if pid not in hits
        ]
        if extra:
            for pid, v in self.index.vectors(extra).items():
                hits[pid] = float(np.dot(v, profile.vector))
        candidates = [
            (self.records[pid], sim)
            for pid, sim in hits.items()
            if pid in self.records
            and _passes(self.records[pid], profile, now, hours)
            and (not words or _matches_search(self.records[pid], words))
        ]
        if candidates:
            lat = np.fromiter((p.lat for p, _ in candidates), float, len(candidates))
            lon = np.fromiter((p.lon for p, _ in candidates), float, len(candidates))
            km = haversine_km_many(profile.lat, profile.lon, lat, lon)
        else:
            km = np.zeros(0)
        full: list[RankedJob] = []
        related: list[RankedJob] = []
        for (p, sim), dist in zip(candidates, km.tolist(), strict=True):
            if dist > radius:
                continue
            relation = occupation_relation(p, known)
            is_full = relation >= w.full_match_relation or sim >= w.full_match_semantic
            if not is_full and relation < 0.1 and sim < w.related_semantic:
                continue
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
            job = RankedJob(p, score, not is_full, None, None, components)  # type: ignore[arg-type]
            job.components["distance_km"] = dist
            (full if is_full else related).append(job)
        full.sort(key=lambda j: -j.score)
        related.sort(key=lambda j: -j.score)
        week_ago = now - timedelta(days=7)
        recent_full = sum(1 for j in full if j.posting.posted_at >= week_ago)
        results = full[:limit]
        if recent_full < w.broaden_below_per_week and len(results) < limit:
            results += related[: limit - len(results)]
        for job in results:
            job.explanation = explain(job, profile, self.occupation_labels)
            if job.broadened:
                job.broadened_reason = job.explanation.broadened_reason
        return results

    def _filter_only(
        self, profile: CitizenProfile, now: datetime, limit: int, filters: Filters
    ) -> list[RankedJob]:
        """No profile embedding: plain filters and search, newest first, no CV matching."""
        radius = filters.radius_km or profile.radius_km
        hours = filters.hours or profile.hours
        words = (filters.search or "").lower().split()
        candidates = [
            p
            for p in self.records.values()
            if _passes(p, profile, now, hours) and (not words or _matches_search(p, words))
        ]
        if not candidates:
            return []
        lat = np.fromiter((p.lat for p in candidates), float, len(candidates))
        lon = np.fromiter((p.lon for p in candidates), float, len(candidates))
        km = haversine_km_many(profile.lat, profile.lon, lat, lon)
        inside = [(p, d) for p, d in zip(candidates, km.tolist(), strict=True) if d <= radius]
        inside.sort(key=lambda pd: (pd[0].posted_at, pd[0].id), reverse=True)
        return [
            RankedJob(
                p, 0.0, False, None, explain_filter_only(p, d, profile.locale), {"distance_km": d}
            )
            for p, d in inside[:limit]
        ]
