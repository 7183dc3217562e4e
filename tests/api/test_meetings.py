"""Coffee meetings end to end: offers, the deck, swipes, requests, acceptance under
concurrency, meeting states, reminders, expiry, live updates, and who may do what."""

from __future__ import annotations

import asyncio
import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.auth.actor import Role
from api.housekeeping import SyncState, run_once
from api.indexes import prepare_collections
from matching.geo import haversine_km
from matching.offers import deck_area
from seed.demo import (
    DEMO_CANDIDATE_IDS,
    DEMO_CITIZEN_ID,
    DEMO_COMPANY_CVR,
    DEMO_EMPLOYER_ID,
    DEMO_OFFER_IDS,
    WAREHOUSE_WORKER,
)
from store.client import Store
from tests.conftest import error_codes, gql, receive_json_within, token_for

CITIZEN = token_for(DEMO_CITIZEN_ID)
CANDIDATE_ID = DEMO_CANDIDATE_IDS[0]
CANDIDATE = token_for(CANDIDATE_ID)
EMPLOYER = token_for(DEMO_EMPLOYER_ID, Role.EMPLOYER, DEMO_COMPANY_CVR)
OTHER_CVR = "29403473"
OTHER_EMPLOYER = token_for("anden-arbejdsgiver", Role.EMPLOYER, OTHER_CVR)

DECK = """query($first: Int!) { swipeDeck(first: $first) { reason fit distanceKm
  offer { id title companyCvr mode slots { id free startsAt } } } }"""
SWIPE = """mutation($offer: ID!, $decision: SwipeDecision!, $reason: SwipeReason) {
  swipe(offerId: $offer, decision: $decision, reason: $reason) {
    offerId decision reason request { id status } } }"""
UNDO = "mutation { undoLastSwipe { offerId decision } }"
ACCEPT = """mutation($id: ID!, $slot: ID!) { acceptMeetingRequest(id: $id, slotId: $slot) {
  id status startsAt counterpart { name email phone } } }"""
DECLINE = """mutation($id: ID!) { declineMeetingRequest(id: $id, reason: POSITION_FILLED) {
  id status } }"""
REQUESTS = """query($offer: ID!, $first: Int!, $after: String) {
  meetingRequests(offerId: $offer, first: $first, after: $after) {
    edges { cursor node { id status fit candidate { initial name email distanceBand
      experience { title months } } } } pageInfo { hasNextPage endCursor } } }"""
CANCEL = 'mutation($id: ID!) { cancelMeeting(id: $id, reason: "Syg") { id status } }'
RESCHEDULE = """mutation($id: ID!, $slot: ID!) { rescheduleMeeting(id: $id, slotId: $slot) {
  id status startsAt icalendar } }"""
OUTCOME = """mutation($id: ID!, $outcome: MeetingOutcome!) {
  recordMeetingOutcome(id: $id, outcome: $outcome) { id status } }"""


@pytest.fixture
def client(world_client):
    return world_client


def by_id(query: str, value: str) -> str:
    return query.replace("$ID", value)


def _uri(db) -> str:
    host, port = db.client.address
    return f"mongodb://{host}:{port}/"


async def run_housekeeping(world_db, app, settings, now=None) -> dict:
    store = Store(_uri(world_db), world_db.name)
    try:
        return await run_once(store.db, settings, app.state.engine, SyncState(), now)
    finally:
        await store.close()


def a_request(db, status=("PENDING",), offer=None) -> dict:
    query = {"status": {"$in": list(status)}, "companyCvr": DEMO_COMPANY_CVR}
    if offer:
        query["offerId"] = offer
    return db.meeting_requests.find_one(query, sort=[("_id", 1)])


def future_slot(db, offer_id: str, index: int = 0) -> dict:
    return db.offers.find_one({"_id": offer_id})["slots"][index]


async def accept(client, request_id: str, slot_id: str, token=EMPLOYER) -> dict:
    return await gql(client, ACCEPT, token=token, variables={"id": request_id, "slot": slot_id})


