"""The company's side of requests: ranked and pseudonymous lists, acceptance that books a
seat (once, under concurrency) and reveals contacts, and declining with a kind notice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from seed.demo import DEMO_CANDIDATE_IDS, DEMO_COMPANY_CVR, DEMO_OFFER_IDS
from tests.api.meetings.helpers import (
    DECLINE,
    EMPLOYER,
    REQUESTS,
    a_request,
    accept,
    by_id,
    future_slot,
)
from tests.conftest import error_codes, gql, token_for


async def test_requests_are_ranked_and_pseudonymous_and_paged(client, world_db):
    first = await gql(client, REQUESTS, token=EMPLOYER,
                      variables={"offer": DEMO_OFFER_IDS[0], "first": 2})  # fmt: skip
    conn = first["data"]["meetingRequests"]
    fits = [e["node"]["fit"] for e in conn["edges"]]
    assert fits == sorted(fits, reverse=True)
    assert all(e["node"]["candidate"]["name"] is None for e in conn["edges"])
    assert all(e["node"]["candidate"]["email"] is None for e in conn["edges"])
    assert conn["pageInfo"]["hasNextPage"]
    rest = await gql(client, REQUESTS, token=EMPLOYER,
                     variables={"offer": DEMO_OFFER_IDS[0], "first": 50,
                                "after": conn["pageInfo"]["endCursor"]})  # fmt: skip
    seen = [e["node"]["id"] for e in conn["edges"] + rest["data"]["meetingRequests"]["edges"]]
    assert (
        len(seen)
        == len(set(seen))
        == world_db.meeting_requests.count_documents({"offerId": DEMO_OFFER_IDS[0]})
    )
    # Listing is not opening: nothing goes into the candidates' view logs.
    assert world_db.cv_views.count_documents({}) == 0


async def test_accept_books_a_seat_and_reveals_contacts_to_both(client, world_db):
    request = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    slot = future_slot(world_db, DEMO_OFFER_IDS[0], 1)
    result = await accept(client, request["_id"], slot["_id"])
    meeting = result["data"]["acceptMeetingRequest"]
    citizen = world_db.citizens.find_one({"_id": request["citizenId"]})
    assert meeting["status"] == "SCHEDULED"
    assert meeting["counterpart"]["email"] == citizen["email"]  # the employer sees the contact
    own = await gql(client, by_id('{ meeting(id: "$ID") { counterpart { name email } companyName } }', meeting["id"]), token=token_for(request["citizenId"]))  # fmt: skip
    assert own["data"]["meeting"]["counterpart"]["name"] == "Mette Kjær"
    assert own["data"]["meeting"]["counterpart"]["email"].endswith("example.dk")
    assert world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"][1]["booked"] == 1
    notice = world_db.inbox.find_one({"recipientId": request["citizenId"],
                                      "key": f"request-accepted:{request['_id']}"})  # fmt: skip
    assert notice["title"] == "Dit kaffemøde er bekræftet" and " kl. " in notice["body"]
    # Answering twice is a conflict; so is declining after accepting.
    again = await accept(client, request["_id"], slot["_id"])
    assert error_codes(again) == ["CONFLICT"]
    assert error_codes(
        await gql(client, DECLINE, token=EMPLOYER, variables={"id": request["_id"]})
    ) == ["CONFLICT"]


async def test_fifty_concurrent_accepts_for_one_seat_book_it_once(client, world_db):
    now = datetime.now(UTC)
    offer_id = "en-plads"
    world_db.offers.insert_one(
        world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})
        | {"_id": offer_id, "slots": [{"_id": "s1", "startsAt": now + timedelta(days=2),
                                       "endsAt": now + timedelta(days=2, minutes=25),
                                       "capacity": 1, "booked": 0}]}
    )  # fmt: skip
    template = world_db.citizens.find_one({"_id": DEMO_CANDIDATE_IDS[1]})
    requests = []
    for i in range(50):
        cid = f"kø-{i}"
        world_db.citizens.insert_one(template | {"_id": cid})
        requests.append({"_id": f"anmodning-{i}", "offerId": offer_id, "companyCvr": DEMO_COMPANY_CVR,
                         "citizenId": cid, "status": "PENDING", "createdAt": now, "updatedAt": now})  # fmt: skip
    world_db.meeting_requests.insert_many(requests)
    results = await asyncio.gather(*(accept(client, r["_id"], "s1") for r in requests))
    outcomes = [error_codes(r) for r in results]
    assert outcomes.count([]) == 1, outcomes
    assert outcomes.count(["CONFLICT"]) == 49
    assert world_db.offers.find_one({"_id": offer_id})["slots"][0]["booked"] == 1
    assert world_db.meetings.count_documents({"offerId": offer_id}) == 1
    assert (
        world_db.meeting_requests.count_documents({"offerId": offer_id, "status": "ACCEPTED"}) == 1
    )


async def test_decline_sends_a_kind_notice(client, world_db):
    request = a_request(world_db)
    result = await gql(client, DECLINE, token=EMPLOYER, variables={"id": request["_id"]})
    assert result["data"]["declineMeetingRequest"]["status"] == "DECLINED"
    notice = world_db.inbox.find_one({"recipientId": request["citizenId"]})
    assert notice["title"].startswith("Svar fra") and "andre kaffemøder" in notice["body"]
