"""New matches recorded as alerts (never the same posting twice, never a repost of the same
company and occupation within 30 days), and the instant push for strong matches."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from matching.alerts import AgentMatch

from ..directory import Directory
from ..inbox import Text, notify
from . import repository
from .repository import AlertDoc

REPOST_WINDOW = timedelta(days=30)


def alert_doc(
    citizen_id: str, posting: Mapping, match: AgentMatch, now: datetime, *, sent: bool
) -> AlertDoc:
    return {
        "_id": f"{citizen_id}:{posting['_id']}",
        "citizenId": citizen_id,
        "postingId": posting["_id"],
        "companyCvr": posting["companyCvr"],
        "occupationId": posting["occupationId"],
        "title": posting["title"],
        "town": posting.get("town", ""),
        "score": match.score,
        "strong": match.strong,
        "broadened": False,
        "matchedAt": now,
        "status": "SENT" if sent else "QUEUED",
        "sentAt": now if sent else None,
    }


def instant_text(posting: Mapping) -> Text:
    where = posting.get("town") or ""
    company = posting.get("companyName", "")
    return Text(
        "Nyt job der matcher dig",
        f"{posting['title']} hos {company} i {where}.",
        "A new job that matches you",
        f"{posting['title']} at {company} in {where}.",
    )


async def record_matches(
    db: AsyncDatabase,
    directory: Directory,
    matches: list[AgentMatch],
    postings: Mapping[str, dict],
    now: datetime,
) -> int:
    """Store new matches and push strong ones to INSTANT agents at once. Returns how many
    instant alerts went out."""
    if not matches:
        return 0
    citizens = sorted({m.agent_id for m in matches})
    agents = await repository.agents_by_ids(db, citizens)
    seen_ids, seen_reposts = set(), set()
    for a in await repository.recent_alerts(db, citizens, now - REPOST_WINDOW):
        seen_ids.add(a["_id"])
        seen_reposts.add((a["citizenId"], a["companyCvr"], a["occupationId"]))
    best: dict[tuple[str, str, str], AgentMatch] = {}
    for m in sorted(matches, key=lambda m: -m.score):
        p = postings[m.posting_id]
        repost = (m.agent_id, p["companyCvr"], p["occupationId"])
        if f"{m.agent_id}:{m.posting_id}" in seen_ids or repost in seen_reposts:
            continue
        best.setdefault(repost, m)  # one alert per company and occupation in a batch
    docs, instant = [], []
    for (cid, _cvr, _occupation), m in best.items():
        agent = agents.get(cid)
        if agent is None:
            continue
        now_alert = agent.get("cadence") == "INSTANT" and m.strong
        docs.append(alert_doc(cid, postings[m.posting_id], m, now, sent=now_alert))
        if now_alert:
            instant.append((cid, postings[m.posting_id]))
    await repository.insert_alerts_once(db, docs)
    locales = await directory.citizen_locales(db, [cid for cid, _ in instant])
    for cid, p in instant:
        await notify(
            db,
            recipient_id=cid,
            recipient_role="citizen",
            category="JOB_ALERTS",
            key=f"job-alert:{cid}:{p['_id']}",
            text=instant_text(p),
            locale=locales.get(cid, "da"),
            route=f"/jobs/{p['_id']}",
            payload_type="job-alert",
            now=now,
        )
    return len(instant)