# --- the deck ---------------------------------------------------------------------------------
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
    store = Store(_uri(world_db), world_db.name)
    try:
        await prepare_collections(store.db)
    finally:
        await store.close()
    assert world_db.offers.find_one({"_id": "geo-9"})["deckArea"] == deck_area(
        "IN_PERSON", world_db.offers.find_one({"_id": "geo-9"})["location"]
    )
    deck = (await gql(client, DECK, token=CITIZEN, variables={"first": 50}))["data"]["swipeDeck"]
    shown = {c["offer"]["id"] for c in deck} & set(placed)
    assert shown == {oid for oid, km in placed.items() if km <= radius}
    assert len(shown) == 24 and "geo-9" in shown


async def test_deck_is_english_for_english_users(client):
    deck = await gql(client, DECK, token=CITIZEN, variables={"first": 3},
                     headers={"Accept-Language": "en"})  # fmt: skip
    assert deck["data"]["swipeDeck"][0]["reason"].split(" ")[0] in ("Fits", "Close", "A")


# --- swipes -------------------------------------------------------------------------------------
async def test_yes_sends_one_request_however_often_it_is_sent(client, world_db):
    offer = DEMO_OFFER_IDS[0]
    results = await asyncio.gather(
        *(gql(client, SWIPE, token=CITIZEN, variables={"offer": offer, "decision": "YES"})
          for _ in range(8))
    )  # fmt: skip
    assert all("errors" not in r for r in results), results
    request_ids = {r["data"]["swipe"]["request"]["id"] for r in results}
    assert len(request_ids) == 1
    assert world_db.meeting_requests.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 1
    assert world_db.swipes.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 1
    assert world_db.swipe_quota.find_one({"citizenId": DEMO_CITIZEN_ID})["yes"] == 1
    # The company's employer is told, once.
    notices = list(world_db.inbox.find({"recipientId": DEMO_EMPLOYER_ID,
                                        "key": f"request-created:{request_ids.pop()}"}))  # fmt: skip
    assert len(notices) == 1 and notices[0]["title"] == "Ny anmodning om kaffemøde"
    assert world_db.outbox.count_documents({"_id": notices[0]["_id"]}) == 1
    # Changing the answer needs an undo first.
    again = await gql(client, SWIPE, token=CITIZEN, variables={"offer": offer, "decision": "NO"})
    assert error_codes(again) == ["CONFLICT"]


async def test_no_records_the_reason_and_sends_nothing(client, world_db):
    result = await gql(client, SWIPE, token=CITIZEN,
                       variables={"offer": DEMO_OFFER_IDS[1], "decision": "NO", "reason": "TOO_FAR"})  # fmt: skip
    assert result["data"]["swipe"] == {"offerId": DEMO_OFFER_IDS[1], "decision": "NO",
                                       "reason": "TOO_FAR", "request": None}  # fmt: skip
    assert world_db.meeting_requests.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 0
    bad = await gql(client, SWIPE, token=CITIZEN,
                    variables={"offer": DEMO_OFFER_IDS[0], "decision": "YES", "reason": "TOO_FAR"})  # fmt: skip
    assert error_codes(bad) == ["BAD_USER_INPUT"]


async def test_undo_takes_back_a_yes_until_the_company_has_seen_it(client, world_db):
    result = await gql(client, SWIPE, token=CITIZEN,
                       variables={"offer": DEMO_OFFER_IDS[0], "decision": "YES"})  # fmt: skip
    request_id = result["data"]["swipe"]["request"]["id"]
    undone = await gql(client, UNDO, token=CITIZEN)
    assert undone["data"]["undoLastSwipe"] == {"offerId": DEMO_OFFER_IDS[0], "decision": "YES"}
    assert world_db.meeting_requests.find_one({"_id": request_id}) is None
    assert world_db.swipes.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 0
    assert world_db.inbox.count_documents({"key": f"request-created:{request_id}"}) == 0
    assert world_db.outbox.count_documents({"recipientId": DEMO_EMPLOYER_ID}) == 0
    assert world_db.swipe_quota.find_one({"citizenId": DEMO_CITIZEN_ID})["yes"] == 0
    assert error_codes(await gql(client, UNDO, token=CITIZEN)) == ["NOT_FOUND"]

    # Once the company opened the request, it cannot be undone.
    result = await gql(client, SWIPE, token=CITIZEN,
                       variables={"offer": DEMO_OFFER_IDS[0], "decision": "YES"})  # fmt: skip
    request_id = result["data"]["swipe"]["request"]["id"]
    opened = await gql(client, by_id('{ meetingRequestCandidate(requestId: "$ID") { initial } }', request_id),
                       token=EMPLOYER)  # fmt: skip
    assert opened["data"]["meetingRequestCandidate"]["initial"] == "J."
    assert error_codes(await gql(client, UNDO, token=CITIZEN)) == ["CONFLICT"]
    assert world_db.meeting_requests.find_one({"_id": request_id})["status"] == "SEEN"


