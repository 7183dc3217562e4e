"""The job agent (jobagent): the citizen's saved job alert.

Every citizen with a profile gets a broad basic agent made from their CV (wanted and held
occupations, their radius and hours, daily digest); they can change it (occupations, radius,
hours, keywords, cadence: INSTANT for strong matches, DAILY or WEEKLY). New postings are
matched against all active agents in batches (``matching.alerts``), never twice for the same
posting and never for a repost (same company and same occupation within 30 days). Strong
matches on INSTANT agents are pushed at once (``job-alert``); the rest wait for the digest
(``job-digest``: "3 nye job der matcher dig: Lagermedarbejder i Kolding, ..."). A digest tops up
to five suggestions a week from the citizen's ranked suggestions, broadened ones flagged.

One API instance at a time runs the agent loop (a lease in ``locks``); every write is keyed, so
a second run, or two instances, never alert twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from bson import Binary
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from matching.alerts import AgentIndex, AgentMatch, AgentRecord
from matching.embeddings import content_hash
from matching.engine import MatchingEngine
from matching.ranking import PostingRecord
from store import collections as c
from store.indexes import IndexSpec

from .inbox import Text, notify

log = logging.getLogger(__name__)

INDEXES: list[IndexSpec] = [
    IndexSpec(c.JOB_AGENTS, (("active", 1), ("updatedAt", 1)), "job_agents_active"),
    IndexSpec(c.AGENT_ALERTS, (("citizenId", 1), ("matchedAt", -1)), "agent_alerts_citizen"),
    IndexSpec(
        c.AGENT_ALERTS,
        (("citizenId", 1), ("companyCvr", 1), ("occupationId", 1), ("matchedAt", -1)),
        "agent_alerts_repost",
    ),
    IndexSpec(c.AGENT_ALERTS, (("status", 1), ("citizenId", 1)), "agent_alerts_status"),
    IndexSpec(c.POSTINGS, (("postedAt", 1),), "postings_posted"),
]

CADENCES = ("INSTANT", "DAILY", "WEEKLY")
REPOST_WINDOW = timedelta(days=30)
WEEKLY_MINIMUM = 5
DIGEST_EVERY = {"DAILY": timedelta(days=1), "WEEKLY": timedelta(days=7)}
LOCK = "job-agent"


# --- the agent itself ---------------------------------------------------------------------------
def agent_text(labels: list[str], keywords: list[str]) -> str:
    parts = []
    if labels:
        parts.append("Søger job som " + ", ".join(labels))
    if keywords:
        parts.append("Nøgleord: " + ", ".join(keywords))
    return ". ".join(parts)


async def agent_vector(engine: MatchingEngine, occupation_ids: list[str], keywords: list[str]):
    labels = [
        engine.occupation_labels[o][0] for o in occupation_ids if o in engine.occupation_labels
    ]
    text = agent_text(labels, keywords)
    if not text:
        return None, None
    # Without keywords the text is only public occupation names: the shared cache may keep it.
    encode = engine.embedder.encode if not keywords else engine.embedder.encode_uncached
    vector = (await asyncio.to_thread(encode, [text]))[0]
    return Binary(vector.astype(np.float32).tobytes()), content_hash(engine.embedder.model_id, text)


def basic_settings(citizen: Mapping, cv: Mapping | None) -> dict:
    """A broad agent from the CV: the occupations wanted and held, the citizen's radius and
    hours, a daily digest."""
    prefs = citizen.get("preferences", {})
    occupations = list(prefs.get("occupationIds", []))
    for job in (cv or {}).get("workHistory", []):
        if job.get("occupationId") and job["occupationId"] not in occupations:
            occupations.append(job["occupationId"])
    return {
        "occupationIds": occupations[:20],
        "radiusKm": int(prefs.get("radiusKm", 30)),
        "hours": prefs.get("hours", "ANY"),
        "keywords": [],
        "cadence": "DAILY",
        "active": True,
    }


async def get_agent(db: AsyncDatabase, citizen_id: str) -> dict | None:
    return await db[c.JOB_AGENTS].find_one({"_id": citizen_id})


async def ensure_agent(
    db: AsyncDatabase, engine: MatchingEngine, citizen: Mapping, cv: Mapping | None
) -> dict:
    """The citizen's agent; a basic one is made from the CV the first time."""
    existing = await get_agent(db, citizen["_id"])
    if existing is not None:
        return existing
    return await save_agent(db, engine, citizen, basic_settings(citizen, cv), auto=True)


