"""The app's own coffee-meeting list operations (``mobile_contract/operations``) cost a fixed
number of database commands however many items they list: each is measured with 1 and with 20
items, and must cost the same. A field that reads per item (an N+1) shows up as a difference."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from api.auth.actor import Role
from api.offers.catalogue import forget_catalogue, offer_written
from jobunivers.contract import OPERATIONS_DIR
from seed.demo import DEMO_CANDIDATE_IDS, DEMO_CITIZEN_ID, DEMO_COMPANY_CVR, DEMO_OFFER_IDS
from tests.conftest import gql, token_for

NOW = datetime.now(UTC).replace(microsecond=0)
COUNTED_CITIZEN = "tælle-borger"
COUNTED_CVR = "29403473"
EMPLOYER = token_for("tælle-arbejdsgiver", Role.EMPLOYER, COUNTED_CVR)


def operation(name: str) -> str:
    return (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")


@pytest.fixture
def client(world_client):
    return world_client


async def commands(client, counter, name: str, token: str, variables: dict) -> Counter:
    """The commands the operation sends, by name, once warm (caches filled by a first run)."""
    document = operation(name)
    for _ in range(2):
        counter.reset()
        result = await gql(client, document, token=token, variables=variables)
        assert "errors" not in result, result
    return Counter(counter.commands)


async def measure_at_1_and_20(client, counter, name, token, variables, add, listed) -> None:
    """``add(range)`` writes the items with those numbers; ``listed(data)`` counts them."""
    counts, written = {}, 0
    for upto in (1, 20):
        add(range(written, upto))
        written = upto
        data = await gql(client, operation(name), token=token, variables=variables)
        assert listed(data["data"]) == upto, data
        counts[upto] = await commands(client, counter, name, token, variables)
    print(f"{name}: {sum(counts[1].values())} commands at 1, {sum(counts[20].values())} at 20")
    assert counts[20] == counts[1], counts


def _citizen(world_db, citizen_id: str) -> None:
    template = world_db.citizens.find_one({"_id": DEMO_CANDIDATE_IDS[1]})
    world_db.citizens.insert_one(template | {"_id": citizen_id})


def _meeting(i: int, citizen_id: str, cvr: str) -> dict:
    start = NOW + timedelta(days=2, hours=i)
    return {
        "_id": f"tællemøde-{citizen_id}-{cvr}-{i}",
        "requestId": f"tælleanmodning-{citizen_id}-{cvr}-{i}",
        "offerId": DEMO_OFFER_IDS[0],
        "companyCvr": cvr,
        "companyName": f"Firma {cvr}",
        "citizenId": citizen_id,
        "title": f"Kaffemøde {i}",
        "mode": "IN_PERSON",
        "address": "Lagervej 12",
        "videoUrl": None,
        "slotId": "s1",
        "startsAt": start,
        "endsAt": start + timedelta(minutes=25),
        "status": "SCHEDULED",
        "history": [{"status": "SCHEDULED", "at": NOW, "by": "employer"}],
        "createdAt": NOW,
        "updatedAt": NOW,
    }


def _offer_copy(world_db, offer_id: str, **changes) -> dict:
    offer = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]}) | {"_id": offer_id}
    return offer | changes


async def test_meetings_of_a_citizen_cost_the_same_for_1_and_20(client, world_db, command_counter):
    """Each meeting with another company: the counterpart and the calendar entry read each
    company's contact through one loader."""
    _citizen(world_db, COUNTED_CITIZEN)

    def add(numbers):
        for i in numbers:
            cvr = f"9{i:07d}"
            world_db.companies.insert_one({"_id": cvr, "name": f"Firma {i}"})
            world_db.employers.insert_one({"_id": f"arbejdsgiver-{i}", "cvr": cvr,
                                           "firstName": "Ole", "lastName": f"{i}",
                                           "email": f"ole{i}@firma.dk", "createdAt": NOW})  # fmt: skip
            world_db.meetings.insert_one(_meeting(i, COUNTED_CITIZEN, cvr))

    await measure_at_1_and_20(
        client, command_counter, "Meetings", token_for(COUNTED_CITIZEN), {}, add,
        lambda data: len(data["meetings"]),
    )  # fmt: skip


