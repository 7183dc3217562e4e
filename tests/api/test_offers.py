"""Coffee-meeting offers as a company manages them: validation, pausing and closing (with the
requests it ends), and slots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from seed.demo import DEMO_OFFER_IDS, WAREHOUSE_WORKER
from tests.api.meetings.helpers import (
    CANDIDATE,
    CANDIDATE_ID,
    CITIZEN,
    DECK,
    EMPLOYER,
    SWIPE,
    a_request,
    accept,
    by_id,
    future_slot,
)
from tests.conftest import error_codes, gql


@pytest.fixture
def client(world_client):
    return world_client


OFFER_INPUT = {
    "title": "Kaffemøde: Pakkeri",
    "pitch": "Kom og hør om vores pakkeri.",
    "targetOccupationIds": [WAREHOUSE_WORKER],
    "mode": "IN_PERSON",
    "address": "Lagervej 12",
    "postalCode": "8200",
}

CREATE_OFFER = """mutation($input: OfferInput!) { createOffer(input: $input) { id status expiresAt
  slots { id capacity booked free } targetOccupations { id } } }"""


async def test_offer_validation_and_lifecycle(client, world_db):
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    bad = OFFER_INPUT | {"address": None, "slots": [{"startsAt": past, "capacity": 0}]}
    result = await gql(client, CREATE_OFFER, token=EMPLOYER, variables={"input": bad})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert {f["field"] for f in result["errors"][0]["extensions"]["fields"]} == {
        "address", "slots[0].startsAt", "slots[0].capacity"}  # fmt: skip
    video = OFFER_INPUT | {"mode": "VIDEO", "videoUrl": "http://usikker.dk", "slots": []}
    result = await gql(client, CREATE_OFFER, token=EMPLOYER, variables={"input": video})
    assert {f["field"] for f in result["errors"][0]["extensions"]["fields"]} == {
        "videoUrl",
        "slots",
    }

    start = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    good = OFFER_INPUT | {"slots": [{"startsAt": start, "capacity": 2}]}
    offer = (await gql(client, CREATE_OFFER, token=EMPLOYER, variables={"input": good}))["data"][
        "createOffer"
    ]
    assert offer["status"] == "OPEN" and offer["slots"][0]["free"] == 2
    deck = await gql(client, DECK, token=CITIZEN, variables={"first": 50})
    assert offer["id"] in {c["offer"]["id"] for c in deck["data"]["swipeDeck"]}
    swipe = await gql(
        client, SWIPE, token=CANDIDATE, variables={"offer": offer["id"], "decision": "YES"}
    )
    assert "errors" not in swipe, swipe
    pause = await gql(
        client, by_id('mutation { pauseOffer(id: "$ID") { status } }', offer["id"]), token=EMPLOYER
    )
    assert pause["data"]["pauseOffer"]["status"] == "PAUSED"
    deck = await gql(client, DECK, token=CITIZEN, variables={"first": 50})
    assert offer["id"] not in {c["offer"]["id"] for c in deck["data"]["swipeDeck"]}
    assert error_codes(await gql(client, by_id('mutation { pauseOffer(id: "$ID") { status } }', offer["id"]),
                                 token=EMPLOYER)) == ["CONFLICT"]  # fmt: skip
    closed = await gql(
        client, by_id('mutation { closeOffer(id: "$ID") { status } }', offer["id"]), token=EMPLOYER
    )
    assert closed["data"]["closeOffer"]["status"] == "CLOSED"
    request = world_db.meeting_requests.find_one({"offerId": offer["id"]})
    assert request["status"] == "EXPIRED" and request["closeReason"] == "OFFER_CLOSED"
    assert world_db.inbox.find_one(
        {"recipientId": CANDIDATE_ID, "key": f"request-expired:{request['_id']}"}
    )
    resume = await gql(
        client, by_id('mutation { resumeOffer(id: "$ID") { status } }', offer["id"]), token=EMPLOYER
    )
    assert error_codes(resume) == ["CONFLICT"]


async def test_a_booked_slot_cannot_be_removed(client, world_db):
    request = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    slot = future_slot(world_db, DEMO_OFFER_IDS[0], 1)
    await accept(client, request["_id"], slot["_id"])
    remove = 'mutation { removeOfferSlot(id: "%s", slotId: "%s") { id } }'
    assert error_codes(
        await gql(client, remove % (DEMO_OFFER_IDS[0], slot["_id"]), token=EMPLOYER)
    ) == ["CONFLICT"]
    free = future_slot(world_db, DEMO_OFFER_IDS[0], 2)
    result = await gql(client, remove % (DEMO_OFFER_IDS[0], free["_id"]), token=EMPLOYER)
    assert "errors" not in result
    assert len(world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"]) == 2
