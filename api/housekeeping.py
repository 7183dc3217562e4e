"""Periodic work of every API instance: postings past their deadline leave the index,
postings changed through another instance are brought into this instance's index, unanswered
meeting requests expire with a kind notice, and meeting reminders go out 24 h and 1 h before.

Every step is idempotent (conditional updates, notification keys), so several instances may
run it at the same time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.settings import Settings
from matching.engine import MatchingEngine

from .jobs import repository as jobs
from .meetings import housekeeping as meetings

log = logging.getLogger(__name__)


@dataclass
class SyncState:
    since: datetime = field(default_factory=lambda: datetime.now(UTC))


async def run_once(
    db, settings: Settings, engine: MatchingEngine, state: SyncState, now: datetime | None = None
) -> dict[str, int]:
    now = now or datetime.now(UTC)
    expired = await jobs.expire_postings(db, now)
    for posting_id in expired:
        engine.remove_posting(posting_id)
    synced = 0
    if engine.ready:
        for doc in await jobs.postings_changed_since(db, state.since):
            await engine.upsert_posting(doc, now)
            state.since = max(state.since, doc["updatedAt"])
            synced += 1
    return {
        "postings_expired": len(expired),
        "postings_synced": synced,
        "requests_expired": await meetings.expire_requests(db, settings, now),
        "reminders_sent": await meetings.send_reminders(db, now),
    }


async def run_forever(db, settings: Settings, engine: MatchingEngine) -> None:
    state = SyncState()
    while True:
        try:
            figures = await run_once(db, settings, engine, state)
            if any(figures.values()):
                log.info("housekeeping", extra=figures)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("housekeeping failed; will retry")
        await asyncio.sleep(settings.housekeeping_interval_s)
