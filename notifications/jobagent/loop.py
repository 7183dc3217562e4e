"""The agent loop: one API instance at a time (a lease) matches the postings published since the
last run, alerts, and sends the digests that are due. Every write is keyed, so a second run, or
two instances, never alert twice."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pymongo
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, PyMongoError

from matching.engine import MatchingEngine

from ..directory import Directory
from . import repository
from .alerts import record_matches
from .digests import send_digests
from .matcher import AgentMatcher

log = logging.getLogger("notifications.jobagent")
RUN_TIMEOUT_S = 120.0  # a run's database budget (all of its calls together)


async def take_lease(db: AsyncDatabase, owner: str, ttl: timedelta, now: datetime) -> dict | None:
    return await repository.take_lease(db, owner, ttl, now)


async def run_once(
    db: AsyncDatabase, engine: MatchingEngine, directory: Directory, matcher: AgentMatcher,
    owner: str, now: datetime | None = None, ttl: timedelta = timedelta(seconds=120),
) -> dict[str, int]:  # fmt: skip
    """Match postings published since the last run, alert, and send due digests."""
    now = now or datetime.now(UTC)
    lease = await repository.take_lease(db, owner, ttl, now)
    if lease is None or not engine.ready:
        return {"postings": 0, "matches": 0, "instant": 0, "digests": 0}
    since = lease.get("checkpoint", now)
    postings = await directory.postings_published(db, since, now)
    matches = await matcher.match(db, postings)
    instant = await record_matches(db, directory, matches, {p["_id"]: p for p in postings}, now)
    digests = await send_digests(db, engine, directory, now)
    await repository.move_checkpoint(db, owner, now)
    return {"postings": len(postings), "matches": len(matches), "instant": instant,
            "digests": digests}  # fmt: skip


async def run_forever(
    db: AsyncDatabase, engine: MatchingEngine, directory: Directory, owner: str, every_s: float
) -> None:
    matcher = AgentMatcher(engine)
    while True:
        try:
            # A run reads whole batches: its own budget, not the per-call limit of requests.
            with pymongo.timeout(RUN_TIMEOUT_S):
                figures = await run_once(db, engine, directory, matcher, owner)
            if figures["matches"] or figures["digests"]:
                log.info("job agent", extra=figures)
        except asyncio.CancelledError:
            raise
        except PyMongoError as exc:
            if isinstance(exc, ConnectionFailure) or exc.timeout:
                log.warning("job agent run skipped: database unavailable; will retry")
            else:
                log.exception("job agent run failed; will retry")
        except Exception:
            log.exception("job agent run failed; will retry")
        await asyncio.sleep(every_s)
