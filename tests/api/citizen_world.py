"""A per-test database with a taxonomy slice, a few generated companies, postings and citizens,
and the demo accounts (citizen, employer, offers, meeting requests), for the citizen-data tests.
The app's engine loads against it at start-up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from api.indexes import all_index_specs
from seed.generator import SeedSpec
from seed.run import seed_database
from store.client import Store
from store.indexes import ensure_indexes
from tests.matching.world import taxonomy_slice

_TAXONOMY = None


def _taxonomy():
    global _TAXONOMY
    if _TAXONOMY is None:
        _TAXONOMY = taxonomy_slice()
    return _TAXONOMY


@pytest.fixture
def world_db(db_server, database_name, sync_db):
    """Seed before the app starts (the client fixture runs the app's lifespan)."""
    spec = SeedSpec(
        seed=5, companies=5, postings=40, offers=2, citizens=5, as_of=datetime.now(UTC).date()
    )

    async def build():
        store = Store(db_server.uri, database_name)
        await ensure_indexes(store.db, all_index_specs())
        await seed_database(store.db, _taxonomy(), spec)
        await store.close()

    asyncio.run(build())
    return sync_db


@pytest.fixture
async def world_client(app, world_db):
    import httpx

    async with app.router.lifespan_context(app):
        # The engine loads in the background at start-up; wait for it so re-embedding and
        # suggestions are exercised, not skipped.
        for _ in range(600):
            if app.state.engine.ready:
                break
            await asyncio.sleep(0.05)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
