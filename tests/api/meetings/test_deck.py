"""The swipe deck: what a citizen is shown, from where, and in which language."""

from __future__ import annotations

import itertools
import math

from api.indexes import prepare_collections
from api.offers.catalogue import forget_catalogue
from matching.geo import haversine_km
from matching.offers import deck_area
from seed.demo import DEMO_CITIZEN_ID, DEMO_OFFER_IDS
from store.client import Store
from tests.api.meetings.helpers import CITIZEN, DECK, SWIPE, db_uri
from tests.conftest import gql


async def test_deck_shows_open_offers_with_reasons_and_hides_what_it_must(client, world_db):
    deck = (await gql(client, DECK, token=CITIZEN, variables={"first": 50}))["data"]["swipeDeck"]
    ids = [c["offer"]["id"] for c in deck]
    assert set(DEMO_OFFER_IDS) <= set(ids)
    assert all(c["reason"] and 0 < c["fit"] <= 1 for c in deck)
    lager = next(c for c in deck if c["offer"]["id"] == DEMO_OFFER_IDS[0])
    assert lager["reason"].startswith("Passer til din erfaring som")
    video = next(c for c in deck if c["offer"]["mode"] == "VIDEO")
    assert video["distanceKm"] is None and "video" in video["reason"]

    # Paused, closed, expired, full, swiped and blocked offers all leave the deck.
    world_db.offers.update_one({"_id": DEMO_OFFER_IDS[0]}, {"$set": {"status": "PAUSED"}})
    world_db.offers.update_one(
        {"_id": DEMO_OFFER_IDS[1]}, {"$set": {"slots.$[].booked": 5}}
    )  # every slot full
    await gql(
        client, SWIPE, token=CITIZEN, variables={"offer": DEMO_OFFER_IDS[2], "decision": "NO"}
    )
    others = [i for i in ids if i not in DEMO_OFFER_IDS]
    if others:
        other = world_db.offers.find_one({"_id": others[0]})
        await gql(
            client, f'mutation {{ blockCompany(cvr: "{other["companyCvr"]}") }}', token=CITIZEN
        )
    deck = (await gql(client, DECK, token=CITIZEN, variables={"first": 50}))["data"]["swipeDeck"]
    remaining = {c["offer"]["id"] for c in deck}
    assert not remaining & set(DEMO_OFFER_IDS)
    if others:
        assert others[0] not in remaining


async def test_deck_reads_nearby_areas_only_and_loses_nothing_within_the_radius(client, world_db):
    """Offers around the citizen at many distances and bearings (across area borders): the
    deck has every one within the radius and none beyond; an offer written before deck areas
    existed gets its area at start-up and is not lost."""
    base = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})
    citizen = world_db.citizens.find_one({"_id": DEMO_CITIZEN_ID})
    lon, lat = citizen["location"]["coordinates"]
    radius = citizen.get("preferences", {}).get("radiusKm", 30)
    placed = {}
    for i, (km, bearing) in enumerate(
        itertools.product([3, 12, radius - 2, radius + 3, 55, 140], range(0, 360, 45))
    ):
        olat = lat + km / 111.2 * math.cos(math.radians(bearing))
        olon = lon + km / (111.32 * math.cos(math.radians(lat))) * math.sin(math.radians(bearing))
        point = {"type": "Point", "coordinates": [olon, olat]}
        doc = base | {"_id": f"geo-{i}", "location": point, "title": f"Kaffemøde {i}"}
        doc["deckArea"] = deck_area("IN_PERSON", point)
        if i == 9:
            del doc["deckArea"]  # as written by an older version
        world_db.offers.insert_one(doc)
        placed[doc["_id"]] = haversine_km(lat, lon, olat, olon)
    world_db.migrations.delete_many({})  # the database as it was before the upgrade
    store = Store(db_uri(world_db), world_db.name)
    try:
        await prepare_collections(store.db)
    finally:
        await store.close()
    assert world_db.offers.find_one({"_id": "geo-9"})["deckArea"] == deck_area(
        "IN_PERSON", world_db.offers.find_one({"_id": "geo-9"})["location"]
    )
    forget_catalogue(world_db)  # a restart: the offers written straight into the collection
    deck = (await gql(client, DECK, token=CITIZEN, variables={"first": 50}))["data"]["swipeDeck"]
    shown = {c["offer"]["id"] for c in deck} & set(placed)
    assert shown == {oid for oid, km in placed.items() if km <= radius}
    assert len(shown) == 24 and "geo-9" in shown


async def test_deck_is_english_for_english_users(client):
    deck = await gql(client, DECK, token=CITIZEN, variables={"first": 3},
                     headers={"Accept-Language": "en"})  # fmt: skip
    assert deck["data"]["swipeDeck"][0]["reason"].split(" ")[0] in ("Fits", "Close", "A")
