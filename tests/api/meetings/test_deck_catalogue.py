"""The deck's first cut comes from this process's catalogue of open offers
(api/offers/catalogue.py). An offer written by another API process (straight into the
collection, with its updatedAt, as that process's service writes it) reaches this process's
deck with the housekeeping sync; one paused elsewhere leaves the deck at once (the deck reads
the offers it returns) and the catalogue with the sync. The cut shows the on-field cards the
old full read showed."""

from __future__ import annotations

from datetime import UTC, datetime

from api.auth.actor import Actor, Role
from api.meetings import deck
from api.offers.catalogue import catalogue_for
from seed.demo import DEMO_CITIZEN_ID, DEMO_OFFER_IDS
from store.client import Store
from tests.api.meetings.helpers import CITIZEN, DECK, db_uri, run_housekeeping
from tests.conftest import gql


async def _deck(client) -> list[str]:
    result = await gql(client, DECK, token=CITIZEN, variables={"first": 50})
    assert "errors" not in result, result
    return [card["offer"]["id"] for card in result["data"]["swipeDeck"]]


async def test_other_processes_writes_reach_the_deck_within_the_sync(
    client, app, world_db, settings
):
    assert set(DEMO_OFFER_IDS) <= set(await _deck(client))  # the catalogue is loaded
    base = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})
    other = base | {"_id": "fra-en-anden-proces", "updatedAt": datetime.now(UTC)}
    world_db.offers.insert_one(other)
    assert other["_id"] not in await _deck(client), "not known before the sync"
    figures = await run_housekeeping(world_db, app, settings)
    assert figures["offers_synced"] >= 1
    assert other["_id"] in await _deck(client)

    # Paused through the other process: gone from the deck at once, and from the catalogue
    # after the sync.
    world_db.offers.update_one(
        {"_id": other["_id"]}, {"$set": {"status": "PAUSED", "updatedAt": datetime.now(UTC)}}
    )
    assert other["_id"] not in await _deck(client)
    await run_housekeeping(world_db, app, settings)
    assert other["_id"] not in catalogue_for(world_db).entries
    # Opened again: back after the sync.
    world_db.offers.update_one(
        {"_id": other["_id"]}, {"$set": {"status": "OPEN", "updatedAt": datetime.now(UTC)}}
    )
    await run_housekeeping(world_db, app, settings)
    assert other["_id"] in await _deck(client)


async def test_the_cut_shows_the_on_field_cards_of_the_full_read(client, app, world_db):
    store = Store(db_uri(world_db), world_db.name)
    try:
        actor = Actor(DEMO_CITIZEN_ID, Role.CITIZEN)
        engine = app.state.engine
        full = await deck.swipe_deck(store.db, engine, actor, 50, "da", scan=True)
        cut = await deck.swipe_deck(store.db, engine, actor, 50, "da", scan=False)
        on_field = [c.offer_id for _, c in full if c.on_field]
        assert on_field, "the demo citizen has offers on the field"
        assert [c.offer_id for _, c in cut if c.on_field] == on_field
        assert {o["_id"] for o, _ in cut} <= {o["_id"] for o, _ in full}
    finally:
        await store.close()
