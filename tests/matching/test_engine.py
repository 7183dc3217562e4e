"""The engine with the real bundled model over a seeded database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from matching.engine import EngineConfig, MatchingEngine
from seed import demo
from store import collections as c
from store.client import Store


def run(coro):
    return asyncio.run(coro)


async def _with_db(world, fn):
    store = Store(world["uri"], world["name"])
    try:
        return await fn(store.db)
    finally:
        await store.close()


def test_load_indexes_open_postings(matching_world):
    engine, report = matching_world["engine"], matching_world["report"]

    async def open_count(db):
        query = {"status": "OPEN", "deadline": {"$gte": datetime.now(UTC)}}
        return await db[c.POSTINGS].count_documents(query)

    assert report.postings == len(engine.records) == len(engine.index)
    assert report.postings == run(_with_db(matching_world, open_count)) > 150
    assert report.index_kind == "flat" and not report.from_disk


def test_second_load_reuses_the_saved_index(matching_world, embedder):
    again = MatchingEngine(embedder, EngineConfig(index_dir=matching_world["index_dir"]))
    report = run(_with_db(matching_world, again.load))
    assert report.from_disk and report.embedded == 0
    assert report.postings == matching_world["report"].postings


def test_changed_posting_invalidates_the_manifest(matching_world, embedder, tmp_path):
    async def scenario(db):
        engine = MatchingEngine(embedder, EngineConfig(index_dir=tmp_path))
        first = await engine.load(db)
        some = await db[c.POSTINGS].find_one(
            {
                "status": "OPEN",
                "source": "seed",
                "deadline": {"$gte": datetime.now(UTC) + timedelta(days=1)},
            }
        )
        await db[c.POSTINGS].update_one({"_id": some["_id"]}, {"$set": {"title": "Helt ny titel"}})
        try:
            second = await MatchingEngine(embedder, EngineConfig(index_dir=tmp_path)).load(db)
        finally:
            await db[c.POSTINGS].update_one(
                {"_id": some["_id"]}, {"$set": {"title": some["title"]}}
            )
        return first, second

    first, second = run(_with_db(matching_world, scenario))
    assert not first.from_disk and not second.from_disk
    assert second.embedded == 1  # only the changed posting was embedded again


def test_demo_citizen_gets_explained_warehouse_jobs(matching_world):
    engine = matching_world["engine"]

    async def scenario(db):
        citizen = await db[c.CITIZENS].find_one({"_id": demo.DEMO_CITIZEN_ID})
        cv = await db[c.CVS].find_one({"citizenId": demo.DEMO_CITIZEN_ID})
        profile = await engine.citizen_profile(db, citizen, cv)
        stored = await db[c.PROFILE_VECTORS].find_one({"_id": demo.DEMO_CITIZEN_ID})
        return engine.recommend(profile, datetime.now(UTC), 10), stored

    ranked, stored = run(_with_db(matching_world, scenario))
    assert stored is not None  # profiling on: the profile vector is kept
    assert ranked, "the demo citizen must get suggestions"
    top = ranked[0]
    assert top.posting.isco[:2] in {"93", "83", "43"}
    assert not top.broadened
    assert top.explanation.summary.startswith("Foreslået pga. din erfaring som")
    assert top.components["distance_km"] <= 30
    scores = [j.score for j in ranked if not j.broadened]
    assert scores == sorted(scores, reverse=True)


def test_profiling_off_keeps_no_profile_vector(matching_world):
    engine = matching_world["engine"]

    async def scenario(db):
        citizen = await db[c.CITIZENS].find_one({"_id": demo.DEMO_CITIZEN_ID})
        cv = await db[c.CVS].find_one({"citizenId": demo.DEMO_CITIZEN_ID})
        await engine.citizen_profile(db, citizen, cv)  # stores a vector
        citizen["consents"] = {**citizen["consents"], "profiling": False}
        profile = await engine.citizen_profile(db, citizen, cv)
        stored = await db[c.PROFILE_VECTORS].find_one({"_id": demo.DEMO_CITIZEN_ID})
        return profile, stored, engine.recommend(profile, datetime.now(UTC), 5)

    profile, stored, ranked = run(_with_db(matching_world, scenario))
    assert profile.vector is None and stored is None
    assert ranked and all(j.score == 0.0 and not j.explanation.matched_cv_items for j in ranked)


def test_incremental_add_and_close(matching_world):
    engine = matching_world["engine"]
    now = datetime.now(UTC)
    doc = {
        "_id": "new-posting-1",
        "title": "Lagermedarbejder til nathold",
        "occupationId": demo.WAREHOUSE_WORKER,
        "iscoCode": "9333",
        "companyCvr": demo.DEMO_COMPANY_CVR,
        "companyName": "Østjysk Lager & Logistik ApS",
        "description": "Plukning og pakning om natten.",
        "requirements": [{"skill": "truckkørsel", "required": True}],
        "hours": "FULL_TIME",
        "town": "Aarhus N",
        "location": {"type": "Point", "coordinates": [10.19, 56.19]},
        "postedAt": now,
        "deadline": now + timedelta(days=20),
        "status": "OPEN",
    }
    run(engine.upsert_posting(doc))
    assert "new-posting-1" in engine.index and "new-posting-1" in engine.records
    run(engine.upsert_posting({**doc, "status": "CLOSED"}))
    assert "new-posting-1" not in engine.index and "new-posting-1" not in engine.records


@pytest.mark.parametrize(
    ("query", "expected_label"),
    [
        ("lagerarbejder", "lagerarbejder"),
        ("lagermedarbeider", "lagerarbejder"),  # typo
        ("forklift operator", "gaffeltruckfører"),  # English
        ("truckfører", "gaffeltruckfører"),
    ],
)
def test_title_normalisation(matching_world, query, expected_label):
    engine = matching_world["engine"]
    top3 = engine.normalize_title(query, 3)
    assert expected_label in [engine.occupation_labels[m.occupation_id][0] for m in top3]