async def test_daily_yes_cap_answers_rate_limited(client, world_db, settings):
    settings.daily_yes_swipes = 2
    offers = [o["_id"] for o in world_db.offers.find({"status": "OPEN"}).limit(4)]
    codes = []
    for offer in offers[:3]:
        r = await gql(client, SWIPE, token=CITIZEN, variables={"offer": offer, "decision": "YES"})
        codes.append(error_codes(r))
    assert codes == [[], [], ["RATE_LIMITED"]]
    limited = await gql(
        client, SWIPE, token=CITIZEN, variables={"offer": offers[2], "decision": "YES"}
    )
    assert "i dag" in limited["errors"][0]["message"]
    assert world_db.meeting_requests.count_documents({"citizenId": DEMO_CITIZEN_ID}) == 2
    # NO is not capped.
    no = await gql(client, SWIPE, token=CITIZEN, variables={"offer": offers[3], "decision": "NO"})
    assert "errors" not in no


# --- the employer's side --------------------------------------------------------------------------
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


async def test_unanswered_requests_expire_with_a_kind_notice(client, world_db, app, settings):
    request = a_request(world_db)
    old = datetime.now(UTC) - timedelta(days=15)
    world_db.meeting_requests.update_one({"_id": request["_id"]}, {"$set": {"createdAt": old}})
    figures = await run_housekeeping(world_db, app, settings)
    assert figures["requests_expired"] == 1
    assert world_db.meeting_requests.find_one({"_id": request["_id"]})["status"] == "EXPIRED"
    notice = world_db.inbox.find_one({"recipientId": request["citizenId"]})
    assert (
        notice["title"] == "Din anmodning er udløbet"
        and "siger ikke noget om dig" in notice["body"]
    )
    assert (await run_housekeeping(world_db, app, settings))["requests_expired"] == 0  # once


# --- meetings -------------------------------------------------------------------------------------
async def _meeting(client, world_db, slot_index=1) -> tuple[dict, dict]:
    request = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    slot = future_slot(world_db, DEMO_OFFER_IDS[0], slot_index)
    result = await accept(client, request["_id"], slot["_id"])
    return result["data"]["acceptMeetingRequest"], request


async def test_reschedule_moves_the_seat_and_the_calendar_entry(client, world_db):
    meeting, request = await _meeting(client, world_db)
    new_slot = future_slot(world_db, DEMO_OFFER_IDS[0], 2)
    moved = await gql(client, RESCHEDULE, token=token_for(request["citizenId"]),
                      variables={"id": meeting["id"], "slot": new_slot["_id"]})  # fmt: skip
    node = moved["data"]["rescheduleMeeting"]
    assert node["status"] == "RESCHEDULED"
    slots = world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"]
    assert (slots[1]["booked"], slots[2]["booked"]) == (0, 1)
    ics = node["icalendar"]
    assert ics.startswith("BEGIN:VCALENDAR\r\n") and "SEQUENCE:1" in ics
    assert "DTSTART:" + new_slot["startsAt"].strftime("%Y%m%dT%H%M%SZ") in ics
    notice = world_db.inbox.find_one(
        {"recipientId": DEMO_EMPLOYER_ID, "key": {"$regex": "^meeting-rescheduled"}}
    )
    assert notice["body"].startswith("Kandidaten har flyttet")