async def sync_basic_agent(
    db: AsyncDatabase, engine: MatchingEngine, citizen: Mapping, cv: Mapping | None
) -> dict | None:
    """After a CV or wishes change: an agent the citizen never edited follows the CV; an
    edited one is left as the citizen set it."""
    existing = await get_agent(db, citizen["_id"])
    if existing is not None and not existing.get("auto"):
        return existing
    fields = basic_settings(citizen, cv)
    if existing is not None and all(existing.get(k) == v for k, v in fields.items()):
        return existing
    return await save_agent(db, engine, citizen, fields, auto=True)


async def save_agent(
    db: AsyncDatabase, engine: MatchingEngine, citizen: Mapping, fields: dict, auto: bool = False
) -> dict:
    now = datetime.now(UTC)
    lon, lat = citizen["location"]["coordinates"]
    vector, vhash = await agent_vector(engine, fields["occupationIds"], fields["keywords"])
    doc = {
        **fields,
        "lat": lat,
        "lon": lon,
        "vector": vector,
        "vectorHash": vhash,
        "auto": auto,
        "updatedAt": now,
    }
    return await db[c.JOB_AGENTS].find_one_and_update(
        {"_id": citizen["_id"]},
        {"$set": doc, "$setOnInsert": {"createdAt": now, "lastDigestAt": now}},
        upsert=True,
        return_document=True,
    )


async def ensure_agents_for_all(db: AsyncDatabase, engine: MatchingEngine) -> int:
    """Give every citizen with a profile and no agent the basic one (start-up, demo data),
    embedding all their texts in one batch."""
    have = {d["_id"] async for d in db[c.JOB_AGENTS].find({}, {"_id": 1})}
    # A full scan with a set check: $nin with a long list is slow on the embedded server.
    citizens = [d async for d in db[c.CITIZENS].find({}) if d["_id"] not in have]
    if not citizens:
        return 0
    cvs = {
        d["citizenId"]: d
        async for d in db[c.CVS].find(
            {"citizenId": {"$in": [x["_id"] for x in citizens]}, "primary": True}
        )
    }
    settings = [basic_settings(x, cvs.get(x["_id"])) for x in citizens]
    texts = [
        agent_text([engine.occupation_labels[o][0] for o in s["occupationIds"]
                    if o in engine.occupation_labels], [])
        for s in settings
    ]  # fmt: skip
    vectors = await asyncio.to_thread(engine.embedder.encode, [t or "-" for t in texts])
    now = datetime.now(UTC)
    ops = []
    for citizen, fields, text, vector in zip(citizens, settings, texts, vectors, strict=True):
        lon, lat = citizen["location"]["coordinates"]
        doc = {
            **fields, "lat": lat, "lon": lon, "auto": True, "updatedAt": now,
            "vector": Binary(vector.astype(np.float32).tobytes()) if text else None,
            "vectorHash": content_hash(engine.embedder.model_id, text) if text else None,
        }  # fmt: skip
        ops.append(
            UpdateOne(
                {"_id": citizen["_id"]},
                {"$setOnInsert": doc | {"createdAt": now, "lastDigestAt": now}},
                upsert=True,
            )
        )
    await db[c.JOB_AGENTS].bulk_write(ops, ordered=False)
    return len(ops)


def record_of(doc: Mapping, occupation_isco: Mapping[str, str]) -> AgentRecord:
    vector = np.frombuffer(doc["vector"], dtype=np.float32) if doc.get("vector") else None
    return AgentRecord(
        id=doc["_id"],
        vector=vector,
        lat=doc["lat"],
        lon=doc["lon"],
        radius_km=float(doc.get("radiusKm", 30)),
        hours=doc.get("hours", "ANY"),
        occupations={o: occupation_isco.get(o, "") for o in doc.get("occupationIds", [])},
        keywords=tuple(k.lower() for k in doc.get("keywords", [])),
    )


# --- matching new postings -------------------------------------------------------------------------
class AgentMatcher:
    """Keeps the agent index of this process current and matches batches of new postings."""

    def __init__(self, engine: MatchingEngine) -> None:
        self.engine = engine
        self.index: AgentIndex | None = None
        self.built_at: datetime | None = None

    async def refresh(self, db: AsyncDatabase) -> None:
        newest = await db[c.JOB_AGENTS].find_one({}, {"updatedAt": 1}, sort=[("updatedAt", -1)])
        stamp = newest["updatedAt"] if newest else None
        if self.index is not None and stamp == self.built_at:
            return
        docs = await db[c.JOB_AGENTS].find({"active": True}).to_list()
        self.index = AgentIndex([record_of(d, self.engine.occupation_isco) for d in docs])
        self.built_at = stamp

    async def match(self, db: AsyncDatabase, postings: list[dict]) -> list[AgentMatch]:
        await self.refresh(db)
        assert self.index is not None
        if not postings or not len(self.index):
            return []
        texts = [self.engine.posting_text(p) for p in postings]
        vectors = await asyncio.to_thread(self.engine.embedder.encode, texts)
        records = [PostingRecord.from_doc(p) for p in postings]
        return self.index.match(records, vectors, [t.lower() for t in texts])


