"""Job suggestions for the signed-in citizen.

With profiling off nothing derived from the CV or from the citizen's behaviour ranks their
suggestions: the CV is not read and swipes are not turned into feedback; their wishes, radius,
hours, contract types and own "not interested" answers (hidden, not scored) still apply
(``matching.ranking``)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import bson

from api.auth.actor import Actor
from api.citizens import repository as citizens
from api.joblog import repository as joblog
from api.meetings import repository as meetings
from core.errors import BadUserInput, NotFound, Unavailable
from matching.engine import MatchingEngine
from matching.offers import swipe_feedback
from matching.records import WEIGHTS, Filters, RankedJobs

from . import repository


class NotInterestedReason(StrEnum):
    """Why a suggestion did not fit; used only to improve this citizen's suggestions."""

    TOO_FAR = "TOO_FAR"
    WRONG_HOURS = "WRONG_HOURS"
    NOT_MY_FIELD = "NOT_MY_FIELD"
    NOT_QUALIFIED = "NOT_QUALIFIED"
    OTHER = "OTHER"


NOT_INTERESTED_REASONS: tuple[NotInterestedReason, ...] = tuple(NotInterestedReason)
FIELD_PENALTY = 0.5  # per "not my field" answer, on that ISCO unit group, down to -1

MAX_RESULTS = 500  # how deep a citizen can page into suggestions


async def recommended_jobs(
    db,
    engine: MatchingEngine,
    actor: Actor,
    *,
    offset: int,
    first: int,
    filters: Filters,
    locale: str,
) -> tuple[RankedJobs, bool, bool, str | None]:
    """One page of suggestions (with what the ranking found about the radius), whether more
    exist, whether profiling was used, and the notice when fewer than five fitting jobs lie
    within the citizen's radius."""
    if not engine.ready:
        raise Unavailable(
            "Jobforslag er ved at blive klargjort. Prøv igen om lidt.",
            "Job suggestions are being prepared. Please try again shortly.",
        )
    if filters.radius_km is not None and not 1 <= filters.radius_km <= 500:
        raise BadUserInput("radiusKm skal være mellem 1 og 500.", "radiusKm must be 1-500.")
    if filters.search is not None and len(filters.search) > 100:
        raise BadUserInput(
            "Søgeteksten er for lang (højst 100 tegn).",
            "The search text is too long (100 characters at most).",
        )
    citizen = await citizens.get_citizen(db, actor.id)
    if citizen is None:
        raise NotFound(
            "Udfyld din profil for at få jobforslag.",
            "Fill in your profile to get job suggestions.",
        )
    profiling = citizen.get("consents", {}).get("profiling", True)
    # The other reads at once (one round trip's wait, not four); with profiling off the CV and
    # the swipes are not read.
    no_docs: list = []
    cv, answers, swipes, applied = await asyncio.gather(
        citizens.primary_cv(db, actor.id) if profiling else _none(),
        repository.feedback_of(db, actor.id),
        meetings.swipes_of(db, actor.id) if profiling else _none(no_docs),
        joblog.applied_posting_ids(db, actor.id),
    )
    excluded, feedback = feedback_signals(answers)
    if profiling:
        for unit, score in swipe_feedback(swipes).items():
            feedback[unit] = max(-1.0, min(1.0, feedback.get(unit, 0.0) + score))
    excluded |= applied  # applied to: not suggested again
    limit = min(offset + first + 1, MAX_RESULTS)
    # Everything the ranking below reads goes into the key: a change to any of it (made
    # through this process or another) is a new key, so a cached list is never out of date
    # with the data, only with the clock (freshness, deadlines) by at most the cache's TTL.
    key = _ranking_key(citizen, cv, excluded, feedback, filters, locale, engine.generation)
    cached: _Ranked | None = engine.suggestions.get(actor.id, key)  # type: ignore[assignment]
    if cached is None or not cached.covers(limit):
        profile = await engine.citizen_profile(
            db, citizen, cv, excluded=excluded, feedback=feedback, locale=locale
        )
        # Ranking is CPU work (index search, scoring, explanations): in a thread, so this
        # process's event loop keeps serving other requests meanwhile.
        ranked = await asyncio.to_thread(
            engine.recommend, profile, datetime.now(UTC), limit, filters
        )
        cached = _Ranked(
            limit, ranked, profile.vector is not None, bool(profile.wanted or profile.history)
        )
        engine.suggestions.put(actor.id, key, cached)
    ranked = cached.ranked
    page = RankedJobs(ranked[offset : offset + first])
    page.radius_km = ranked.radius_km
    page.fitting_within_radius = ranked.fitting_within_radius
    page.reached_km = ranked.reached_km
    notice = None
    if filters.radius_km is None and cached.has_wishes_or_history:
        notice = radius_notice(ranked, locale)
    return page, len(ranked) > offset + first, cached.profiled, notice