@pytest.mark.parametrize("terminal", ["CANCELLED", "COMPLETED", "NO_SHOW"])
async def test_every_illegal_transition_is_a_conflict(client, world_db, terminal):
    meeting, request = await _meeting(client, world_db)
    world_db.meetings.update_one(
        {"_id": meeting["id"]},
        {"$set": {"status": terminal, "startsAt": datetime.now(UTC) - timedelta(hours=1)}},
    )
    citizen = token_for(request["citizenId"])
    other_slot = future_slot(world_db, DEMO_OFFER_IDS[0], 2)["_id"]
    attempts = [
        (CANCEL, citizen, {"id": meeting["id"]}),
        (CANCEL, EMPLOYER, {"id": meeting["id"]}),
        (RESCHEDULE, citizen, {"id": meeting["id"], "slot": other_slot}),
        (RESCHEDULE, EMPLOYER, {"id": meeting["id"], "slot": other_slot}),
        (OUTCOME, EMPLOYER, {"id": meeting["id"], "outcome": "COMPLETED"}),
        (OUTCOME, EMPLOYER, {"id": meeting["id"], "outcome": "NO_SHOW"}),
    ]
    for query, token, variables in attempts:
        result = await gql(client, query, token=token, variables=variables)
        assert error_codes(result) == ["CONFLICT"], (query, result)
        assert result["errors"][0]["extensions"]["status"] == terminal
    assert world_db.meetings.find_one({"_id": meeting["id"]})["status"] == terminal


async def test_outcome_only_after_the_start_and_a_held_meeting_is_logged(client, world_db):
    meeting, request = await _meeting(client, world_db)
    early = await gql(
        client, OUTCOME, token=EMPLOYER, variables={"id": meeting["id"], "outcome": "COMPLETED"}
    )
    assert error_codes(early) == ["CONFLICT"]
    world_db.meetings.update_one({"_id": meeting["id"]},
                                 {"$set": {"startsAt": datetime.now(UTC) - timedelta(minutes=30)}})  # fmt: skip
    citizen_try = await gql(client, OUTCOME, token=token_for(request["citizenId"]),
                            variables={"id": meeting["id"], "outcome": "COMPLETED"})  # fmt: skip
    assert error_codes(citizen_try) == ["FORBIDDEN"]
    done = await gql(
        client, OUTCOME, token=EMPLOYER, variables={"id": meeting["id"], "outcome": "COMPLETED"}
    )
    assert done["data"]["recordMeetingOutcome"]["status"] == "COMPLETED"
    entry = world_db.joblog.find_one({"citizenId": request["citizenId"]})
    assert entry["source"] == "MEETING" and entry["companyName"].startswith("Østjysk")


async def test_cancel_frees_the_seat_and_tells_the_other_side(client, world_db):
    meeting, request = await _meeting(client, world_db)
    result = await gql(client, CANCEL, token=EMPLOYER, variables={"id": meeting["id"]})
    assert result["data"]["cancelMeeting"]["status"] == "CANCELLED"
    assert world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["slots"][1]["booked"] == 0
    notice = world_db.inbox.find_one(
        {"recipientId": request["citizenId"], "key": {"$regex": "^meeting-cancelled"}}
    )
    assert notice["body"].startswith("Virksomheden har aflyst")


async def test_reminders_go_to_both_sides_once(client, world_db, app, settings):
    meeting, request = await _meeting(client, world_db)
    now = datetime.now(UTC)
    world_db.meetings.update_one(
        {"_id": meeting["id"]}, {"$set": {"startsAt": now + timedelta(hours=20)}}
    )
    assert (await run_housekeeping(world_db, app, settings, now))["reminders_sent"] == 1
    assert (await run_housekeeping(world_db, app, settings, now))["reminders_sent"] == 0
    citizen_notice = world_db.inbox.find_one(
        {"recipientId": request["citizenId"], "key": {"$regex": "^reminder-24h"}}
    )
    assert (
        citizen_notice["title"] == "Kaffemøde i morgen"
        and citizen_notice["category"] == "REMINDERS"
    )
    assert (
        world_db.inbox.count_documents(
            {"recipientId": DEMO_EMPLOYER_ID, "key": {"$regex": "^reminder-24h"}}
        )
        == 1
    )
    # An hour before, the second reminder.
    later = now + timedelta(hours=19, minutes=30)
    assert (await run_housekeeping(world_db, app, settings, later))["reminders_sent"] == 1
    one_hour = world_db.inbox.find_one(
        {"recipientId": request["citizenId"], "key": {"$regex": "^reminder-1h"}}
    )
    assert one_hour["title"] == "Kaffemøde om en time"


