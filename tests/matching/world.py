"""A small seeded world for the model-backed matching tests: a slice of the taxonomy
(warehouse, transport, cleaning, sales, kitchen and service work), postings and citizens
generated from it, and one engine with the real bundled model, loaded once per session."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from pymongo import MongoClient

from api.indexes import all_index_specs
from api.jobs.repository import open_postings_for_matching
from api.taxonomy.repository import occupations_for_matching
from core.settings import Settings
from matching.embeddings import Embedder
from matching.engine import EngineConfig, LoadReport, MatchingEngine
from seed.generator import SeedSpec
from seed.run import seed_database
from seed.taxonomy import Taxonomy, load_taxonomy
from store.client import Store
from store.indexes import ensure_indexes

GROUPS = ("93", "83", "43", "91", "52", "94", "51")


def taxonomy_slice() -> Taxonomy:
    full = load_taxonomy(Settings().taxonomy_dir)
    occupations = [o for o in full.occupations if o["iscoCode"][:2] in GROUPS]
    groups = [g for g in full.isco_groups if g["_id"][:1] in {x[0] for x in GROUPS}]
    return Taxonomy(occupations=occupations, isco_groups=groups)


async def load_engine(engine: MatchingEngine, db) -> LoadReport:
    """Load the engine as the app does: the documents read through their own repositories."""
    return await engine.load(
        occupations=await occupations_for_matching(db),
        postings=await open_postings_for_matching(db, datetime.now(UTC)),
    )


@pytest.fixture(scope="session")
def embedder(tmp_path_factory) -> Embedder:
    return Embedder(cache_dir=tmp_path_factory.mktemp("embeddings"))


@pytest.fixture(scope="session")
def matching_world(db_server, embedder, tmp_path_factory):
    name = f"match_{uuid.uuid4().hex[:8]}"
    # 400 postings: enough that the demo citizen has 20 fitting jobs within the radius (a page
    # of full matches, tests/api/test_query_counts.py); 40 offers, so most citizens' decks hold
    # offers on their field and off it (the reason audit).
    spec = SeedSpec(
        seed=11, companies=30, postings=400, offers=40, citizens=40, as_of=datetime.now(UTC).date()
    )
    index_dir = tmp_path_factory.mktemp("index")

    async def build():
        store = Store(db_server.uri, name)
        await ensure_indexes(store.db, all_index_specs())
        await seed_database(store.db, taxonomy_slice(), spec)
        engine = MatchingEngine(embedder, EngineConfig(index_dir=index_dir))
        report = await load_engine(engine, store.db)
        await store.close()
        return engine, report

    engine, report = asyncio.run(build())
    yield {
        "name": name,
        "engine": engine,
        "report": report,
        "index_dir": index_dir,
        "uri": db_server.uri,
    }
    with MongoClient(db_server.uri) as client:
        client.drop_database(name)