async def take_lease(db: AsyncDatabase, owner: str, ttl: timedelta, now: datetime) -> dict | None:
    try:
        return await db[c.LOCKS].find_one_and_update(
            {"_id": LOCK, "$or": [{"until": {"$lt": now}}, {"owner": owner}]},
            {"$set": {"owner": owner, "until": now + ttl}, "$setOnInsert": {"checkpoint": now}},
            upsert=True,
            return_document=True,
        )
    except DuplicateKeyError:  # another instance holds it
        return None


async def run_once(
    db: AsyncDatabase, engine: MatchingEngine, matcher: AgentMatcher, owner: str,
    now: datetime | None = None, ttl: timedelta = timedelta(seconds=120),
) -> dict[str, int]:  # fmt: skip
    """Match postings published since the last run, alert, and send due digests."""
    now = now or datetime.now(UTC)
    lease = await take_lease(db, owner, ttl, now)
    if lease is None or not engine.ready:
        return {"postings": 0, "matches": 0, "instant": 0, "digests": 0}
    since = lease.get("checkpoint", now)
    postings = (
        await db[c.POSTINGS]
        .find({"postedAt": {"$gt": since, "$lte": now}, "status": "OPEN", "deadline": {"$gt": now}})
        .to_list()
    )
    matches = await matcher.match(db, postings)
    instant = await record_matches(db, matches, {p["_id"]: p for p in postings}, now)
    digests = await send_digests(db, engine, now)
    await db[c.LOCKS].update_one({"_id": LOCK, "owner": owner}, {"$set": {"checkpoint": now}})
    return {"postings": len(postings), "matches": len(matches), "instant": instant,
            "digests": digests}  # fmt: skip


async def record_matches(
    db: AsyncDatabase, matches: list[AgentMatch], postings: Mapping[str, dict], now: datetime
) -> int:
    """Store new matches (never the same posting twice, never a repost within 30 days) and push
    strong ones to INSTANT agents at once. Returns how many instant alerts went out."""
    if not matches:
        return 0
    citizens = sorted({m.agent_id for m in matches})
    agents = {d["_id"]: d async for d in db[c.JOB_AGENTS].find({"_id": {"$in": citizens}})}
    recent = db[c.AGENT_ALERTS].find(
        {"citizenId": {"$in": citizens}, "matchedAt": {"$gte": now - REPOST_WINDOW}},
        {"_id": 1, "citizenId": 1, "companyCvr": 1, "occupationId": 1},
    )
    seen_ids, seen_reposts = set(), set()
    async for a in recent:
        seen_ids.add(a["_id"])
        seen_reposts.add((a["citizenId"], a["companyCvr"], a["occupationId"]))
    best: dict[tuple[str, str, str], AgentMatch] = {}
    for m in sorted(matches, key=lambda m: -m.score):
        p = postings[m.posting_id]
        repost = (m.agent_id, p["companyCvr"], p["occupationId"])
        if f"{m.agent_id}:{m.posting_id}" in seen_ids or repost in seen_reposts:
            continue
        best.setdefault(repost, m)  # one alert per company and occupation in a batch
    ops, instant = [], []
    for (cid, cvr, occupation), m in best.items():
        agent = agents.get(cid)
        if agent is None:
            continue
        now_alert = agent.get("cadence") == "INSTANT" and m.strong
        ops.append(
            UpdateOne(
                {"_id": f"{cid}:{m.posting_id}"},
                {"$setOnInsert": {
                    "citizenId": cid, "postingId": m.posting_id, "companyCvr": cvr,
                    "occupationId": occupation, "title": postings[m.posting_id]["title"],
                    "town": postings[m.posting_id].get("town", ""), "score": m.score,
                    "strong": m.strong, "broadened": False, "matchedAt": now,
                    "status": "SENT" if now_alert else "QUEUED",
                    "sentAt": now if now_alert else None,
                }},
                upsert=True,
            )
        )  # fmt: skip
        if now_alert:
            instant.append((cid, postings[m.posting_id]))
    if ops:
        await db[c.AGENT_ALERTS].bulk_write(ops, ordered=False)
    locales = {
        d["_id"]: d.get("locale", "da")
        async for d in db[c.CITIZENS].find(
            {"_id": {"$in": [c_ for c_, _ in instant]}}, {"locale": 1}
        )
    }
    for cid, p in instant:
        locale = locales.get(cid, "da")
        where = p.get("town") or ""
        await notify(
            db,
            recipient_id=cid,
            recipient_role="citizen",
            category="JOB_ALERTS",
            key=f"job-alert:{cid}:{p['_id']}",
            text=Text(
                "Nyt job der matcher dig",
                f"{p['title']} hos {p.get('companyName', '')} i {where}.",
                "A new job that matches you",
                f"{p['title']} at {p.get('companyName', '')} in {where}.",
            ),
            locale=locale,
            route=f"/jobs/{p['_id']}",
            payload_type="job-alert",
            now=now,
        )
    return len(instant)