@dataclass(frozen=True, slots=True)
class _Ranked:
    """A ranked list as ``engine.suggestions`` keeps it."""

    limit: int  # how many were asked for
    ranked: RankedJobs
    profiled: bool  # ranked on a profile vector
    has_wishes_or_history: bool

    def covers(self, limit: int) -> bool:
        """Whether the first ``limit`` results are all here (asked for, or none beyond)."""
        return self.limit >= limit or len(self.ranked) < self.limit


async def _none(value=None):
    return value


def _ranking_key(
    citizen: dict,
    cv: dict | None,
    excluded: set[str],
    feedback: dict[str, float],
    filters: Filters,
    locale: str,
    generation: int,
) -> str:
    """A digest of what a citizen's ranking reads: their document (consents, preferences,
    place), their primary CV, the postings excluded and the feedback, the filters, the locale
    and the engine's generation of postings."""
    h = hashlib.blake2b(digest_size=16)
    h.update(bson.encode(citizen))
    h.update(bson.encode(cv) if cv is not None else b"-")
    h.update("\x1f".join(sorted(excluded)).encode())
    h.update(repr(sorted(feedback.items())).encode())
    h.update(repr((filters.radius_km, filters.hours, filters.search, locale, generation)).encode())
    return h.hexdigest()


def radius_notice(ranked: RankedJobs, locale: str) -> str | None:
    """Said when fewer than five fitting jobs lie within the radius (and so the nearest
    fitting ones beyond it, if any, were added)."""
    n, radius = ranked.fitting_within_radius, ranked.radius_km
    if n >= WEIGHTS.fitting_within_radius:
        return None
    da_count = (
        "Der er ingen job" if n == 0 else ("Der er kun 1 job" if n == 1 else f"Der er kun {n} job")
    )
    en_count = (
        "There are no jobs"
        if n == 0
        else ("There is only 1 job" if n == 1 else f"There are only {n} jobs")
    )
    da = f"{da_count} inden for din radius på {radius:.0f} km, der passer til dig."
    en = f"{en_count} within your radius of {radius:.0f} km that fit you."
    if ranked.reached_km is not None:
        da += f" Vi viser også de nærmeste op til {ranked.reached_km:.0f} km væk."
        en += f" We also show the nearest ones up to {ranked.reached_km:.0f} km away."
    return en if locale == "en" else da


def feedback_signals(answers: list[dict]) -> tuple[set[str], dict[str, float]]:
    """What the citizen's own answers mean for ranking: answered postings are not shown again;
    "not my field" lowers that ISCO unit group. Used only to help this citizen."""
    excluded = {a["postingId"] for a in answers}
    feedback: dict[str, float] = {}
    for a in answers:
        if a["reason"] == "NOT_MY_FIELD" and a.get("iscoCode"):
            feedback[a["iscoCode"]] = max(-1.0, feedback.get(a["iscoCode"], 0.0) - FIELD_PENALTY)
    return excluded, feedback


async def mark_not_interested(db, actor: Actor, posting_id: str, reason: str) -> dict:
    if reason not in NOT_INTERESTED_REASONS:
        raise BadUserInput("Ukendt begrundelse.", "Unknown reason.")
    posting = await repository.get_posting(db, posting_id)
    if posting is None:
        raise NotFound("Jobopslaget findes ikke.", "The job posting does not exist.")
    return await repository.save_feedback(
        db,
        {
            "_id": f"{actor.id}:{posting_id}",
            "citizenId": actor.id,
            "postingId": posting_id,
            "iscoCode": posting.get("iscoCode"),
            "reason": reason,
            "createdAt": datetime.now(UTC),
        },
    )


async def undo_not_interested(db, actor: Actor, posting_id: str) -> bool:
    if not await repository.delete_feedback(db, actor.id, posting_id):
        raise NotFound("Der er intet svar at fortryde.", "There is no answer to undo.")
    return True
