"""Issue 14: at 20 deck requests per second over different citizens, 7 of 200 answered
INTERNAL_SERVER_ERROR (an ``IndexError`` in the embedding cache while another thread appended)
and the deck embedded offers on the request path. Here: 200 deck requests over every seeded
citizen of the matching world, started at 20 per second, while offers the process does not know
yet keep arriving; every one must answer, the request path must embed nothing, and the latency
is reported (``-s``)."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest

from api.app import create_app
from store import collections as c
from store.client import Store
from tests.conftest import gql, token_for

DECK = """query($first: Int!) { swipeDeck(first: $first) { reason fit distanceKm
  offer { id title } } }"""
REQUESTS, PER_SECOND = 200, 20


@pytest.fixture
def database_name(matching_world):
    return matching_world["name"]


@pytest.fixture
def sync_db():  # the seeded database is shared by the session
    return None


@pytest.fixture
def app(settings, matching_world):
    return create_app(settings, engine=matching_world["engine"])


def _request_path_embeddings(engine) -> int:
    return sum(
        n for kind, n in engine.embedder.embedded_by_thread.items() if kind != "offer-vectors"
    )


async def test_concurrent_decks_all_answer_and_embed_nothing_on_the_request_path(
    client, matching_world
):
    engine = matching_world["engine"]
    store = Store(matching_world["uri"], matching_world["name"])
    db = store.db
    added: list[str] = []
    try:
        citizens = await db[c.CITIZENS].find({}).sort("_id", 1).to_list()
        cvs = {d["citizenId"]: d async for d in db[c.CVS].find({"primary": True})}
        # Profile vectors stored, as the app stores them when a CV or wish changes.
        await engine.store_profile_vectors(db, [(x, cvs.get(x["_id"])) for x in citizens])
        template = await db[c.OFFERS].find_one({"status": "OPEN", "mode": "IN_PERSON"})
        before = _request_path_embeddings(engine)
        timings: list[float] = []
        failures: list[dict] = []

        started = time.perf_counter()

        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, started + i / PER_SECOND - time.perf_counter()))
            if i % 10 == 0:  # a new offer from another instance: unknown to this process
                doc = template | {"_id": f"belastning-{i}", "title": f"Kaffemøde nr. {i}"}
                await db[c.OFFERS].insert_one(doc)
                added.append(doc["_id"])
            who = citizens[i % len(citizens)]["_id"]
            t = time.perf_counter()
            result = await gql(client, DECK, token=token_for(who), variables={"first": 10})
            timings.append(time.perf_counter() - t)
            if "errors" in result:
                failures.append(result)

        await asyncio.gather(*(one(i) for i in range(REQUESTS)))
        assert not failures, failures[:3]
        assert _request_path_embeddings(engine) == before
        cuts = statistics.quantiles(timings, n=100)
        print(
            f"\ndeck under load: {REQUESTS} requests at {PER_SECOND}/s: "
            f"p50 {1000 * cuts[49]:.0f} ms, p99 {1000 * cuts[98]:.0f} ms"
        )
        assert engine.wait_for_offer_filler()
    finally:
        await db[c.OFFERS].delete_many({"_id": {"$in": added}})
        await db[c.PROFILE_VECTORS].delete_many({})
        await store.close()