async def test_meetings_of_a_company_cost_the_same_for_1_and_20(client, world_db, command_counter):
    """Each meeting with another citizen: their contact details come through one loader."""

    def add(numbers):
        for i in numbers:
            _citizen(world_db, f"{COUNTED_CITIZEN}-{i}")
            world_db.meetings.insert_one(_meeting(i, f"{COUNTED_CITIZEN}-{i}", COUNTED_CVR))

    await measure_at_1_and_20(
        client, command_counter, "Meetings", EMPLOYER, {}, add,
        lambda data: len(data["meetings"]),
    )  # fmt: skip


async def test_incoming_requests_cost_the_same_for_1_and_20(client, world_db, command_counter):
    """Requests from different citizens to one offer, with their candidate views and fit."""
    world_db.offers.insert_one(_offer_copy(world_db, "tælle-tilbud", companyCvr=COUNTED_CVR))

    def add(numbers):
        for i in numbers:
            _citizen(world_db, f"{COUNTED_CITIZEN}-{i}")
            world_db.meeting_requests.insert_one({
                "_id": f"tælleanmodning-{i}", "citizenId": f"{COUNTED_CITIZEN}-{i}",
                "offerId": "tælle-tilbud", "companyCvr": COUNTED_CVR, "status": "PENDING",
                "createdAt": NOW, "updatedAt": NOW, "seenAt": None,
            })  # fmt: skip

    await measure_at_1_and_20(
        client, command_counter, "MeetingRequests", EMPLOYER,
        {"offerId": "tælle-tilbud", "first": 20}, add,
        lambda data: len(data["meetingRequests"]["edges"]),
    )  # fmt: skip


async def test_my_requests_cost_the_same_for_1_and_20(client, world_db, command_counter):
    """The citizen's requests to different offers, each with its offer."""
    _citizen(world_db, COUNTED_CITIZEN)

    def add(numbers):
        for i in numbers:
            world_db.offers.insert_one(_offer_copy(world_db, f"tælle-tilbud-{i}"))
            world_db.meeting_requests.insert_one({
                "_id": f"tælleanmodning-{i}", "citizenId": COUNTED_CITIZEN,
                "offerId": f"tælle-tilbud-{i}", "companyCvr": DEMO_COMPANY_CVR,
                "status": "PENDING", "createdAt": NOW - timedelta(minutes=i), "updatedAt": NOW,
                "seenAt": None,
            })  # fmt: skip

    await measure_at_1_and_20(
        client, command_counter, "MyMeetingRequests", token_for(COUNTED_CITIZEN), {}, add,
        lambda data: len(data["myMeetingRequests"]),
    )  # fmt: skip


async def test_the_deck_costs_the_same_for_1_and_20_cards(client, world_db, command_counter):
    """Only the counted offers are open (near the demo citizen, from different companies);
    each card's target occupations come through one loader."""
    template = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})
    world_db.offers.delete_many({})
    # Written straight into the collection, past the offers service: as after a restart, so no
    # catalogue an earlier test of this process loaded still holds the deleted offers.
    forget_catalogue(world_db)

    def add(numbers):
        for i in numbers:
            doc = template | {"_id": f"tælle-tilbud-{i}", "companyCvr": f"9{i:07d}",
                              "title": f"Kaffemøde {i}"}  # fmt: skip
            world_db.offers.insert_one(doc)
            offer_written(world_db, doc)  # as the offers service does: the deck's catalogue

    await measure_at_1_and_20(
        client, command_counter, "SwipeDeck", token_for(DEMO_CITIZEN_ID), {"first": 20}, add,
        lambda data: len(data["swipeDeck"]),
    )  # fmt: skip