# --- live updates ----------------------------------------------------------------------------------
def test_meeting_updates_and_notifications_arrive_live(app, world_db):
    """A change made just before subscribing is still sent (it raced the subscription); later
    changes and the inbox notice they cause arrive as they happen, each once."""
    accepted = a_request(world_db, offer=DEMO_OFFER_IDS[0])
    slot = future_slot(world_db, DEMO_OFFER_IDS[0], 1)
    citizen = token_for(accepted["citizenId"])
    with (
        TestClient(app) as tc,
        tc.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        response = tc.post("/graphql", json={"query": ACCEPT, "variables": {"id": accepted["_id"], "slot": slot["_id"]}},
                           headers={"Authorization": f"Bearer {EMPLOYER}"})  # fmt: skip
        assert "errors" not in response.json(), response.json()
        ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {citizen}"}})
        assert receive_json_within(ws)["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe",
                      "payload": {"query": "subscription { meetingUpdates { kind id status } }"}})  # fmt: skip
        got = []
        while len(got) < 2:
            message = receive_json_within(ws)
            assert message["type"] == "next" and message["id"] == "1", message
            got.append(message["payload"]["data"]["meetingUpdates"])
        assert {(u["kind"], u["status"]) for u in got} == {
            ("REQUEST", "ACCEPTED"),
            ("MEETING", "SCHEDULED"),
        }
        ws.send_json({"id": "2", "type": "subscribe",
                      "payload": {"query": "subscription { notificationAdded { id title } }"}})  # fmt: skip
        # The acceptance's own notice (written with it) comes first, having raced this too.
        message = receive_json_within(ws)
        assert message["id"] == "2", message
        accepted_notice = message["payload"]["data"]["notificationAdded"]

        meeting = world_db.meetings.find_one({"requestId": accepted["_id"]})
        cancel = tc.post("/graphql", json={"query": CANCEL, "variables": {"id": meeting["_id"]}},
                         headers={"Authorization": f"Bearer {EMPLOYER}"})  # fmt: skip
        assert cancel.json()["data"]["cancelMeeting"]["status"] == "CANCELLED"
        by_sub: dict[str, list] = {"1": [], "2": []}
        while not (by_sub["1"] and by_sub["2"]):
            message = receive_json_within(ws)
            assert message["type"] == "next", message
            by_sub[message["id"]].append(message["payload"]["data"])
        assert by_sub["1"] == [
            {"meetingUpdates": {"kind": "MEETING", "id": meeting["_id"], "status": "CANCELLED"}}
        ]
        notice = by_sub["2"][0]["notificationAdded"]
        assert notice["id"] != accepted_notice["id"] and "aflyst" in notice["title"].lower()
        ws.send_json({"id": "1", "type": "complete"})
        ws.send_json({"id": "2", "type": "complete"})


# --- offers and postings, as the company manages them -------------------------------------------
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


POSTING_INPUT = {
    "title": "Lagermedarbejder til nathold",
    "description": "Vi søger en lagermedarbejder til plukning og pakning om natten.",
    "postalCode": "8200",
    "weeklyHours": 37,
    "requirements": [{"skill": "truckcertifikat", "required": False}],
}
CREATE_POSTING = """mutation($input: JobPostingInput!) { createJobPosting(input: $input) {
  id title status occupation { id iscoCode } } }"""
JOBS = "{ recommendedJobs(first: 50) { edges { node { posting { id } } } } }"


