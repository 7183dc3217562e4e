"""The engine with the real bundled model over a seeded database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from matching.engine import EngineConfig, MatchingEngine
from seed import demo
from store import collections as c
from store.client import Store
from tests.matching.world import load_engine


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
    report = run(_with_db(matching_world, lambda db: load_engine(again, db)))
    assert report.from_disk and report.embedded == 0
    assert report.postings == matching_world["report"].postings


def test_changed_posting_invalidates_the_manifest(matching_world, embedder, tmp_path):
    async def scenario(db):
        engine = MatchingEngine(embedder, EngineConfig(index_dir=tmp_path))
        first = await load_engine(engine, db)
        some = await db[c.POSTINGS].find_one(
            {
                "status": "OPEN",
                "source": "seed",
                "deadline": {"$gte": datetime.now(UTC) + timedelta(days=1)},
            }
        )
        await db[c.POSTINGS].update_one({"_id": some["_id"]}, {"$set": {"title": "Helt ny titel"}})
        try:
            again = MatchingEngine(embedder, EngineConfig(index_dir=tmp_path))
            second = await load_engine(again, db)
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
        before = await db[c.PROFILE_VECTORS].find_one({"_id": demo.DEMO_CITIZEN_ID})
        profile = await engine.citizen_profile(db, citizen, cv)
        after = await db[c.PROFILE_VECTORS].find_one({"_id": demo.DEMO_CITIZEN_ID})
        return engine.recommend(profile, datetime.now(UTC), 10), profile, before, after

    ranked, profile, before, after = run(_with_db(matching_world, scenario))
    assert profile.vector is not None  # profiling on: matched on the CV
    assert after == before  # reading a profile stores nothing
    assert ranked, "the demo citizen must get suggestions"
    top = ranked[0]
    assert top.posting.isco[:2] in {"93", "83", "43"}
    assert not top.broadened
    assert top.explanation.summary.startswith("Foreslået pga. din erfaring som")
    assert top.components["distance_km"] <= 30
    scores = [j.score for j in ranked if not j.broadened]
    assert scores == sorted(scores, reverse=True)


def _wanted(engine: MatchingEngine, citizen: dict) -> list[str]:
    wanted = citizen.get("preferences", {}).get("occupationIds", [])
    return [o for o in wanted if o in engine.occupation_isco]


def test_profile_vectors_are_written_on_change_and_only_read_when_reading(matching_world):
    engine = matching_world["engine"]
    cid = demo.DEMO_CITIZEN_ID

    async def stored(db):
        return await db[c.PROFILE_VECTORS].find_one({"_id": cid})

    async def scenario(db):
        citizen = await db[c.CITIZENS].find_one({"_id": cid})
        cv = await db[c.CVS].find_one({"citizenId": cid})
        await engine.forget_profile(db, cid)
        try:
            in_memory = (await engine.citizen_profile(db, citizen, cv)).vector
            none_yet = await stored(db)
            written = await engine.profile_vector(db, cid, cv, _wanted(engine, citizen))
            kept = await stored(db)
            reused = (await engine.citizen_profile(db, citizen, cv)).vector
            changed_cv = {**cv, "skills": [*cv.get("skills", []), "svejsning"]}
            stale = (await engine.citizen_profile(db, citizen, changed_cv)).vector
            return in_memory, none_yet, written, kept, reused, stale, await stored(db)
        finally:
            await engine.forget_profile(db, cid)

    in_memory, none_yet, written, kept, reused, stale, last = run(
        _with_db(matching_world, scenario)
    )
    # A read embeds in memory and stores nothing; a change stores the same vector.
    assert none_yet is None and np.allclose(in_memory, written, atol=1e-5)
    assert kept is not None and np.array_equal(np.frombuffer(kept["v"], np.float32), written)
    # A read uses a stored vector of the current profile text ...
    assert np.array_equal(reused, written)
    # ... and, once the profile changed, embeds the new text without replacing the stored one.
    assert not np.allclose(stale, written) and last == kept


def test_profiling_off_keeps_no_profile_vector(matching_world):
    engine = matching_world["engine"]

    async def scenario(db):
        citizen = await db[c.CITIZENS].find_one({"_id": demo.DEMO_CITIZEN_ID})
        cv = await db[c.CVS].find_one({"citizenId": demo.DEMO_CITIZEN_ID})
        await engine.profile_vector(db, citizen["_id"], cv, _wanted(engine, citizen))  # stored
        citizen["consents"] = {**citizen["consents"], "profiling": False}
        # The opt-out removes the stored vector (in its transaction, api.citizens.service) ...
        await engine.forget_profile(db, citizen["_id"])
        # ... and a profile read while opted out neither uses nor stores one.
        profile = await engine.citizen_profile(db, citizen, cv)
        stored = await db[c.PROFILE_VECTORS].find_one({"_id": demo.DEMO_CITIZEN_ID})
        return profile, stored, engine.recommend(profile, datetime.now(UTC), 5)

    profile, stored, ranked = run(_with_db(matching_world, scenario))
    assert profile.vector is None and stored is None
    assert ranked and all(j.score == 0.0 and not j.explanation.matched_cv_items for j in ranked)


def test_a_profile_read_while_opted_out_ignores_a_left_over_vector(matching_world):
    engine = matching_world["engine"]
    cid = demo.DEMO_CITIZEN_ID

    async def scenario(db):
        citizen = await db[c.CITIZENS].find_one({"_id": cid})
        cv = await db[c.CVS].find_one({"citizenId": cid})
        await engine.profile_vector(db, cid, cv, _wanted(engine, citizen))
        try:
            citizen["consents"] = {**citizen["consents"], "profiling": False}
            profile = await engine.citizen_profile(db, citizen, cv)
            return profile, await db[c.PROFILE_VECTORS].find_one({"_id": cid})
        finally:
            await engine.forget_profile(db, cid)

    profile, stored = run(_with_db(matching_world, scenario))
    # Not used; and a read does not delete either (that is the opt-out's and erasure's job).
    assert profile.vector is None and stored is not None


def test_seeded_profiles_are_embedded_in_bulk_once_and_match_a_single_write(matching_world):
    engine = matching_world["engine"]
    ids = [demo.DEMO_CITIZEN_ID, "demo-kandidat-2", "demo-kandidat-3"]

    async def scenario(db):
        citizens = await db[c.CITIZENS].find({"_id": {"$in": ids}}).sort("_id", 1).to_list()
        cvs = {d["citizenId"]: d async for d in db[c.CVS].find({"citizenId": {"$in": ids}})}
        pairs = [(x, cvs.get(x["_id"])) for x in citizens]
        opted_out = {**citizens[-1], "consents": {**citizens[-1]["consents"], "profiling": False}}
        pairs[-1] = (opted_out, pairs[-1][1])
        for cid in ids:
            await engine.forget_profile(db, cid)
        try:
            first = await engine.store_profile_vectors(db, pairs)
            again = await engine.store_profile_vectors(db, pairs)
            stored = {d["_id"]: d async for d in db[c.PROFILE_VECTORS].find({"_id": {"$in": ids}})}
            x, cv = pairs[0]
            single = await engine.profile_vector(db, "bulk-check", cv, _wanted(engine, x))
            await engine.forget_profile(db, "bulk-check")
            return first, again, stored, single
        finally:
            for cid in ids:
                await engine.forget_profile(db, cid)

    first, again, stored, single = run(_with_db(matching_world, scenario))
    # Two opted in, one opted out; nothing is embedded twice, and the bulk vector is the one a
    # single write would store.
    assert (first, again) == (2, 0) and set(stored) == set(ids[:2])
    bulk = np.frombuffer(stored[demo.DEMO_CITIZEN_ID]["v"], np.float32)
    assert np.allclose(bulk, single, atol=1e-5)


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
