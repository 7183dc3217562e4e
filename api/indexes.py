"""Every index the app declares, collected from the repositories that own them, and the
start-up step that creates them and fills fields added to existing documents since."""

from __future__ import annotations

from notifications import devices, inbox, jobagent, outbox, preferences
from store import health
from store.indexes import IndexSpec, ensure_indexes
from store.migrations import run_once

from .citizens import repository as citizens
from .companies import repository as companies
from .joblog import repository as joblog
from .jobs import repository as jobs
from .meetings import repository as meetings
from .offers import repository as offers
from .privacy import repository as privacy
from .taxonomy import repository as taxonomy


def all_index_specs() -> list[IndexSpec]:
    return [
        *companies.INDEXES,
        *taxonomy.INDEXES,
        *jobs.INDEXES,
        *jobs.FEEDBACK_INDEXES,
        *jobs.EMPLOYER_INDEXES,
        *offers.INDEXES,
        *meetings.INDEXES,
        *citizens.INDEXES,
        *joblog.INDEXES,
        *privacy.INDEXES,
        *outbox.INDEXES,
        *inbox.INDEXES,
        *devices.INDEXES,
        *preferences.INDEXES,
        *jobagent.INDEXES,
        *health.INDEXES,
    ]


async def prepare_collections(db) -> None:
    """Indexes, then one-off fixes for documents older than a field (each runs once)."""
    await ensure_indexes(db, all_index_specs())
    await run_once(db, "offers.deckArea", offers.fill_missing_deck_areas)