async def test_postings_are_normalised_indexed_and_leave_on_close_or_expiry(
    client, world_db, app, settings
):
    deadline = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    created = await gql(client, CREATE_POSTING, token=EMPLOYER,
                        variables={"input": POSTING_INPUT | {"deadline": deadline}})  # fmt: skip
    posting = created["data"]["createJobPosting"]
    assert posting["status"] == "OPEN" and posting["occupation"]["iscoCode"][:2] in ("93", "43")
    suggested = await gql(client, JOBS, token=CITIZEN)
    ids = [e["node"]["posting"]["id"] for e in suggested["data"]["recommendedJobs"]["edges"]]
    assert posting["id"] in ids
    closed = await gql(
        client,
        by_id('mutation { closeJobPosting(id: "$ID") { status } }', posting["id"]),
        token=EMPLOYER,
    )
    assert closed["data"]["closeJobPosting"]["status"] == "CLOSED"
    suggested = await gql(client, JOBS, token=CITIZEN)
    assert posting["id"] not in [
        e["node"]["posting"]["id"] for e in suggested["data"]["recommendedJobs"]["edges"]
    ]
    again = await gql(
        client,
        by_id('mutation { closeJobPosting(id: "$ID") { status } }', posting["id"]),
        token=EMPLOYER,
    )
    assert error_codes(again) == ["CONFLICT"]
    # A second posting expires through housekeeping.
    second = await gql(client, CREATE_POSTING, token=EMPLOYER,
                       variables={"input": POSTING_INPUT | {"deadline": deadline}})  # fmt: skip
    pid = second["data"]["createJobPosting"]["id"]
    world_db.postings.update_one(
        {"_id": pid}, {"$set": {"deadline": datetime.now(UTC) - timedelta(minutes=1)}}
    )
    figures = await run_housekeeping(world_db, app, settings)
    assert figures["postings_expired"] >= 1  # the seed has some past their deadline too
    assert world_db.postings.find_one({"_id": pid})["status"] == "EXPIRED"
    assert pid not in app.state.engine.records
    unknown = POSTING_INPUT | {"title": "Qwxz vbnm", "deadline": deadline}
    result = await gql(client, CREATE_POSTING, token=EMPLOYER, variables={"input": unknown})
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["extensions"]["fields"][0]["field"] == "occupationId"


async def test_company_profile(client, world_db):
    mutation = """mutation($input: CompanyInput!) { updateMyCompany(input: $input) { cvr name town size } }"""
    data = {"name": "Ny Logistik ApS", "industry": "Transport", "street": "Havnegade 1",
            "postalCode": "9000", "size": "10-49", "website": "https://ny.example.dk"}  # fmt: skip
    result = await gql(client, mutation, token=OTHER_EMPLOYER, variables={"input": data})
    assert result["data"]["updateMyCompany"] == {"cvr": OTHER_CVR, "name": "Ny Logistik ApS",
                                                 "town": "Aalborg", "size": "10-49"}  # fmt: skip
    bad = await gql(client, mutation, token=OTHER_EMPLOYER,
                    variables={"input": data | {"size": "stor", "postalCode": "12"}})  # fmt: skip
    assert {f["field"] for f in bad["errors"][0]["extensions"]["fields"]} == {"size", "postalCode"}


