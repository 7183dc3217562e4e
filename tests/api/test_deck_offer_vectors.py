"""Issue 14: the deck embedded offers on the request path (p99 3.3 s at 20 requests/s). Offers
are embedded when written (createOffer, updateOffer: the offers service with the engine); the
deck only looks vectors up, and an offer it does not know yet (written by another instance, or
seeded) is embedded by the engine's background filler, never by the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.auth.actor import Actor, Role
from api.offers import service as offers
from seed.demo import DEMO_CITIZEN_ID, DEMO_COMPANY_CVR, DEMO_EMPLOYER_ID, WAREHOUSE_WORKER
from store import collections as c
from store.client import Store
from tests.api.meetings.helpers import CITIZEN, DECK, db_uri, run_housekeeping
from tests.conftest import gql

EMPLOYER = Actor(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)


@pytest.fixture
def client(world_client):
    return world_client


def _offer_input(title: str) -> dict:
    return {
        "title": title,
        "pitch": "Kom og hør om vores pakkeri og få en kop kaffe.",
        "target_occupation_ids": [WAREHOUSE_WORKER],
        "mode": "IN_PERSON",
        "address": "Lagervej 12",
        "postal_code": "8200",
        "slots": [{"starts_at": datetime.now(UTC) + timedelta(days=3), "capacity": 2}],
    }


def _request_path_embeddings(engine) -> int:
    """Texts embedded by any thread but the engine's background offer filler."""
    return sum(
        n for kind, n in engine.embedder.embedded_by_thread.items() if kind != "offer-vectors"
    )


async def _deck_ids(client) -> list[str]:
    result = await gql(client, DECK, token=CITIZEN, variables={"first": 50})
    assert "errors" not in result, result
    return [card["offer"]["id"] for card in result["data"]["swipeDeck"]]


async def test_offers_are_embedded_when_written_and_the_deck_never_embeds(client, app, world_db):
    engine = app.state.engine
    store = Store(db_uri(world_db), world_db.name)
    db = store.db
    try:
        # The citizen's profile vector is stored, as after any CV change: a deck read uses it.
        citizen = await db[c.CITIZENS].find_one({"_id": DEMO_CITIZEN_ID})
        cv = await db[c.CVS].find_one({"citizenId": DEMO_CITIZEN_ID, "primary": True})
        wanted = [o for o in citizen["preferences"]["occupationIds"] if o in engine.occupation_isco]
        await engine.profile_vector(db, DEMO_CITIZEN_ID, cv, wanted)
        await _deck_ids(client)  # the seeded offers go to the filler
        assert engine.wait_for_offer_filler()

        # Written through the service: embedded at once, on the write path.
        created = await offers.create_offer(
            db, EMPLOYER, _offer_input("Kaffemøde: Pakkeri"), engine
        )
        assert created["_id"] in engine.known_offer_vectors([created])
        # Written by another instance (straight into the collection): this process learns
        # it in the housekeeping sync of its deck catalogue, which embeds it there.
        other = created | {"_id": "fra-en-anden-instans", "title": "Kaffemøde: Nathold"}
        await db[c.OFFERS].insert_one(other)
        await run_housekeeping(world_db, app, app.state.settings)

        before = _request_path_embeddings(engine)
        ids = await _deck_ids(client)
        assert {created["_id"], other["_id"]} <= set(ids)
        assert _request_path_embeddings(engine) == before  # the deck embedded nothing
        assert engine.wait_for_offer_filler()
        assert other["_id"] in engine.known_offer_vectors([other])  # the sync did

        # A changed text is embedded again when written, and the old vector is not used.
        old = engine.known_offer_vectors([created])[created["_id"]]
        data = _offer_input("Kaffemøde: Truckførere søges") | {"slots": None}
        updated = await offers.update_offer(db, EMPLOYER, created["_id"], data, engine)
        new = engine.known_offer_vectors([updated])[created["_id"]]
        assert not (new == old).all()
        before = _request_path_embeddings(engine)
        await _deck_ids(client)
        assert _request_path_embeddings(engine) == before
    finally:
        await engine.forget_profile(db, DEMO_CITIZEN_ID)
        await store.close()
