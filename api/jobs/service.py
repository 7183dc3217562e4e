"""Job suggestions for the signed-in citizen."""

from __future__ import annotations

from datetime import UTC, datetime

from api.auth.actor import Actor
from api.citizens import repository as citizens
from core.errors import BadUserInput, NotFound, Unavailable
from matching.engine import MatchingEngine
from matching.ranking import Filters, RankedJob

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
) -> tuple[list[RankedJob], bool, bool]:
    """One page of suggestions, whether more exist, and whether profiling was used."""
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
    cv = await citizens.primary_cv(db, actor.id)
    profile = await engine.citizen_profile(db, citizen, cv, locale=locale)
    limit = min(offset + first + 1, MAX_RESULTS)
    ranked = engine.recommend(profile, datetime.now(UTC), limit, filters)
    page = ranked[offset : offset + first]
    return page, len(ranked) > offset + first, profile.vector is not None