# --- who may do what ----------------------------------------------------------------------------------
async def test_authorisation_matrix(client, world_db):
    """Each operation against: no token, the wrong role, another company's employer and
    another citizen. Nothing may change along the way."""
    meeting, request = await _meeting(client, world_db)
    pending = a_request(world_db)
    slot = future_slot(world_db, DEMO_OFFER_IDS[0], 2)["_id"]
    owner = token_for(request["citizenId"])
    stranger = token_for(DEMO_CANDIDATE_IDS[7] if request["citizenId"] != DEMO_CANDIDATE_IDS[7]
                         else DEMO_CANDIDATE_IDS[6])  # fmt: skip
    m, r, o = meeting["id"], pending["_id"], DEMO_OFFER_IDS[0]
    cases = [
        # (operation, owner token, wrong-role token, other party of the same role, its answer)
        ("{ swipeDeck(first: 3) { fit } }", CITIZEN, EMPLOYER, None, None),
        (f'mutation {{ swipe(offerId: "{o}", decision: NO) {{ decision }} }}', CITIZEN, EMPLOYER, None, None),
        ("mutation { undoLastSwipe { decision } }", CITIZEN, EMPLOYER, None, None),
        (f'mutation {{ blockCompany(cvr: "{OTHER_CVR}") }}', CITIZEN, EMPLOYER, None, None),
        ("{ myMeetingRequests { id } }", CITIZEN, EMPLOYER, None, None),
        (f'{{ meetingRequests(offerId: "{o}") {{ edges {{ cursor }} }} }}', EMPLOYER, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        # Opening is allowed to the owner but marks the request seen: tested on its own above.
        (f'{{ meetingRequestCandidate(requestId: "{r}") {{ initial }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ acceptMeetingRequest(id: "{r}", slotId: "{slot}") {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ declineMeetingRequest(id: "{r}", reason: OTHER) {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'{{ meeting(id: "{m}") {{ id }} }}', owner, None, stranger, "NOT_FOUND"),
        (f'{{ meeting(id: "{m}") {{ id }} }}', EMPLOYER, None, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ cancelMeeting(id: "{m}") {{ id }} }}', None, None, stranger, "NOT_FOUND"),
        (f'mutation {{ cancelMeeting(id: "{m}") {{ id }} }}', None, None, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ rescheduleMeeting(id: "{m}", slotId: "{slot}") {{ id }} }}', None, None, stranger, "NOT_FOUND"),
        (f'mutation {{ rescheduleMeeting(id: "{m}", slotId: "{slot}") {{ id }} }}', None, None, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ recordMeetingOutcome(id: "{m}", outcome: NO_SHOW) {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        ("{ myOffers { id } }", EMPLOYER, CITIZEN, None, None),
        (f'mutation {{ pauseOffer(id: "{o}") {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ closeOffer(id: "{o}") {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        (f'mutation {{ removeOfferSlot(id: "{o}", slotId: "{slot}") {{ id }} }}', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        ('mutation { createOffer(input: {title: "x", pitch: "y", targetOccupationIds: [], postalCode: "8000"}) { id } }',
         None, CITIZEN, None, None),
        ("{ myJobPostings { id } }", EMPLOYER, CITIZEN, None, None),
        ('mutation { closeJobPosting(id: "demo-opslag-1") { id } }', None, CITIZEN, OTHER_EMPLOYER, "NOT_FOUND"),
        ("{ myCompany { cvr } }", EMPLOYER, CITIZEN, None, None),
    ]  # fmt: skip
    before = {
        n: list(world_db[n].find()) for n in ("meetings", "meeting_requests", "offers", "postings")
    }
    for query, allowed, wrong_role, other, other_code in cases:
        assert error_codes(await gql(client, query)) == ["UNAUTHENTICATED"], query
        if wrong_role:
            assert error_codes(await gql(client, query, token=wrong_role)) == ["FORBIDDEN"], query
        if other:
            assert error_codes(await gql(client, query, token=other)) == [other_code], query
        if allowed and query.startswith("{"):
            assert "errors" not in await gql(client, query, token=allowed), query
    after = {
        n: list(world_db[n].find()) for n in ("meetings", "meeting_requests", "offers", "postings")
    }
    assert after == before


async def test_a_wrong_field_swipe_lowers_that_field_in_job_suggestions(client, world_db):
    query = "{ recommendedJobs(first: 20) { edges { node { score posting { id occupation { iscoCode } } } } } }"
    before = await gql(client, query, token=CITIZEN)
    scores = {e["node"]["posting"]["id"]: (e["node"]["score"], e["node"]["posting"]["occupation"]["iscoCode"])
              for e in before["data"]["recommendedJobs"]["edges"]}  # fmt: skip
    units = set(world_db.offers.find_one({"_id": DEMO_OFFER_IDS[0]})["targetIscoCodes"])
    hit = [pid for pid, (_, unit) in scores.items() if unit in units]
    assert hit, "the demo citizen's suggestions include warehouse jobs"
    await gql(client, SWIPE, token=CITIZEN,
              variables={"offer": DEMO_OFFER_IDS[0], "decision": "NO", "reason": "WRONG_FIELD"})  # fmt: skip
    after = await gql(client, query, token=CITIZEN)
    new = {
        e["node"]["posting"]["id"]: e["node"]["score"]
        for e in after["data"]["recommendedJobs"]["edges"]
    }
    lowered = [pid for pid in hit if pid in new and new[pid] < scores[pid][0]]
    assert lowered and all(pid not in new or new[pid] < scores[pid][0] for pid in hit)
