"""Issue 14: profiling off was not honoured. The deck still ranked on the CV ("Passer til din
erfaring som truckfører", fit 0.73) and suggestions ignored the wishes (a warehouse worker got
university-lecturer posts). Off: nothing from the CV ranks or explains anything (suggestions,
deck, the job agent's digest top-up); the citizen's wishes, radius, hours and contract types
still filter and order. The demo citizen (a warehouse worker and forklift driver who wishes
for warehouse and forklift work) with profiling turned off, through the real services."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from api.auth.actor import Actor, Role
from api.directory import DIRECTORY
from api.jobs import service as jobs
from api.meetings import deck
from matching.records import Filters
from notifications.jobagent import top_up
from seed import demo
from store import collections as c
from store.client import Store

CID = demo.DEMO_CITIZEN_ID
ACTOR = Actor(CID, Role.CITIZEN)


def _with_profiling_off(matching_world, fn):
    async def scenario():
        store = Store(matching_world["uri"], matching_world["name"])
        db = store.db
        await db[c.CITIZENS].update_one({"_id": CID}, {"$set": {"consents.profiling": False}})
        try:
            return await fn(db, matching_world["engine"])
        finally:
            await db[c.CITIZENS].update_one({"_id": CID}, {"$set": {"consents.profiling": True}})
            await db[c.AGENT_ALERTS].delete_many({"citizenId": CID})
            await store.close()

    return asyncio.run(scenario())


def test_suggestions_follow_the_wishes_and_nothing_from_the_cv(matching_world):
    async def fn(db, engine):
        citizen = await db[c.CITIZENS].find_one({"_id": CID})
        ranked, _, profiling, _ = await jobs.recommended_jobs(
            db, engine, ACTOR, offset=0, first=50, filters=Filters(), locale="da"
        )
        return citizen, ranked, profiling

    citizen, ranked, profiling = _with_profiling_off(matching_world, fn)
    wished_units = {demo.ISCO_OF[o] for o in citizen["preferences"]["occupationIds"]}
    assert not profiling and ranked
    for job in ranked:
        # Within the wishes (unit group, or its minor group as a flagged broadened one) ...
        assert job.posting.isco[:3] in {u[:3] for u in wished_units}, job.posting.title
        assert job.broadened == (job.posting.isco not in wished_units)
        # ... and the citizen's own filters: full time, permanent or temporary.
        assert job.posting.hours == "FULL_TIME"
        assert job.posting.contract_type in {"PERMANENT", "TEMPORARY"}
        # Nothing from the CV: no CV items, no requirements, no score.
        e = job.explanation
        assert job.score == 0.0 and not e.matched_cv_items and not e.requirements_met
        assert not any("erfaring" in r for r in e.reasons)
    fitting = [j for j in ranked if not j.broadened]
    assert fitting and fitting[0].explanation.summary.startswith("Du ønsker job som")
    tiers = [j.broadened for j in ranked]
    assert tiers == sorted(tiers)  # wished first, then the same field


def test_the_deck_ranks_on_the_wishes_only(matching_world):
    async def fn(db, engine):
        return await deck.swipe_deck(db, engine, ACTOR, 50, "da")

    cards = _with_profiling_off(matching_world, fn)
    reasons = {offer["_id"]: card.reason for offer, card in cards}
    assert not any("erfaring" in r for r in reasons.values())
    # The warehouse offer matches a wish (lagerarbejder) and says so; the video driver
    # offer matches no wish and says CV matching is off.
    assert reasons[demo.DEMO_OFFER_IDS[0]].startswith("Passer til dit jobønske:")
    assert reasons[demo.DEMO_OFFER_IDS[2]].startswith("Et kaffemøde inden for dine valg")
    for _offer, card in cards:
        assert card.components["semantic"] == 0.0 and card.components["feedback"] == 0.0
    on_field = [card.on_field for _, card in cards]
    assert on_field == sorted(on_field, reverse=True)


def test_the_digest_top_up_takes_only_wished_jobs(matching_world):
    async def fn(db, engine):
        citizen = await db[c.CITIZENS].find_one({"_id": CID})
        alerts = await top_up(db, engine, DIRECTORY, {"_id": CID}, 5, datetime.now(UTC))
        postings = {p["_id"]: p async for p in db[c.POSTINGS].find({})}
        return citizen, [postings[a["postingId"]] for a in alerts]

    citizen, alerted = _with_profiling_off(matching_world, fn)
    wished_units = {demo.ISCO_OF[o] for o in citizen["preferences"]["occupationIds"]}
    assert alerted
    assert all(p["iscoCode"][:3] in {u[:3] for u in wished_units} for p in alerted)