# --- digests -----------------------------------------------------------------------------------------
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


async def send_digests(db: AsyncDatabase, engine: MatchingEngine, now: datetime) -> int:
    sent = 0
    for cadence, every in DIGEST_EVERY.items():
        cursor = db[c.JOB_AGENTS].find(
            {"active": True, "cadence": cadence, "lastDigestAt": {"$lte": now - every}}
        )
        async for agent in cursor:
            sent += await send_digest(db, engine, agent, now)
    return sent


async def send_digest(db: AsyncDatabase, engine: MatchingEngine, agent: dict, now: datetime) -> int:
    cid = agent["_id"]
    queued = await db[c.AGENT_ALERTS].find({"citizenId": cid, "status": "QUEUED"}).sort(
        "score", -1).to_list(50)  # fmt: skip
    week = await db[c.AGENT_ALERTS].count_documents(
        {"citizenId": cid, "matchedAt": {"$gte": now - timedelta(days=7)}}
    )
    if week < WEEKLY_MINIMUM:
        queued += await top_up(db, engine, agent, WEEKLY_MINIMUM - week, now)
    await db[c.JOB_AGENTS].update_one({"_id": cid}, {"$set": {"lastDigestAt": now}})
    if not queued:
        return 0
    citizen = await db[c.CITIZENS].find_one({"_id": cid}, {"locale": 1})
    if citizen is None:
        return 0
    made = await notify(
        db,
        recipient_id=cid,
        recipient_role="citizen",
        category="JOB_ALERTS",
        key=f"job-digest:{cid}:{now.date().isoformat()}:{agent['cadence']}",
        text=digest_text(queued),
        locale=citizen.get("locale", "da"),
        route="/jobs/agent",
        payload_type="job-digest",
        now=now,
    )
    await db[c.AGENT_ALERTS].update_many(
        {"_id": {"$in": [q["_id"] for q in queued]}}, {"$set": {"status": "SENT", "sentAt": now}}
    )
    return int(made)


async def top_up(
    db: AsyncDatabase, engine: MatchingEngine, agent: dict, wanted: int, now: datetime
) -> list[dict]:
    """Suggestions from the citizen's ranked jobs (broadened ones flagged) when the week's
    matches fall short of five. They are recorded like matches, so they come only once."""
    citizen = await db[c.CITIZENS].find_one({"_id": agent["_id"]})
    if citizen is None or not engine.ready:
        return []
    cv = await db[c.CVS].find_one({"citizenId": agent["_id"], "primary": True})
    profile = await engine.citizen_profile(db, citizen, cv)
    taken = {
        d["postingId"]
        async for d in db[c.AGENT_ALERTS].find({"citizenId": agent["_id"]}, {"postingId": 1})
    }
    out: list[dict[str, Any]] = []
    for job in engine.recommend(profile, now, 50):
        if job.posting.id in taken:
            continue
        doc = {
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
        try:
            await db[c.AGENT_ALERTS].insert_one(doc)
        except DuplicateKeyError:
            continue
        out.append(doc)
        if len(out) >= wanted:
            break
    return out


async def run_forever(
    db: AsyncDatabase, engine: MatchingEngine, owner: str, every_s: float
) -> None:
    matcher = AgentMatcher(engine)
    while True:
        try:
            figures = await run_once(db, engine, matcher, owner)
            if figures["matches"] or figures["digests"]:
                log.info("job agent", extra=figures)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job agent run failed; will retry")
        await asyncio.sleep(every_s)


async def alerts_page(db: AsyncDatabase, citizen_id: str, first: int, after) -> list[dict]:
    from store.queries import newest_first_page

    return await newest_first_page(
        db, c.AGENT_ALERTS, {"citizenId": citizen_id}, "matchedAt", first, after
    )
