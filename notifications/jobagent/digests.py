"""Digests (``job-digest``: "3 nye job der matcher dig: Lagermedarbejder i Kolding, ..."), daily
or weekly, topped up to five suggestions a week from the citizen's ranked suggestions, broadened
ones flagged.

The top-up ranks as the citizen's own suggestions do (``MatchingEngine.citizen_profile``), in
their order (full matches, then the same field, then outside it, the last two flagged
broadened): with profiling off on their wishes only, nothing from the CV. A job listed only
because it fits the filters (profiling off and no wishes) is no suggestion and is not added."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from matching.engine import MatchingEngine
from matching.records import OPEN

from ..directory import Directory
from ..inbox import Text, notify
from . import repository
from .repository import AgentDoc, AlertDoc

WEEKLY_MINIMUM = 5
DIGEST_EVERY = {"DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7)}


def digest_text(items: list[dict]) -> Text:
    n = len(items)
    shown = ", ".join(f"{i['title']} i {i['town']}" for i in items[:3] if i.get("title"))
    shown_en = ", ".join(f"{i['title']} in {i['town']}" for i in items[:3] if i.get("title"))
    more_da = f" og {n - 3} mere" if n > 3 else ""
    more_en = f" and {n - 3} more" if n > 3 else ""
    title_da = "1 nyt job der matcher dig" if n == 1 else f"{n} nye job der matcher dig"
    title_en = "1 new job that matches you" if n == 1 else f"{n} new jobs that match you"
    return Text(title_da, f"{title_da}: {shown}{more_da}.", title_en,
                f"{title_en}: {shown_en}{more_en}.")  # fmt: skip


async def send_digests(
    db: AsyncDatabase, engine: MatchingEngine, directory: Directory, now: datetime
) -> int:
    sent = 0
    for cadence, every in DIGEST_EVERY.items():
        async for agent in repository.digests_due(db, cadence, now - every):
            sent += await send_digest(db, engine, directory, agent, now)
    return sent


async def send_digest(
    db: AsyncDatabase, engine: MatchingEngine, directory: Directory, agent: AgentDoc,
    now: datetime,
) -> int:  # fmt: skip
    cid = agent["_id"]
    queued = await repository.queued_alerts(db, cid, 50)
    week = await repository.alerts_since(db, cid, now - timedelta(days=7))
    if week < WEEKLY_MINIMUM:
        queued += await top_up(db, engine, directory, agent, WEEKLY_MINIMUM - week, now)
    await repository.mark_digest_sent(db, cid, now)
    if not queued:
        return 0
    locales = await directory.citizen_locales(db, [cid])
    if cid not in locales:
        return 0
    made = await notify(
        db,
        recipient_id=cid,
        recipient_role="citizen",
        category="JOB_ALERTS",
        key=f"job-digest:{cid}:{now.date().isoformat()}:{agent['cadence']}",
        text=digest_text(queued),
        locale=locales[cid],
        route="/jobs/agent",
        payload_type="job-digest",
        now=now,
    )
    await repository.mark_alerts_sent(db, [q["_id"] for q in queued], now)
    return int(made)


async def top_up(
    db: AsyncDatabase, engine: MatchingEngine, directory: Directory, agent: AgentDoc,
    wanted: int, now: datetime,
) -> list[AlertDoc]:  # fmt: skip
    """Suggestions from the citizen's ranked jobs (broadened ones flagged) when the week's
    matches fall short of five. They are recorded like matches, so they come only once."""
    citizen, cv = await directory.citizen_with_cv(db, agent["_id"])
    if citizen is None or not engine.ready:
        return []
    profile = await engine.citizen_profile(db, citizen, cv)
    taken = await repository.alerted_posting_ids(db, agent["_id"])
    out: list[AlertDoc] = []
    # Ranking is CPU work: off the event loop that serves requests (as recommendedJobs does).
    ranked = await asyncio.to_thread(engine.recommend, profile, now, 50)
    for job in ranked:
        if job.posting.id in taken or job.fit == OPEN:
            continue
        doc: AlertDoc = {
            "_id": f"{agent['_id']}:{job.posting.id}",
            "citizenId": agent["_id"],
            "postingId": job.posting.id,
            "companyCvr": job.posting.company_cvr,
            "occupationId": job.posting.occupation_id,
            "title": job.posting.title,
            "town": job.posting.town,
            "score": round(job.score, 4),
            "strong": False,
            "broadened": job.broadened,
            "matchedAt": now,
            "status": "QUEUED",
            "sentAt": None,
        }
        if not await repository.insert_alert(db, doc):
            continue
        out.append(doc)
        if len(out) >= wanted:
            break
    return out
